"""Local staff accounts on SQLite, PostgreSQL and MariaDB: sign-in, lockout, rehash, disable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from personvern.domain.audit.event import AuditActor
from personvern.domain.roles import Role
from personvern.domain.staff_accounts import (
    AccountLockedError,
    DuplicateAccountError,
    InvalidUsernameError,
    StaffRoleError,
    UnknownAccountError,
    WeakPasswordError,
)
from personvern.security import staff_accounts as accounts
from personvern.security.errors import AuthError, LocalAccountsOffError
from personvern.security.staff_accounts import (
    PASSWORD_HASHER,
    SIGN_IN_REFUSED,
    create_account,
    disable_account,
    list_accounts,
    local_accounts_enabled,
    reset_password,
    sign_in_with_password,
    unlock_account,
)
from personvern.security.staff_sessions import SessionLifetime, open_session, session_principal
from personvern.settings import Settings
from personvern.store.audit_events import AuditTrail
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.staff_accounts import StaffAccount

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ADMIN = AuditActor("cli:root", via="cli")
LIFETIME = SessionLifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=8))


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a freshly migrated store of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'personvern.db'}"
    else:
        url = request.getfixturevalue(
            f"{'postgres' if request.param == 'postgresql' else 'mariadb'}_url"
        )
    upgrade_to_head(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        datamap=None,
        auto_migrate=None,
        staff_lockout_attempts=3,
        staff_lockout_minutes=15,
    )


def _create(session: Session, name: str = "dpo", password: str | None = PASSWORD) -> None:
    create_account(session, name, Role.PRIVACY_OFFICER, password, created_by="cli:root", now=T0)
    session.commit()


def _sign_in(
    session: Session, settings: Settings, name: str, password: str, minutes: float = 1
) -> object:
    return sign_in_with_password(
        session,
        name,
        password,
        settings=settings,
        client="client-hash",
        now=T0 + timedelta(minutes=minutes),
    )


def _row(session: Session, name: str = "dpo") -> StaffAccount:
    session.expire_all()
    row = session.scalar(sa.select(StaffAccount).where(StaffAccount.username == name))
    assert row is not None
    return row


def _actions(session: Session) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (row.action, row.outcome, dict(row.detail)) for row in AuditTrail(session).page(limit=1000)
    ]


def test_an_account_signs_in_with_its_password_and_only_a_hash_is_kept(
    session: Session, settings: Settings
) -> None:
    _create(session, "Kari.Nordmann")
    principal = _sign_in(session, settings, "kari.nordmann", PASSWORD)
    session.commit()
    assert ("local:kari.nordmann", Role.PRIVACY_OFFICER, "password", "kari.nordmann") == (
        principal.subject,  # type: ignore[attr-defined]
        principal.role,  # type: ignore[attr-defined]
        principal.via,  # type: ignore[attr-defined]
        principal.display_name,  # type: ignore[attr-defined]
    )
    stored = session.execute(sa.select(StaffAccount.__table__)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert all(PASSWORD not in str(value) for value in stored)
    assert (T0 + timedelta(minutes=1), 0) == (stored.last_sign_in_at, stored.failed_attempts)
    # The same password typed in another Unicode form still matches.
    _create(session, "ola", "blåbær-syltetøy")
    assert _sign_in(session, settings, "OLA", "bla\u030abær-syltetøy")
    trail = _actions(session)
    assert ("staff_account.created", "success") == trail[0][:2]
    assert {"account": "local:kari.nordmann", "role": "privacy_officer", "password": "given"} == (
        trail[0][2]
    )
    assert ("login.succeeded", "success") == trail[1][:2]
    assert PASSWORD not in repr(trail)


def test_unknown_user_wrong_password_and_disabled_account_get_the_same_answer(
    session: Session, settings: Settings
) -> None:
    _create(session)
    _create(session, "gone")
    disable_account(session, "gone", actor=ADMIN, now=T0)
    session.commit()
    settings = settings.model_copy(update={"staff_lockout_attempts": 10})
    refusals = []
    for name, password in [
        ("nobody", PASSWORD),
        ("dpo", "not the password at all"),
        ("gone", PASSWORD),
        ("bad name!", PASSWORD),
        ("dpo", "x" * 5000),
        ("dpo", "lone \ud800 surrogate"),
    ]:
        with pytest.raises(AuthError) as caught:
            _sign_in(session, settings, name, password)
        refusals.append((type(caught.value), str(caught.value)))
    assert {(AuthError, f"{SIGN_IN_REFUSED} ({accounts.SIGN_IN_HINT})")} == set(refusals)
    failed = [detail for action, _, detail in _actions(session) if action == "login.failed"]
    assert [
        ("unknown_account", None),
        ("wrong_password", "local:dpo"),
        ("disabled", "local:gone"),
        ("unknown_account", None),
        ("wrong_password", "local:dpo"),
        ("wrong_password", "local:dpo"),
    ] == [(d["reason"], d.get("account")) for d in failed]
    # Nothing typed reaches the trail: not the unknown name, not a password.
    assert all("nobody" not in repr(d) and "password at all" not in repr(d) for d in failed)
    assert {"client-hash"} == {d["client"] for d in failed}


def test_an_unknown_name_costs_a_hash_check_too(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = accounts._password_matches

    def counting(stored_hash: str, password: str) -> bool:
        checked.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(accounts, "_password_matches", counting)
    _create(session)
    for name in ("nobody", "dpo"):
        with pytest.raises(AuthError):
            _sign_in(session, settings, name, "not the password at all")
    assert 2 == len(checked)
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in checked)


def test_failures_lock_the_account_and_a_success_resets_the_count(
    session: Session, settings: Settings
) -> None:
    _create(session)
    for minute in (1, 2):
        with pytest.raises(AuthError):
            _sign_in(session, settings, "dpo", "wrong password one", minute)
    assert 2 == _row(session).failed_attempts
    assert _sign_in(session, settings, "dpo", PASSWORD, 3)
    session.commit()
    assert (0, None) == (_row(session).failed_attempts, _row(session).locked_until)

    for minute in (4, 5):
        with pytest.raises(AuthError):
            _sign_in(session, settings, "dpo", "wrong password one", minute)
    with pytest.raises(AccountLockedError) as caught:
        _sign_in(session, settings, "dpo", "wrong password one", 6)
    assert T0 + timedelta(minutes=21) == caught.value.locked_until
    assert "try again after 09:21 UTC or ask an admin to unlock it" == caught.value.hint
    assert 15 * 60 == caught.value.retry_after
    # Locked: even the right password is refused, unchecked and uncounted.
    with pytest.raises(AccountLockedError) as again:
        _sign_in(session, settings, "dpo", PASSWORD, 10)
    assert 11 * 60 == again.value.retry_after
    assert "locked" == accounts.AccountInfo.of(_row(session)).status(T0 + timedelta(minutes=10))
    # When the lock ends the right password works again.
    assert _sign_in(session, settings, "dpo", PASSWORD, 21)
    session.commit()
    trail = _actions(session)
    locks = [detail for action, _, detail in trail if action == "staff_account.locked"]
    assert [{"account": "local:dpo", "until": "2026-12-03T09:21:00Z", "failed_attempts": "3"}] == (
        locks
    )
    reasons = [d["reason"] for action, _, d in trail if action == "login.failed"]
    assert ["wrong_password"] * 5 + ["locked"] == reasons


def test_an_admin_unlocks_and_a_reset_password_also_unlocks(
    session: Session, settings: Settings
) -> None:
    _create(session)
    for minute in (1, 2, 3):
        with pytest.raises((AuthError, AccountLockedError)):
            _sign_in(session, settings, "dpo", "wrong password one", minute)
    info = unlock_account(session, "DPO", actor=ADMIN, now=T0 + timedelta(minutes=4))
    session.commit()
    assert ("active", 0) == (info.status(T0 + timedelta(minutes=4)), info.failed_attempts)
    assert _sign_in(session, settings, "dpo", PASSWORD, 5)
    session.commit()

    for minute in (6, 7, 8):
        with pytest.raises((AuthError, AccountLockedError)):
            _sign_in(session, settings, "dpo", "wrong password one", minute)
    new = reset_password(session, "dpo", None, actor=ADMIN, now=T0 + timedelta(minutes=9))
    session.commit()
    assert new is not None
    with pytest.raises(AuthError):
        _sign_in(session, settings, "dpo", PASSWORD, 10)
    assert _sign_in(session, settings, "dpo", new, 11)
    session.commit()
    assert reset_password(session, "dpo", "another fine passphrase", actor=ADMIN) is None
    session.commit()
    assert _sign_in(session, settings, "dpo", "another fine passphrase", 12)
    changes = [
        (action, detail)
        for action, _, detail in _actions(session)
        if action.startswith("staff_account.")
    ]
    assert [
        "staff_account.created",
        "staff_account.locked",
        "staff_account.unlocked",
        "staff_account.locked",
        "staff_account.password_reset",
        "staff_account.password_reset",
    ] == [action for action, _ in changes]
    assert {"account": "local:dpo", "was_locked": "yes"} == changes[2][1]
    assert ("generated", "given") == (changes[4][1]["password"], changes[5][1]["password"])
    assert new not in repr(changes)


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(
    session: Session, settings: Settings
) -> None:
    _create(session)
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    _row(session).password_hash = old
    session.commit()
    assert PASSWORD_HASHER.check_needs_rehash(old)
    assert _sign_in(session, settings, "dpo", PASSWORD)
    session.commit()
    new = _row(session).password_hash
    assert new != old
    assert not PASSWORD_HASHER.check_needs_rehash(new)
    assert _sign_in(session, settings, "dpo", PASSWORD, 2)


def test_disabling_an_account_ends_its_sessions(session: Session, settings: Settings) -> None:
    _create(session)
    _create(session, "agent")
    dpo = _sign_in(session, settings, "dpo", PASSWORD)
    agent = _sign_in(session, settings, "agent", PASSWORD)
    ids = [open_session(session, p, LIFETIME, now=T0) for p in (dpo, agent)]  # type: ignore[arg-type]
    session.commit()
    found = session_principal(session, ids[0], LIFETIME, T0 + timedelta(minutes=2))
    assert found is not None
    assert ("local:dpo", "password", "dpo") == (found.subject, found.via, found.display_name)
    info = disable_account(session, "dpo", actor=ADMIN, now=T0 + timedelta(minutes=3))
    session.commit()
    assert "disabled" == info.status()
    assert session_principal(session, ids[0], LIFETIME, T0 + timedelta(minutes=4)) is None
    assert session_principal(session, ids[1], LIFETIME, T0 + timedelta(minutes=4)) is not None
    # Disabling twice records it once.
    disable_account(session, "dpo", actor=ADMIN)
    session.commit()
    disabled = [d for a, _, d in _actions(session) if a == "staff_account.disabled"]
    assert [{"account": "local:dpo", "sessions_ended": "1"}] == disabled


def test_bad_requests_change_nothing(session: Session) -> None:
    _create(session)
    cases: list[tuple[type[Exception], str, Role, str | None]] = [
        (DuplicateAccountError, "DPO", Role.AGENT, None),
        (InvalidUsernameError, "d p o", Role.AGENT, None),
        (WeakPasswordError, "kari", Role.AGENT, "short"),
        (WeakPasswordError, "kari", Role.AGENT, "kari-is-my-password"),
        (StaffRoleError, "crm", Role.MARKETING_SYSTEM, None),
    ]
    for error, name, role, password in cases:
        with pytest.raises(error):
            create_account(session, name, role, password, created_by="cli:root")
        session.rollback()
    assert ["dpo"] == [info.username for info in list_accounts(session)]
    for change in (disable_account, unlock_account):
        with pytest.raises(UnknownAccountError, match="there is no staff account 'nobody'"):
            change(session, "Nobody", actor=ADMIN)
    with pytest.raises(UnknownAccountError):
        reset_password(session, "nobody", None, actor=ADMIN)
    with pytest.raises(WeakPasswordError):
        reset_password(session, "dpo", "dpo-dpo-dpo-dpo", actor=ADMIN)
    session.rollback()
    assert 1 == len(_actions(session))


def test_generated_passwords_are_strong_and_shown_only_once(session: Session) -> None:
    created = create_account(session, "dpo", Role.ADMIN, None, created_by="cli:root")
    session.commit()
    password = created.generated_password
    assert password is not None
    assert 29 == len(password)
    assert password not in repr(created.account)
    assert password not in repr(_actions(session))
    assert all(
        password not in str(v) for v in session.execute(sa.select(StaffAccount.__table__)).one()
    )
    others = {accounts.generate_password("dpo") for _ in range(50)}
    assert 50 == len(others)


def test_local_accounts_are_off_when_sso_is_configured_unless_asked_for(
    session: Session, tmp_path: Path
) -> None:
    sso = {
        "home": tmp_path,
        "oidc_issuer": "https://sso.example.com/realms/company",
        "oidc_client_id": "personvern",
        "oidc_role_map": "personvern-dpo=privacy_officer",
    }
    assert local_accounts_enabled(Settings(home=tmp_path))
    assert not local_accounts_enabled(Settings(**sso))  # type: ignore[arg-type]
    assert local_accounts_enabled(Settings(**sso, staff_local_accounts=True))  # type: ignore[arg-type]
    assert not local_accounts_enabled(Settings(home=tmp_path, staff_local_accounts=False))
    _create(session)
    with pytest.raises(LocalAccountsOffError) as caught:
        _sign_in(session, Settings(**sso), "dpo", PASSWORD)  # type: ignore[arg-type]
    assert caught.value.hint is not None
    assert "PERSONVERN_STAFF_LOCAL_ACCOUNTS=true" in caught.value.hint
    assert _sign_in(session, Settings(**sso, staff_local_accounts=True), "dpo", PASSWORD)  # type: ignore[arg-type]


def test_wrong_passwords_at_once_all_count(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    with factory() as session:
        _create(session)
    many = settings.model_copy(update={"staff_lockout_attempts": 100})
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def guess(n: int) -> None:
        with factory() as session:
            start.wait()
            try:
                _sign_in(session, many, "dpo", f"wrong password {n:04d}")
            except AuthError:
                return
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [] == errors
    with factory() as session:
        assert 4 == _row(session).failed_attempts
        assert AuditTrail(session).verify().intact
