"""Anchors: signed with a key kept private in the home, and no field can change unnoticed."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from personvern.security.audit_anchor import (
    AnchorError,
    anchor_key,
    make_anchor,
    public_key_text,
    read_anchor,
    signature_holds,
)

AT = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def test_the_key_is_made_once_private_to_personvern_s_user(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = public_key_text(anchor_key(home))
    assert 0o600 == (home / "audit-anchor.key").stat().st_mode & 0o777
    assert first == public_key_text(anchor_key(home))


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    anchor_key(home)
    (home / "audit-anchor.key").chmod(0o644)
    with pytest.raises(AnchorError, match="can be read by other users"):
        anchor_key(home)


@pytest.mark.parametrize(
    "change",
    [{"sequence": 41}, {"hash": "0" * 64}, {"anchored_at": "2026-12-03T18:00:00.000000Z"}],
)
def test_an_anchor_holds_as_printed_and_not_once_changed(
    tmp_path: Path, change: dict[str, object]
) -> None:
    home = tmp_path / "home"
    anchor = make_anchor(home, 42, "ab" * 32, AT)
    printed = read_anchor(json.dumps(anchor.to_json()))
    assert signature_holds(printed, anchor.public_key)
    assert not signature_holds(dataclasses.replace(printed, **change), anchor.public_key)  # type: ignore[arg-type]


def test_another_installation_s_key_does_not_vouch_for_it(tmp_path: Path) -> None:
    anchor = make_anchor(tmp_path / "one", 1, "ab" * 32, AT)
    other = public_key_text(anchor_key(tmp_path / "two"))
    assert not signature_holds(anchor, other)


def test_text_that_is_no_anchor_is_refused() -> None:
    with pytest.raises(AnchorError, match="not an audit anchor"):
        read_anchor('{"sequence": 1}')
