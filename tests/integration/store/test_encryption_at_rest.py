"""Encryption at rest on real stores: sealed columns, crypto-shredding across a backup, rotation.

The data store is SQLite or PostgreSQL; the key store is a database of its own (a
second SQLite file, a second PostgreSQL database), as in production.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from personvern.domain.envelope import SubjectKeyDestroyedError, TamperedEnvelopeError
from personvern.domain.requests.lifecycle import RequestType
from personvern.security.subject_hash import subject_key
from personvern.settings import SettingsError, load_settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.encryption.existing import seal_existing
from personvern.store.encryption.files import open_answer_file, seal_answer
from personvern.store.encryption.providers import KeyProviderError, LocalKeyFileProvider
from personvern.store.encryption.vault import SubjectVault
from personvern.store.migrate import upgrade_to_head
from personvern.store.models import DataSubjectRequest
from personvern.store.subject_keys import KeyStore, SubjectKey
from personvern.store.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from tests.support.servers import fresh_database

SECRET = "a-test-secret-of-at-least-thirty-two-characters"
KARI = [("email", "kari@example.no"), ("national_id", "01017012345")]
OLA = [("email", "ola@example.no"), ("national_id", "02028054321")]
PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


@dataclass
class Stores:
    """A data store URL, a key store URL, the home, and how to back up and restore."""

    data_url: str
    key_url: str
    home: Path
    backup: Callable[[], Path]
    restore: Callable[[Path], str]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    home = tmp_path / "home"
    if request.param == "sqlite":
        data = home / "personvern.db"

        def backup_sqlite() -> Path:
            target = tmp_path / "backup.db"
            # The engines are disposed first, so the WAL is checkpointed into the file.
            shutil.copyfile(data, target)
            return target

        def restore_sqlite(backup: Path) -> str:
            restored = tmp_path / "restored" / "personvern.db"
            restored.parent.mkdir()
            shutil.copyfile(backup, restored)
            return f"sqlite:///{restored}"

        yield Stores(
            f"sqlite:///{data}",
            f"sqlite:///{home / 'keys.db'}",
            home,
            backup_sqlite,
            restore_sqlite,
        )
        return
    with (
        fresh_database("postgresql") as data_url,
        fresh_database("postgresql") as key_url,
        fresh_database("postgresql") as restored_url,
    ):

        def backup_pg() -> Path:
            target = tmp_path / "backup.dump"
            subprocess.run(
                [PG_DUMP, "--format=custom", f"--file={target}", _libpq(data_url)],
                check=True,
                timeout=60,
            )
            return target

        def restore_pg(backup: Path) -> str:
            subprocess.run(
                [PG_RESTORE, "--no-owner", f"--dbname={_libpq(restored_url)}", str(backup)],
                check=True,
                timeout=60,
            )
            return restored_url

        yield Stores(data_url, key_url, home, backup_pg, restore_pg)


def _libpq(url: str) -> str:
    """The URL as pg_dump takes it (no +psycopg driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _vault(stores: Stores) -> SubjectVault:
    provider = LocalKeyFileProvider.in_home(stores.home)
    return SubjectVault(KeyStore(make_engine(stores.key_url)), provider, "local")


def _units(url: str, vault: SubjectVault | None) -> tuple[UnitOfWorkFactory, sa.Engine]:
    engine = make_engine(url)
    return unit_of_work_factory(make_session_factory(engine, vault)), engine


def _file(uow_factory: UnitOfWorkFactory, identities: list[tuple[str, str]], note: str) -> str:
    with uow_factory() as uow:
        request = uow.requests.add(
            type=RequestType.ACCESS,
            identities=[{"kind": k, "value": v} for k, v in identities],
            identity_hashes=(),
            subject_key=subject_key(SECRET, identities),
            language="nb",
            channel="staff",
            created_by="cli:test",
            deadline=date(2027, 1, 1),
        )
        request.verification_note = note
        return request.id


def _raw(engine: sa.Engine, request_id: str) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT identities, identities_sealed, verification_note, "
                "verification_note_sealed FROM data_subject_requests WHERE id = :id"
            ),
            {"id": request_id},
        ).one()


