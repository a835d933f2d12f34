"""The rules of personvern's own records: defaults grounded in law, periods from settings."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.retention.own_records import DEFAULT_PERIODS, OWN_SYSTEM, own_record_rules
from personvern.settings import SettingsError, load_settings


def test_defaults_and_order_children_first() -> None:
    rules = own_record_rules()
    assert [
        ("own-download-links", "download_links", "P0D"),
        ("own-unverified-requests", "data_subject_requests", "P30D"),
        ("own-requests", "data_subject_requests", "P3Y"),
        ("own-consent-proofs", "consent_records", "P3Y"),
        ("own-web-events", "web_events", "P13M"),
        ("own-audit-events", "audit_events", "P5Y"),
    ] == [(r.key, r.table, r.period) for r in rules]
    assert {f"{OWN_SYSTEM}.{r.table}" for r in rules} == {r.target for r in rules}
    assert {r.key: r.period for r in rules} == DEFAULT_PERIODS


@pytest.mark.parametrize(
    ("key", "today", "last_due"),
    [
        # A link that expired yesterday is due today; one expiring today is kept.
        ("own-download-links", date(2026, 6, 15), date(2026, 6, 14)),
        # Closed on 14 June 2023: kept through 14 June 2026, due from the 15th.
        ("own-requests", date(2026, 6, 15), date(2023, 6, 14)),
        # 13 months, clamped at month end like the data map's rules.
        ("own-web-events", date(2026, 3, 31), date(2025, 2, 28)),
    ],
)
def test_due_days_are_counted_like_the_data_map_s(key: str, today: date, last_due: date) -> None:
    rule = next(r for r in own_record_rules() if r.key == key)
    assert last_due == rule.last_due_day(today)


def test_settings_give_the_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONVERN_RETENTION_OWN_WEB_EVENTS", "P6M")
    monkeypatch.setenv("PERSONVERN_UNVERIFIED_RETENTION_DAYS", "14")
    periods = load_settings().own_retention_periods()
    rules = {r.key: r.period for r in own_record_rules(periods)}
    assert ("P6M", "P14D", "P3Y") == (
        rules["own-web-events"],
        rules["own-unverified-requests"],
        rules["own-requests"],
    )


@pytest.mark.parametrize("value", ["13 months", "P", "P1H", "-P1Y"])
def test_a_period_that_is_no_iso_duration_stops_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PERSONVERN_RETENTION_OWN_AUDIT_EVENTS", value)
    with pytest.raises(SettingsError, match="PERSONVERN_RETENTION_OWN_AUDIT_EVENTS"):
        load_settings()
