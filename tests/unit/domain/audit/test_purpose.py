"""Purpose-bound reads: the purpose must be declared, and the subject's flags are honoured."""

from __future__ import annotations

import pytest

from personvern.domain.audit.purpose import (
    FlagInForce,
    PurposeError,
    PurposeForbiddenError,
    check_flags,
    check_purpose,
    forbidding_flag,
)
from tests.unit.domain.sample_datamap import sample_datamap

RESTRICTED = FlagInForce("restriction", None)
OBJECTED_ALL = FlagInForce("objection", None)
OBJECTED_SECURITY = FlagInForce("objection", "security")
WITHDRAWN_ALL = FlagInForce("consent_withdrawal", None)
WITHDRAWN_NEWSLETTER = FlagInForce("consent_withdrawal", "newsletter")


@pytest.mark.parametrize(
    ("purpose", "flags", "forbidden"),
    [
        ("contract", [], False),
        ("contract", [RESTRICTED], True),
        ("bookkeeping", [RESTRICTED, OBJECTED_ALL, WITHDRAWN_ALL], False),
        ("call_quality", [OBJECTED_ALL], True),
        ("contract", [OBJECTED_ALL], False),
        ("security", [OBJECTED_SECURITY], True),
        ("call_quality", [OBJECTED_SECURITY], False),
        ("newsletter", [WITHDRAWN_ALL], True),
        ("contract", [WITHDRAWN_ALL], False),
        ("newsletter", [WITHDRAWN_NEWSLETTER], True),
        ("call_quality", [WITHDRAWN_NEWSLETTER], False),
    ],
)
def test_flags_forbid_exactly_these_purposes(
    purpose: str, flags: list[FlagInForce], forbidden: bool
) -> None:
    assert forbidden == (forbidding_flag(sample_datamap(), purpose, flags) is not None)


def test_a_forbidden_read_names_the_article_and_the_purposes_still_allowed() -> None:
    with pytest.raises(PurposeForbiddenError, match=r"Art\. 18") as raised:
        check_flags(sample_datamap(), "contract", [RESTRICTED])
    assert "bookkeeping" in (raised.value.hint or "")


@pytest.mark.parametrize("purpose", [None, "", "  ", "selling_data"])
def test_a_missing_or_unknown_purpose_is_refused_with_the_valid_ones(purpose: str | None) -> None:
    with pytest.raises(PurposeError) as raised:
        check_purpose(sample_datamap(), purpose)
    assert "bookkeeping, call_quality, contract, newsletter, security" in (raised.value.hint or "")


def test_a_declared_purpose_is_accepted() -> None:
    assert "contract" == check_purpose(sample_datamap(), " contract ")
