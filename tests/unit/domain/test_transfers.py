"""Transfer rules: EEA, adequacy decisions with their dates, and the other tools."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.transfers import (
    TransferMechanism,
    adequacy_for,
    assess_transfer,
    is_third_country,
)

DAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("country", "third"),
    [
        ("NO", False),
        ("IS", False),
        ("LI", False),
        ("SE", False),
        ("DE", False),
        ("GB", True),
        ("CH", True),
        ("US", True),
        ("IN", True),
    ],
)
def test_eea_membership(country: str, third: bool) -> None:
    assert third == is_third_country(country)


@pytest.mark.parametrize(
    ("country", "mechanism", "dpf", "on", "lawful"),
    [
        ("SE", None, False, DAY, True),
        ("IN", None, False, DAY, False),
        ("IN", TransferMechanism.SCC_MODULE_2, False, DAY, True),
        ("IN", TransferMechanism.ADEQUACY, False, DAY, False),
        ("GB", TransferMechanism.ADEQUACY, False, DAY, True),
        ("GB", TransferMechanism.ADEQUACY, False, date(2031, 12, 27), True),
        ("GB", TransferMechanism.ADEQUACY, False, date(2031, 12, 28), False),
        ("US", TransferMechanism.ADEQUACY, False, DAY, False),
        ("US", TransferMechanism.ADEQUACY, True, DAY, True),
        ("US", TransferMechanism.ADEQUACY, True, date(2023, 7, 9), False),
        ("BR", TransferMechanism.ADEQUACY, False, DAY, True),
        ("BR", TransferMechanism.ADEQUACY, False, date(2025, 12, 31), False),
        ("US", TransferMechanism.EEA, False, DAY, False),
        ("US", TransferMechanism.BCR, False, DAY, True),
        ("JP", None, False, DAY, False),
    ],
)
def test_assess_transfer(
    country: str, mechanism: TransferMechanism | None, dpf: bool, on: date, lawful: bool
) -> None:
    assert lawful == assess_transfer(country, mechanism, on, dpf_certified=dpf).lawful


def test_missing_mechanism_hints_at_existing_adequacy() -> None:
    reason = assess_transfer("JP", None, DAY).reason
    assert (
        "JP is outside the EEA and no transfer mechanism is declared; Japan has an adequacy "
        "decision, so declare transfer: adequacy"
    ) == reason


def test_adequacy_lookup_names_the_decision() -> None:
    decision = adequacy_for("CH", DAY)
    assert decision is not None
    assert "Switzerland" == decision.name
    assert adequacy_for("CN", DAY) is None


def test_mechanisms_have_text_in_both_languages() -> None:
    for mechanism in TransferMechanism:
        assert mechanism.describe("nb") != mechanism.describe("en")
