"""Staff account rules: user names, the password policy and when an account locks."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.roles import Role
from personvern.domain.staff_accounts import (
    PASSWORD_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    AccountLockedError,
    FailedSignIns,
    InvalidUsernameError,
    LockoutPolicy,
    StaffRoleError,
    WeakPasswordError,
    after_failure,
    check_password,
    normalize_password,
    parse_username,
    staff_role,
)
from personvern.errors import ErrorKind

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(attempts=5, window=timedelta(minutes=15))
CANONICAL = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("dpo", "dpo"),
        ("Kari.Nordmann", "kari.nordmann"),
        ("  ola_n  ", "ola_n"),
        ("kari@example.no", "kari@example.no"),
        ("a-b", "a-b"),
        ("007", "007"),
        # Full-width letters (an East Asian keyboard) are the same name.
        ("ｋａｒｉ", "kari"),
        # The Kelvin sign is a K.
        ("\u212aari", "kari"),
        ("x" * USERNAME_MAX_LENGTH, "x" * USERNAME_MAX_LENGTH),
    ],
)
def test_user_names_are_stored_in_one_canonical_form(typed: str, stored: str) -> None:
    assert stored == parse_username(typed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "a user name is needed"),
        ("   ", "a user name is needed"),
        ("ab", "at least 3 characters"),
        ("x" * (USERNAME_MAX_LENGTH + 1), "at most 64 characters"),
        ("x" * 10_000, "at most 64 characters"),
        ("kari nordmann", "'kari nordmann' is not a valid user name"),
        ("-rf", "'-rf' is not a valid user name"),
        (".kari", "is not a valid user name"),
        ("kåre", "'k\\u00e5re' is not a valid user name"),
        ("kari;drop", "is not a valid user name"),
        ("dpo\x00", "control or invisible characters (found U+0000)"),
        ("dpo\n", "control or invisible characters (found U+000A)"),
        ("\x1b[31mdpo", "(found U+001B)"),
        ("d\u200bpo", "(found U+200B)"),
        ("dpo\u202e", "(found U+202E)"),
        ("dpo\u2028", "(found U+2028)"),
    ],
)
def test_bad_user_names_are_refused_with_the_rule(typed: str, message: str) -> None:
    with pytest.raises(InvalidUsernameError) as caught:
        parse_username(typed)
    assert message in caught.value.message
    assert ErrorKind.INVALID == caught.value.kind
    assert caught.value.hint is not None
    assert "lower-case letters" in caught.value.hint


@given(st.text(max_size=300))
def test_any_text_is_a_canonical_user_name_or_a_clear_refusal(typed: str) -> None:
    try:
        name = parse_username(typed)
    except InvalidUsernameError as exc:
        refusal = exc.message
    else:
        assert CANONICAL.fullmatch(name)
        assert name == parse_username(name)
        assert name == parse_username(name.upper())
        return
    # One line a terminal or a log shows as written, whatever was typed.
    assert refusal
    assert refusal.isprintable()


@given(st.text(alphabet=string.ascii_lowercase + string.digits + "._@-", min_size=2, max_size=63))
def test_every_name_the_rule_allows_is_accepted_as_it_is(tail: str) -> None:
    name = "k" + tail
    assert name == parse_username(name)
    assert name == parse_username(f" {name.upper()}\t".strip())


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-one", "the password has 9 characters; at least 12 are needed"),
        ("", "the password has 0 characters"),
        ("x" * (PASSWORD_MAX_LENGTH + 1), "longer than 1024 characters"),
        ("my-dpo-password-2026", "contains the user name"),
        ("MY-DPO-PASSWORD-2026", "contains the user name"),
        ("aaaaaaaaaaaaaaaa", "too few characters"),
        ("121212121212121212", "too few characters"),
        ("correct horse\nbattery", "control character"),
        ("correct horse\x00battery", "control character"),
        ("correct horse \ud800 battery", "broken character"),
    ],
)
def test_weak_passwords_are_refused_with_a_hint(password: str, message: str) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_password(password, username="dpo")
    assert message in caught.value.message
    assert ErrorKind.INVALID == caught.value.kind
    assert caught.value.hint is not None
    assert "at least 12 characters" in caught.value.hint
    # The refusal never repeats the password.
    assert password not in str(caught.value) or not password


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Tr0ub4dor&3xyz",
        "blåbærsyltetøy på vaffel",
        "x" * 4 + "y" * 4 + "abc12",
        "p" * (PASSWORD_MAX_LENGTH - 4) + "qrst",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    check_password(password, username="dpo")


def test_passwords_are_compared_in_one_normal_form() -> None:
    composed, decomposed = "blåbær-syltetøy", "bla\u030abær-syltetøy"
    assert composed != decomposed
    assert normalize_password(composed) == normalize_password(decomposed)


def test_a_system_role_is_not_for_staff_accounts() -> None:
    assert Role.PRIVACY_OFFICER == staff_role(Role.PRIVACY_OFFICER)
    with pytest.raises(StaffRoleError) as caught:
        staff_role(Role.MARKETING_SYSTEM)
    assert "role of a system" in caught.value.message
    assert caught.value.hint is not None
    assert "personvern token create" in caught.value.hint


def _fail(times: int, record: FailedSignIns, start: datetime, every: timedelta) -> FailedSignIns:
    for n in range(times):
        record = after_failure(POLICY, record, start + n * every)
    return record


def test_the_fifth_failure_in_a_row_locks_for_the_window() -> None:
    four = _fail(4, FailedSignIns(), T0, timedelta(minutes=1))
    assert (4, None) == (four.count, four.locked_until)
    five = after_failure(POLICY, four, T0 + timedelta(minutes=4))
    assert T0 + timedelta(minutes=19) == five.locked_until
    assert five.locked_at(T0 + timedelta(minutes=18, seconds=59))
    assert not five.locked_at(T0 + timedelta(minutes=19))


def test_failures_further_apart_than_the_window_never_lock() -> None:
    record = _fail(50, FailedSignIns(), T0, timedelta(minutes=15))
    assert (1, None) == (record.count, record.locked_until)


def test_attempts_on_a_locked_account_neither_count_nor_lengthen_the_lock() -> None:
    locked = _fail(5, FailedSignIns(), T0, timedelta(seconds=10))
    again = after_failure(POLICY, locked, T0 + timedelta(minutes=5))
    assert locked == again


def test_after_a_lock_ends_the_count_starts_again() -> None:
    locked = _fail(5, FailedSignIns(), T0, timedelta(seconds=10))
    assert locked.locked_until is not None
    after = after_failure(POLICY, locked, locked.locked_until)
    assert (1, None) == (after.count, after.locked_until)


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (3, 60), (10, 5)])
def test_the_policy_counts_what_the_settings_say(attempts: int, minutes: int) -> None:
    policy = LockoutPolicy(attempts=attempts, window=timedelta(minutes=minutes))
    record = FailedSignIns()
    for n in range(attempts):
        assert not record.locked_at(T0 + timedelta(seconds=n))
        record = after_failure(policy, record, T0 + timedelta(seconds=n))
    assert record.locked_until == T0 + timedelta(seconds=attempts - 1, minutes=minutes)


@pytest.mark.parametrize(
    ("attempts", "window"), [(0, timedelta(minutes=1)), (5, timedelta(0)), (5, -timedelta(1))]
)
def test_a_policy_that_could_not_work_is_refused(attempts: int, window: timedelta) -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        LockoutPolicy(attempts=attempts, window=window)


def test_a_lock_says_until_when_and_how_long_to_wait() -> None:
    error = AccountLockedError(T0 + timedelta(minutes=14, seconds=30), T0)
    assert ErrorKind.TOO_MANY == error.kind
    assert "try again after 09:14 UTC or ask an admin to unlock it" == error.hint
    assert 14 * 60 + 30 == error.retry_after
    assert 1 == AccountLockedError(T0 + timedelta(milliseconds=5), T0).retry_after
