"""Four eyes on erasure and rectification: when a second person must approve a plan.

An erasure cannot be undone, and a rectification can redirect a person's data: one
that changes the e-mail address on file hands the next access answer to whoever owns
the new address. When one member of staff both vouches for who the subject is and
runs such a request, nobody checks either. The rule: under the default policy, an
erasure or rectification whose identity staff verified themselves (rather than the
subject proving their address with a mailed code) runs only once someone else has
approved its plan. A company may require approval of every one, or switch it off.
"""

from __future__ import annotations

from enum import StrEnum

from personvern.domain.errors import DomainError
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType, VerificationMethod
from personvern.errors import ErrorKind


class FourEyesPolicy(StrEnum):
    """Which erasures and rectifications need a second person's approval."""

    OFF = "off"
    #: Erasures and rectifications whose identity was verified by staff (the default).
    STAFF_VERIFIED = "staff_verified"
    ALL = "all"


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

    kind = ErrorKind.CONFLICT
    title = "Approval needed"


class SelfApprovalError(ApprovalError):
    """Whoever filed or verified a request cannot also approve it."""

    kind = ErrorKind.FORBIDDEN
    title = "Approval by someone else needed"


def needs_approval(
    policy: FourEyesPolicy, request_type: RequestType, verification: VerificationMethod | None
) -> bool:
    """Whether a request of ``request_type`` verified by ``verification`` waits for approval."""
    if not handler_for(request_type).four_eyes or policy is FourEyesPolicy.OFF:
        return False
    return policy is FourEyesPolicy.ALL or verification in STAFF_VERIFICATIONS


def check_approver(approver: str, *, filed_by: str, verified_by: str | None) -> None:
    """Raise SelfApprovalError unless ``approver`` is neither the filer nor the verifier."""
    involved = {filed_by, verified_by} - {None}
    if approver in involved:
        raise SelfApprovalError(
            f"{approver} filed or verified this request and cannot also approve it",
            hint="another member of staff with requests:write must approve it",
        )