def test_identities_and_notes_are_stored_sealed_and_read_back(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    kari = _file(units, KARI, "passport seen, number N1234567")
    try:
        plain_identities, sealed, plain_note, sealed_note = _raw(engine, kari)
        assert plain_identities is None
        assert plain_note is None
        assert b"01017012345" not in bytes(sealed)  # type: ignore[arg-type]
        assert b"N1234567" not in bytes(sealed_note)  # type: ignore[arg-type]
        with units() as uow:
            request = uow.requests.get(kari)
            assert {"kind": "national_id", "value": "01017012345"} in request.identities
            assert "passport seen, number N1234567" == request.verification_note
    finally:
        engine.dispose()
        vault.close()


def test_a_restored_backup_keeps_an_erased_subject_unreadable_and_everyone_else_readable(
    stores: Stores,
) -> None:
    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    kari = _file(units, KARI, "ID card checked at the counter")
    ola = _file(units, OLA, "passport checked")
    engine.dispose()

    backup = stores.backup()
    # Kari is erased: her data key is destroyed in the key store, which the data
    # backup does not contain and restoring it does not touch.
    assert 1 == vault.shred(subject_key(SECRET, KARI))
    restored_units, restored_engine = _units(stores.restore(backup), vault)
    try:
        with restored_units() as uow:
            erased = uow.requests.get(kari)
            with pytest.raises(SubjectKeyDestroyedError, match="this subject was erased"):
                _ = erased.identities
            with pytest.raises(SubjectKeyDestroyedError):
                _ = erased.verification_note
            kept = uow.requests.get(ola)
            assert {"kind": "national_id", "value": "02028054321"} in kept.identities
            assert "passport checked" == kept.verification_note
        tombstone = [k for k in vault.keys.all() if k.destroyed_at is not None]
        assert [subject_key(SECRET, KARI)] == [k.subject_hash for k in tombstone]
        assert tombstone[0].wrapped_key is None
    finally:
        restored_engine.dispose()
        vault.close()


def test_a_sealed_value_copied_into_another_row_does_not_open(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    kari = _file(units, KARI, "seen")
    ola = _file(units, OLA, "seen")
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE data_subject_requests SET identities_sealed = "
                    "(SELECT identities_sealed FROM data_subject_requests WHERE id = :kari) "
                    "WHERE id = :ola"
                ),
                {"kari": kari, "ola": ola},
            )
        with units() as uow, pytest.raises(TamperedEnvelopeError):
            _ = uow.requests.get(ola).identities
    finally:
        engine.dispose()
        vault.close()


