"""The rules of a decision: allow or deny a purpose for one person, with the reason.

Inputs are the consent in force (personvern.domain.consent.ledger) and what the
person's requests left in force: restriction (Art. 18), objection (Art. 21), withdrawal
of consent (Art. 7(3)) flags, and an erasure being carried out (Art. 17). Precedence,
first that applies wins:

1. objection: absolute for direct marketing (Art. 21(3)); for other purposes, one that
   names the purpose, or names none and the purpose rests on legitimate interests or a
   public task (Art. 21(1));
2. erasure in progress: the data is on its way out, nothing new is done with it;
3. restriction: only storage and legal claims (Art. 18(2));
4. consent withdrawn: the ledger's latest word, or a withdrawal request's flag;
5. consent given (to the current text);
6. the existing-customer exception (markedsføringsloven § 15), where the data map's
   purpose allows it, by e-mail or SMS;
7. stale consent: given to a text that has since changed; ask again;
8. no consent.

A purpose based on a legal obligation is always allowed (reason ``legal_basis``): what
the law requires goes on through a restriction, an objection and an erasure (Art.
17(3)(b)). Any other purpose not based on consent is allowed by its legal basis when
no flag stops it. Marketing purposes (data use ``marketing...``) are conservative: a
flag that names no purpose stops every one of them, whatever its legal basis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from personvern.domain.audit.purpose import CONSENT_WITHDRAWAL, OBJECTION, RESTRICTION
from personvern.domain.consent.ledger import ConsentChannel, ConsentState
from personvern.domain.datamap import DataMap, Purpose
from personvern.domain.legal_basis import LegalBasis
from personvern.domain.taxonomy import Taxonomy, TaxonomyKind

_OBJECTABLE = frozenset({LegalBasis.LEGITIMATE_INTERESTS, LegalBasis.PUBLIC_TASK})
#: The channels the existing-customer exception reaches (§ 15: electronic messages).
EXISTING_CUSTOMER_CHANNELS = frozenset({ConsentChannel.EMAIL, ConsentChannel.SMS})


class DecisionReason(StrEnum):
    """Why a decision allows or denies, in order of precedence."""

    OBJECTION = "objection"
    ERASURE_IN_PROGRESS = "erasure_in_progress"
    RESTRICTION = "restriction"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_GIVEN = "consent_given"
    EXISTING_CUSTOMER = "existing_customer"
    STALE_CONSENT = "stale_consent"
    NO_CONSENT = "no_consent"
    #: Allowed by a legal basis other than consent (contract, legal obligation, ...).
    LEGAL_BASIS = "legal_basis"
    #: The data map does not say the data category is processed for the purpose: doing it
    #: would break purpose limitation (Art. 5(1)(b)), whatever the person said.
    NOT_DECLARED = "not_declared"


_PRECEDENCE = {reason: rank for rank, reason in enumerate(DecisionReason)}


@dataclass(frozen=True)
class Flag:
    """A restriction, objection or withdrawal in force for the person: kind and purpose."""

    kind: str
    #: The purpose it names; None: every purpose it can reach.
    purpose: str | None = None


@dataclass(frozen=True)
class SubjectFacts:
    """What personvern knows of the person besides the ledger."""

    flags: tuple[Flag, ...] = ()
    #: An erasure request for them is verified and not finished.
    erasure_in_progress: bool = False
    #: The caller says they are a customer (for the § 15 exception).
    existing_customer: bool = False


@dataclass(frozen=True)
class Decision:
    """Allow or deny one purpose, and the reason."""

    purpose: str
    allowed: bool
    reason: DecisionReason


def is_marketing(purpose: Purpose) -> bool:
    """Whether ``purpose`` is direct marketing (its data use is ``marketing`` or below it)."""
    return purpose.data_use == "marketing" or purpose.data_use.startswith("marketing.")


def marketing_purposes(datamap: DataMap) -> list[Purpose]:
    """The data map's marketing purposes, in its order."""
    return [p for p in datamap.purposes if is_marketing(p)]


