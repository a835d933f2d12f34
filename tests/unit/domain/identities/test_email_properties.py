"""Properties of the canonical e-mail form, over arbitrary text (Hypothesis)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.identities.email import canonical_email, canonical_email_or_none
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.text_input import UnsafeTextError, refuse_control_characters

#: Addresses people type: letters from several scripts, digits, dots, case, and the
#: lookalikes the canonical form must keep apart.
_PIECES = [*"abcKIiø.-_+ſıｋé", "\u212a", "e\u0301", "A", "Z", "0"]
_LOCAL = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=20).map("".join)
_DOMAIN = st.sampled_from(["example.no", "EXAMPLE.NO", "bø.no", "xn--b-5ga.no", "ex.co.uk"])


@given(st.text(max_size=300))
def test_arbitrary_text_is_either_an_address_or_refused_clearly(text: str) -> None:
    try:
        canonical = canonical_email(text)
    except InvalidIdentityError:
        assert canonical_email_or_none(text) is None
        return
    assert canonical == canonical_email(canonical)
    assert canonical == canonical_email_or_none(text)


@given(_LOCAL, _DOMAIN)
def test_the_canonical_form_is_stable_and_nfc(local: str, domain: str) -> None:
    try:
        canonical = canonical_email(f"{local}@{domain}")
    except InvalidIdentityError:
        return
    assert canonical == canonical_email(canonical)
    assert unicodedata.is_normalized("NFC", canonical)
    assert "\u212a" not in canonical


@given(_LOCAL.filter(lambda s: not s.isascii()), _DOMAIN)
def test_a_non_ascii_local_part_is_never_case_folded(local: str, domain: str) -> None:
    try:
        canonical = canonical_email(f"{local}@{domain}")
    except InvalidIdentityError:
        return
    assert unicodedata.normalize("NFC", local) == canonical.partition("@")[0]


@given(st.text(max_size=200), st.booleans())
def test_refused_text_says_why_and_accepted_text_holds_no_control(text: str, lines: bool) -> None:
    refused: UnsafeTextError | None = None
    try:
        accepted = refuse_control_characters(text, "the note", allow_newlines=lines)
    except UnsafeTextError as exc:
        refused = exc
    if refused is not None:
        assert refused.message.startswith("the note contains ")
        return
    allowed = {"\n", "\t", "\r"} if lines else set()
    assert all(unicodedata.category(ch) != "Cc" or ch in allowed for ch in accepted), repr(accepted)