def test_rotation_rewraps_every_data_key_and_leaves_ciphertexts_alone(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    ids = [_file(units, KARI, "k"), _file(units, OLA, "o")]
    try:
        before_keys = {k.key_id: (k.kek_id, k.wrapped_key) for k in vault.keys.all()}
        before_data = [tuple(_raw(engine, i)) for i in ids]

        report = vault.rotate()

        after_keys = {k.key_id: (k.kek_id, k.wrapped_key) for k in vault.keys.all()}
        assert "local:v2" == report.new_kek
        assert 2 == report.rewrapped
        assert ["local:v1"] == report.removable
        assert before_keys.keys() == after_keys.keys()
        for key_id, (kek, wrapped) in after_keys.items():
            assert "local:v2" == kek
            assert before_keys[key_id][1] != wrapped
        assert before_data == [tuple(_raw(engine, i)) for i in ids]
        # A new process (no cached keys) reads everything through the new KEK version.
        fresh = _vault(stores)
        fresh_units, fresh_engine = _units(stores.data_url, fresh)
        with fresh_units() as uow:
            values = [uow.requests.get(i).identities[1]["value"] for i in ids]
        assert ["01017012345", "02028054321"] == values
        fresh_engine.dispose()
        fresh.close()
    finally:
        engine.dispose()
        vault.close()


def test_rows_stored_before_encryption_are_sealed_by_encrypt_existing(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    plain_units, plain_engine = _units(stores.data_url, None)
    old = _file(plain_units, KARI, "from before")
    assert "from before" == _raw(plain_engine, old)[2]
    plain_engine.dispose()
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    try:
        assert 1 == seal_existing(units, batch=1)
        plain_identities, sealed, plain_note, sealed_note = _raw(engine, old)
        assert (None, None) == (plain_identities, plain_note)
        assert sealed is not None
        assert sealed_note is not None
        with units() as uow:
            assert "from before" == uow.requests.get(old).verification_note
        assert 0 == seal_existing(units)
    finally:
        engine.dispose()
        vault.close()


def test_a_subject_back_after_erasure_gets_a_new_key(stores: Stores) -> None:
    vault = _vault(stores)
    try:
        subject = subject_key(SECRET, KARI)
        first = vault.seal(subject, "field:t.c:1", b"before")
        vault.shred(subject)
        second = vault.seal(subject, "field:t.c:2", b"after")
        assert b"after" == vault.open("field:t.c:2", second)
        with pytest.raises(SubjectKeyDestroyedError):
            vault.open("field:t.c:1", first)
        assert 2 == len(vault.keys.all())
    finally:
        vault.close()


def test_the_local_key_file_is_private_and_a_readable_one_is_refused(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider.in_home(tmp_path / "home")
    assert 0o600 == stat.S_IMODE(provider.path.stat().st_mode)
    provider.path.chmod(0o644)
    with pytest.raises(KeyProviderError, match="can be read by other users"):
        LocalKeyFileProvider(provider.path)


def test_a_key_file_missing_the_version_a_key_needs_says_what_to_restore(tmp_path: Path) -> None:
    stores_home = tmp_path / "home"
    provider = LocalKeyFileProvider.in_home(stores_home)
    keys = KeyStore(make_engine(f"sqlite:///{stores_home / 'keys.db'}"))
    vault = SubjectVault(keys, provider, "local")
    sealed = vault.seal("s" * 64, "field:t.c:1", b"x")
    provider.path.unlink()
    lost = SubjectVault(keys, LocalKeyFileProvider(provider.path), "local")
    with pytest.raises(KeyProviderError, match="restore"):
        lost.open("field:t.c:1", sealed)
    keys.engine.dispose()


def test_key_store_rows_name_no_plain_identity(stores: Stores) -> None:
    vault = _vault(stores)
    try:
        vault.seal(subject_key(SECRET, KARI), "field:t.c:1", b"x")
        with vault.keys.session() as session:
            row = session.scalars(sa.select(SubjectKey)).one()
        assert "kari" not in row.subject_hash
        assert 64 == len(row.subject_hash)
        assert row.wrapped_key is not None
        assert 40 == len(row.wrapped_key)  # AES key wrap of 32 bytes
    finally:
        vault.close()


def test_the_model_reads_plain_rows_from_before_encryption(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    units, engine = _units(stores.data_url, None)
    try:
        request_id = _file(units, OLA, "plain")
        with units() as uow:
            request = uow.session.get(DataSubjectRequest, request_id)
            assert request is not None
            assert "ola@example.no" == request.identities[0]["value"]
    finally:
        engine.dispose()


def test_answer_files_are_sealed_and_a_copy_of_an_erased_subjects_stays_unreadable(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    vault = SubjectVault(
        KeyStore(make_engine(f"sqlite:///{home / 'keys.db'}")),
        LocalKeyFileProvider.in_home(home),
        "local",
    )
    try:
        folder = home / "requests"
        folder.mkdir()
        answers = {}
        for who, identities in (("kari", KARI), ("ola", OLA)):
            path = folder / f"{who}-export.zip"
            plain = f"PK export of {who} {identities[1][1]}".encode()
            path.write_bytes(
                seal_answer(vault, subject_key(SECRET, identities), who, "export.zip", plain)
            )
            assert identities[1][1].encode() not in path.read_bytes()
            answers[who] = path
        # A backup of the home's answers, taken before Kari's erasure.
        backup = tmp_path / "backup"
        shutil.copytree(folder, backup)
        vault.shred(subject_key(SECRET, KARI))

        with pytest.raises(SubjectKeyDestroyedError, match="this subject was erased"):
            open_answer_file(vault, "kari", "export.zip", backup / "kari-export.zip")
        ola = open_answer_file(vault, "ola", "export.zip", backup / "ola-export.zip")
        assert b"PK export of ola 02028054321" == ola
        # Bound to its request and name: not served as another request's file.
        with pytest.raises(TamperedEnvelopeError):
            open_answer_file(vault, "ola", "access-report.html", backup / "ola-export.zip")
    finally:
        vault.close()


def test_production_on_a_database_server_needs_a_shared_key_store() -> None:
    with pytest.raises(SettingsError, match="PERSONVERN_KEY_STORE_URL must be set in production"):
        load_settings(
            environment="production",
            secret_key=SECRET,
            database_url="postgresql+psycopg://personvern@db/personvern",
        )
    shared = load_settings(
        environment="production",
        secret_key=SECRET,
        database_url="postgresql+psycopg://personvern@db/personvern",
        key_store_url="postgresql+psycopg://personvern@keys/personvern_keys",
    )
    assert "postgresql+psycopg://personvern@keys/personvern_keys" == shared.effective_key_store_url


#: A rectification's new value, a plan's needle and found record, a review's candidate.
NEW_ADDRESS = "Storgata 5, 0155 Oslo"
CANDIDATE = "Kari Nordmann, Storgata 5"


def _file_with_details(units: UnitOfWorkFactory) -> str:
    """A rectification with its corrections, a plan, a review and a receipt stored."""
    with units() as uow:
        request = uow.requests.add(
            type=RequestType.RECTIFICATION,
            identities=[{"kind": k, "value": v} for k, v in KARI],
            identity_hashes=(),
            subject_key=subject_key(SECRET, KARI),
            language="nb",
            channel="staff",
            created_by="cli:test",
            deadline=date(2027, 1, 1),
            details={"corrections": {"address": NEW_ADDRESS}},
        )
        uow.requests.save_plan(
            request, {"needles": ["kari@example.no"], "datasets": [{"found": ["crm:42"]}]}
        )
        request.review = {"candidates": [{"record": "crm:42", "text": CANDIDATE}]}
        uow.requests.save_receipt(
            request, {"request_type": "rectification", "found": {"crm.customers": 1}}
        )
        return request.id


def _raw_details(engine: sa.Engine, request_id: str) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT details, details_sealed, plan, plan_sealed, review, review_sealed, "
                "receipt FROM data_subject_requests WHERE id = :id"
            ),
            {"id": request_id},
        ).one()


def test_details_plan_and_review_are_stored_sealed_and_read_back(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    request_id = _file_with_details(units)
    try:
        details, details_sealed, plan, plan_sealed, review, review_sealed, receipt = _raw_details(
            engine, request_id
        )
        assert (None, None, None) == (details, plan, review)
        for sealed, value in (
            (details_sealed, NEW_ADDRESS),
            (plan_sealed, "kari@example.no"),
            (review_sealed, CANDIDATE),
        ):
            assert sealed is not None
            assert value.encode() not in bytes(sealed)  # type: ignore[arg-type]
        # The receipt is the proof of what was done: plain, and counts only.
        assert receipt is not None
        with units() as uow:
            request = uow.requests.get(request_id)
            assert {"corrections": {"address": NEW_ADDRESS}} == request.details
            assert ["kari@example.no"] == request.plan["needles"]
            assert CANDIDATE == request.review["candidates"][0]["text"]
    finally:
        engine.dispose()
        vault.close()


def test_an_erased_subjects_details_plan_and_review_are_gone_and_the_receipt_stays(
    stores: Stores,
) -> None:
    from personvern.intake import views

    upgrade_to_head(stores.data_url)
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    request_id = _file_with_details(units)
    try:
        assert 1 == vault.shred(subject_key(SECRET, KARI))
        with units() as uow:
            request = uow.requests.get(request_id)
            for name in ("details", "plan", "review"):
                with pytest.raises(SubjectKeyDestroyedError, match="this subject was erased"):
                    getattr(request, name)
            # What staff see (API, `request show`): erased, not a traceback.
            assert views.is_erased(request)
            assert (None, None, None) == (
                views.readable_details(request),
                views.readable_plan(request),
                views.readable_review(request),
            )
            assert {"crm.customers": 1} == request.receipt["found"]
            # The receipt can still change (a task marked done later) and stay readable.
            uow.requests.save_receipt(request, {**request.receipt, "completed_at": "now"})
        with units() as uow:
            assert "now" == uow.requests.get(request_id).receipt["completed_at"]
    finally:
        engine.dispose()
        vault.close()


def test_plain_details_plan_and_review_are_sealed_by_encrypt_existing(stores: Stores) -> None:
    upgrade_to_head(stores.data_url)
    plain_units, plain_engine = _units(stores.data_url, None)
    old = _file_with_details(plain_units)
    empty = _file(plain_units, OLA, "n")
    with plain_engine.begin() as connection:
        # Before 0016 a plan set to None was stored as JSON null, which is not SQL NULL.
        connection.execute(
            sa.text("UPDATE data_subject_requests SET plan = 'null' WHERE id = :id"),
            {"id": empty},
        )
    details, details_sealed, *_ = _raw_details(plain_engine, old)
    assert details is not None
    assert NEW_ADDRESS in str(details)
    assert details_sealed is None
    plain_engine.dispose()
    vault = _vault(stores)
    units, engine = _units(stores.data_url, vault)
    try:
        assert 2 == seal_existing(units, batch=1)
        details, details_sealed, plan, plan_sealed, review, review_sealed, _ = _raw_details(
            engine, old
        )
        assert (None, None, None) == (details, plan, review)
        assert None not in (details_sealed, plan_sealed, review_sealed)
        with units() as uow:
            request = uow.requests.get(old)
            assert NEW_ADDRESS == request.details["corrections"]["address"]
            assert CANDIDATE == request.review["candidates"][0]["text"]
            assert {} == uow.requests.get(empty).details
        # Nothing is left plain, the JSON null included: a second run finds no row.
        assert 0 == seal_existing(units)
        assert (None, None) == _raw_details(engine, empty)[2:4]
    finally:
        engine.dispose()
        vault.close()
