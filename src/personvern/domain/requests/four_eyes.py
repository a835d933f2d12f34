"""Four eyes on erasure: when a second person must approve a plan before it runs.

An erasure cannot be undone. When one member of staff both vouches for who the
subject is and runs the erasure, nobody checks either; a mistaken or malicious
identification then destroys someone else's data. The rule: under the default policy,
an erasure whose identity staff verified themselves (rather than the subject proving
their address with a mailed code) runs only once someone else has approved its plan.
A company may require approval of every erasure, or switch it off.
"""

from __future__ import annotations

from enum import StrEnum

from personvern.domain.errors import DomainError
from personvern.domain.requests.lifecycle import RequestType, VerificationMethod


class FourEyesPolicy(StrEnum):
    """Which erasures need a second person's approval."""

    OFF = "off"
    #: Erasures whose identity was verified by staff (the default).
    STAFF_VERIFIED = "staff_verified"
    ALL_ERASURES = "all_erasures"


#: Verifications staff record themselves: the ones a second person must look at.
STAFF_VERIFICATIONS = frozenset(
    {
        VerificationMethod.STAFF_IN_PERSON,
        VerificationMethod.STAFF_KNOWN_CONTACT,
        VerificationMethod.STAFF_ID_DOCUMENT,
    }
)


class ApprovalError(DomainError):
    """An approval that the four-eyes rule does not allow, or one that is missing."""

    http_status = 409
    title = "Approval needed"


class SelfApprovalError(ApprovalError):
    """Whoever filed or verified a request cannot also approve it."""

    http_status = 403
    title = "Approval by someone else needed"


def needs_approval(
    policy: FourEyesPolicy, request_type: RequestType, verification: VerificationMethod | None
) -> bool:
    """Whether a request of ``request_type`` verified by ``verification`` waits for approval."""
    if request_type is not RequestType.ERASURE or policy is FourEyesPolicy.OFF:
        return False
    return policy is FourEyesPolicy.ALL_ERASURES or verification in STAFF_VERIFICATIONS


def check_approver(approver: str, *, filed_by: str, verified_by: str | None) -> None:
    """Raise SelfApprovalError unless ``approver`` is neither the filer nor the verifier."""
    involved = {filed_by, verified_by} - {None}
    if approver in involved:
        raise SelfApprovalError(
            f"{approver} filed or verified this request and cannot also approve its erasure",
            hint="another member of staff with requests:write must approve it",
        )
