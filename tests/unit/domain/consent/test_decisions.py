"""The decision rules as a table of cases: every reason, and the precedence between them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personvern.domain.consent.ledger import (
    ConsentAction,
    ConsentChannel,
    ConsentRecord,
    ConsentSource,
    current_state,
    text_version,
)
from personvern.domain.datamap import IdentityKind, Purpose
from personvern.domain.decisions.rules import (
    Decision,
    DecisionReason,
    Flag,
    SubjectFacts,
    combined,
    decide,
    declares,
)
from personvern.domain.legal_basis import LegalBasis

R = DecisionReason
E = ConsentChannel.EMAIL
T0 = datetime(2026, 1, 1, tzinfo=UTC)

NEWS = Purpose(
    key="news",
    name={"en": "News"},
    description={"en": "Newsletter"},
    data_use="marketing.communications.email",
    legal_basis=LegalBasis.CONSENT,
    consent={"en": "Yes, send me newsletters."},
)
CUSTOMERS = Purpose(
    key="customers",
    name={"en": "Offers to customers"},
    description={"en": "Offers of similar services"},
    data_use="marketing.communications.email",
    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
    existing_customer_exception=True,
)
ANALYTICS = Purpose(
    key="analytics",
    name={"en": "Analytics"},
    description={"en": "Analytics"},
    data_use="functional.service.improve",
    legal_basis=LegalBasis.CONSENT,
    consent={"en": "I allow analytics."},
)
SUPPORT = Purpose(
    key="support",
    name={"en": "Support"},
    description={"en": "Support"},
    data_use="essential.service.operations.support",
    legal_basis=LegalBasis.CONTRACT,
)
QUALITY = Purpose(
    key="quality",
    name={"en": "Quality"},
    description={"en": "Call quality"},
    data_use="essential.service.operations.improve",
    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
)
PROFILING = Purpose(
    key="profiling",
    name={"en": "Profiling"},
    description={"en": "Segments for campaigns"},
    data_use="marketing.advertising.profiling",
    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
)
BOOKS = Purpose(
    key="books",
    name={"en": "Bookkeeping"},
    description={"en": "Bookkeeping"},
    data_use="essential.legal_obligation",
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
)

GIVEN = "given"
WITHDRAWN = "withdrawn"
STALE = "stale"
NONE = "none"

OBJ = Flag("objection")
RES = Flag("restriction")
WD = Flag("consent_withdrawal")


def ledger(purpose: Purpose, word: str) -> list[ConsentRecord]:
    if word == NONE:
        return []
    action = ConsentAction.WITHDRAWN if word == WITHDRAWN else ConsentAction.GRANTED
    text = "an older text" if word == STALE else next(iter((purpose.consent or {"x": ""}).values()))
    return [
        ConsentRecord(
            IdentityKind.EMAIL,
            "h" * 64,
            purpose.key,
            action,
            T0,
            ConsentSource.API,
            text_version=text_version(text) if action is ConsentAction.GRANTED else None,
        )
    ]


# purpose, ledger word, flags, erasure in progress, customer, channel -> allowed, reason
CASES: list[tuple[Purpose, str, tuple[Flag, ...], bool, bool, ConsentChannel | None, bool, R]] = [
    # Consent alone.
    (NEWS, NONE, (), False, False, E, False, R.NO_CONSENT),
    (NEWS, GIVEN, (), False, False, E, True, R.CONSENT_GIVEN),
    (NEWS, WITHDRAWN, (), False, False, E, False, R.CONSENT_WITHDRAWN),
    (NEWS, STALE, (), False, False, E, False, R.STALE_CONSENT),
    # The precedence, from the top: objection beats everything.
    (NEWS, GIVEN, (OBJ, RES), True, True, E, False, R.OBJECTION),
    (NEWS, GIVEN, (Flag("objection", "news"),), False, False, E, False, R.OBJECTION),
    (NEWS, GIVEN, (Flag("objection", "other"),), False, False, E, True, R.CONSENT_GIVEN),
    (NEWS, GIVEN, (RES,), True, False, E, False, R.ERASURE_IN_PROGRESS),
    (NEWS, GIVEN, (RES, WD), False, False, E, False, R.RESTRICTION),
    (NEWS, GIVEN, (WD,), False, False, E, False, R.CONSENT_WITHDRAWN),
    (NEWS, GIVEN, (Flag("consent_withdrawal", "other"),), False, False, E, True, R.CONSENT_GIVEN),
    # The existing-customer exception: only where the purpose allows it, by e-mail or SMS.
    (CUSTOMERS, NONE, (), False, True, E, True, R.EXISTING_CUSTOMER),
    (CUSTOMERS, NONE, (), False, True, ConsentChannel.SMS, True, R.EXISTING_CUSTOMER),
    (CUSTOMERS, NONE, (), False, True, ConsentChannel.PHONE, False, R.NO_CONSENT),
    (CUSTOMERS, NONE, (), False, False, E, False, R.NO_CONSENT),
    (CUSTOMERS, WITHDRAWN, (), False, True, E, False, R.CONSENT_WITHDRAWN),
    (CUSTOMERS, NONE, (OBJ,), False, True, E, False, R.OBJECTION),
    (CUSTOMERS, NONE, (WD,), False, True, E, False, R.CONSENT_WITHDRAWN),
    (NEWS, NONE, (), False, True, E, False, R.NO_CONSENT),
    # Other purposes: consent-based ones like marketing, others by their legal basis.
    (ANALYTICS, GIVEN, (), False, False, None, True, R.CONSENT_GIVEN),
    (ANALYTICS, GIVEN, (OBJ,), False, False, None, True, R.CONSENT_GIVEN),
    (ANALYTICS, GIVEN, (WD,), False, False, None, False, R.CONSENT_WITHDRAWN),
    (ANALYTICS, STALE, (), False, False, None, False, R.STALE_CONSENT),
    (SUPPORT, NONE, (), False, False, None, True, R.LEGAL_BASIS),
    (SUPPORT, NONE, (OBJ, WD), False, False, None, True, R.LEGAL_BASIS),
    (SUPPORT, NONE, (Flag("objection", "support"),), False, False, None, False, R.OBJECTION),
    (SUPPORT, NONE, (RES,), False, False, None, False, R.RESTRICTION),
    (SUPPORT, NONE, (), True, False, None, False, R.ERASURE_IN_PROGRESS),
    (QUALITY, NONE, (OBJ,), False, False, None, False, R.OBJECTION),
    (BOOKS, NONE, (OBJ, RES, WD), True, False, None, True, R.LEGAL_BASIS),
    # Profiling for marketing is marketing: an objection stops it too (Art. 21(3)), and
    # legitimate interests alone never allow it.
    (PROFILING, NONE, (OBJ,), False, False, None, False, R.OBJECTION),
    (PROFILING, NONE, (), False, True, None, False, R.NO_CONSENT),
]


@pytest.mark.parametrize(
    ("purpose", "word", "flags", "erasing", "customer", "channel", "allowed", "reason"), CASES
)
def test_decision_table(
    purpose: Purpose,
    word: str,
    flags: tuple[Flag, ...],
    erasing: bool,
    customer: bool,
    channel: ConsentChannel | None,
    allowed: bool,
    reason: R,
) -> None:
    state = current_state(ledger(purpose, word), purpose, channel)
    facts = SubjectFacts(flags=flags, erasure_in_progress=erasing, existing_customer=customer)
    assert Decision(purpose.key, allowed, reason) == decide(purpose, state, facts, channel)


def test_every_reason_is_reached_by_the_table() -> None:
    # not_declared is the data map's answer, before any rule (test_declares below).
    assert set(R) - {R.NOT_DECLARED} == {case[-1] for case in CASES}


@pytest.mark.parametrize(
    ("purpose", "category", "declared"),
    [
        ("newsletter", "user.contact.email", True),
        # Broader and narrower categories answer for each other.
        ("newsletter", "user.contact", True),
        ("contract", "user.government_id", True),
        ("newsletter", "user.government_id", False),
        ("newsletter", "user.financial", False),
        ("contract", "user.contact.email", True),
        ("nope", "user.contact.email", False),
    ],
)
def test_declares(purpose: str, category: str, declared: bool) -> None:
    from personvern.domain.policy_lint import effective_taxonomy
    from personvern.domain.taxonomy import fides_taxonomy
    from tests.unit.domain.sample_datamap import sample_datamap

    datamap = sample_datamap()
    taxonomy = effective_taxonomy(datamap, fides_taxonomy())
    assert declared == declares(datamap, taxonomy, purpose, category)


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], None),
        (
            [Decision("a", False, R.NO_CONSENT), Decision("b", True, R.EXISTING_CUSTOMER)],
            Decision("b", True, R.EXISTING_CUSTOMER),
        ),
        (
            [Decision("a", True, R.EXISTING_CUSTOMER), Decision("b", True, R.CONSENT_GIVEN)],
            Decision("b", True, R.CONSENT_GIVEN),
        ),
        (
            [Decision("a", False, R.NO_CONSENT), Decision("b", False, R.CONSENT_WITHDRAWN)],
            Decision("b", False, R.CONSENT_WITHDRAWN),
        ),
    ],
)
def test_combined_prefers_an_allowance_then_the_strongest_denial(
    decisions: list[Decision], expected: Decision | None
) -> None:
    assert expected == combined(decisions)