def _flag_reaches(flag: Flag, purpose: Purpose) -> bool:
    if flag.purpose is not None:
        return flag.purpose == purpose.key
    if is_marketing(purpose):
        return True
    if flag.kind == OBJECTION:
        return purpose.legal_basis in _OBJECTABLE
    if flag.kind == CONSENT_WITHDRAWAL:
        return purpose.legal_basis is LegalBasis.CONSENT
    return True


def decide(  # noqa: PLR0911 (one return per rule, in the module doc's order)
    purpose: Purpose,
    state: ConsentState,
    facts: SubjectFacts,
    channel: ConsentChannel | None = None,
) -> Decision:
    """Allow or deny ``purpose`` for the person, by the precedence in this module's doc."""
    marketing = is_marketing(purpose)
    if purpose.legal_basis is LegalBasis.LEGAL_OBLIGATION and not marketing:
        return Decision(purpose.key, True, DecisionReason.LEGAL_BASIS)
    # In order of precedence, the first rule that holds deciding; tested in turn, as a
    # marketing system asks before every message.
    kinds = {flag.kind for flag in facts.flags if _flag_reaches(flag, purpose)}
    if OBJECTION in kinds:
        return Decision(purpose.key, False, DecisionReason.OBJECTION)
    if facts.erasure_in_progress:
        return Decision(purpose.key, False, DecisionReason.ERASURE_IN_PROGRESS)
    if RESTRICTION in kinds:
        return Decision(purpose.key, False, DecisionReason.RESTRICTION)
    if CONSENT_WITHDRAWAL in kinds or state.withdrawn:
        return Decision(purpose.key, False, DecisionReason.CONSENT_WITHDRAWN)
    if state.granted:
        return Decision(purpose.key, True, DecisionReason.CONSENT_GIVEN)
    if (
        purpose.existing_customer_exception
        and facts.existing_customer
        and channel in EXISTING_CUSTOMER_CHANNELS
    ):
        return Decision(purpose.key, True, DecisionReason.EXISTING_CUSTOMER)
    if not marketing and purpose.legal_basis not in {LegalBasis.CONSENT, None}:
        return Decision(purpose.key, True, DecisionReason.LEGAL_BASIS)
    if state.stale:
        return Decision(purpose.key, False, DecisionReason.STALE_CONSENT)
    return Decision(purpose.key, False, DecisionReason.NO_CONSENT)


def declares(datamap: DataMap, taxonomy: Taxonomy, purpose: str, category: str) -> bool:
    """Whether the data map processes ``category`` (or a narrower or broader one) for ``purpose``.

    A field declared ``user.contact.email`` answers for ``user.contact`` and the other
    way round: the question is whether data of that kind is processed for the purpose.
    """
    asked = set(taxonomy.ancestors(TaxonomyKind.DATA_CATEGORY, category))
    for system in datamap.systems:
        for dataset in system.datasets:
            declared = [(f.category, f.purposes) for f in dataset.fields]
            if dataset.files is not None:
                declared.append((dataset.files.content_category, dataset.files.content_purposes))
            for field_category, purposes in declared:
                if field_category is None or purpose not in purposes:
                    continue
                if field_category in asked or category in taxonomy.ancestors(
                    TaxonomyKind.DATA_CATEGORY, field_category
                ):
                    return True
    return False


def combined(decisions: Sequence[Decision]) -> Decision | None:
    """One answer over several purposes: the best allowance, else the strongest denial.

    Marketing may go ahead when any marketing purpose allows it (consent before the
    existing-customer exception); when none does, the reason of highest precedence is
    the one that explains it (an objection over a missing consent). None without any.
    """
    if not decisions:
        return None
    allowed = [d for d in decisions if d.allowed]
    pool: Iterable[Decision] = allowed or decisions
    return min(pool, key=lambda d: _PRECEDENCE[d.reason])
