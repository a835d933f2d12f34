"""The files connector's index: sidecars read once, then only what changed, answers checked.

Each test builds a small store of call recordings laid out as the demo lays them out
(``recordings/<year>/<month>/<call_id>.wav`` with a JSON sidecar) in its own tmp_path.
Files are written with an old mtime, as files that have settled are, unless a test is
about a change made too recently to be seen in the timestamps.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from personvern.connectors import files_index
from personvern.connectors.files import FileConnector
from personvern.connectors.port import (
    ConnectorUnavailableError,
    Criteria,
    ErasureStep,
    Key,
)
from personvern.datamap.loader import load_datamap
from personvern.demo.seed import sidecar_path
from personvern.domain.datamap import ErasureStrategy, System
from tests.conftest import EXAMPLE_DATAMAP

CALLS = "call_recordings"
#: An mtime long past (November 2023): the file has settled.
SETTLED_NS = 1_700_000_000 * 10**9


@pytest.fixture(scope="module")
def telephony() -> System:
    """The example data map's call recordings system."""
    system = load_datamap(EXAMPLE_DATAMAP).datamap.system("telephony")
    assert system is not None
    return system


def phone_of(customer_id: int) -> str:
    """The phone number the synthetic calls of a customer come from."""
    return f"+47{40_000_000 + customer_id}"


def write_call(
    root: Path,
    call_id: str,
    customer_id: int,
    phone: str | None = None,
    *,
    month: str = "2026/01",
    settled: bool = True,
) -> Path:
    """One recording and its sidecar; returns the sidecar."""
    folder = root / "recordings" / month
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"{call_id}.wav"
    wav.write_bytes(b"RIFF")
    sidecar = sidecar_path(wav)
    payload = {
        "call_id": call_id,
        "customer_id": customer_id,
        "phone_number": phone or phone_of(customer_id),
        "agent": "agent-007",
    }
    sidecar.write_text(json.dumps(payload), encoding="utf-8")
    if settled:
        for path in (wav, sidecar):
            os.utime(path, ns=(SETTLED_NS, SETTLED_NS))
    return sidecar


def make_store(root: Path, customers: int, calls_each: int) -> dict[int, list[str]]:
    """Calls for customers 1..customers spread over three months; call ids by customer."""
    months = ("2025/12", "2026/01", "2026/02")
    calls: dict[int, list[str]] = {}
    for customer_id in range(1, customers + 1):
        for n in range(calls_each):
            call_id = f"c{customer_id:04d}-{n}"
            write_call(root, call_id, customer_id, month=months[(customer_id + n) % 3])
            calls.setdefault(customer_id, []).append(call_id)
    for folder in [root / "recordings", *(root / "recordings").rglob("*")]:
        if folder.is_dir():
            os.utime(folder, ns=(SETTLED_NS, SETTLED_NS))
    return calls


def rewrite_in_place(sidecar: Path, **changes: Any) -> None:
    """Change a sidecar the way a program that opens and truncates it does: same inode."""
    inode = sidecar.stat().st_ino
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    sidecar.write_text(json.dumps({**data, **changes}), encoding="utf-8")
    assert inode == sidecar.stat().st_ino


def replace_atomically(sidecar: Path, **changes: Any) -> None:
    """Change a sidecar the way careful programs do: a temporary file renamed over it."""
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    temp = sidecar.with_name(sidecar.name + ".new")
    temp.write_text(json.dumps({**data, **changes}), encoding="utf-8")
    temp.replace(sidecar)


def by_customer(connector: FileConnector, customer_id: int) -> list[Key]:
    """Keys of the calls located by customer id, sorted."""
    found = connector.locate(CALLS, Criteria(exact={"customer_id": frozenset({customer_id})}))
    return sorted(r.key for r in found)


def by_phone(connector: FileConnector, phone: str) -> list[Key]:
    """Keys of the calls located by phone number, sorted."""
    found = connector.locate(CALLS, Criteria(exact={"phone_number": frozenset({phone})}))
    return sorted(r.key for r in found)


class Reads:
    """Counts the sidecars a connector reads, from one look to the next."""

    def __init__(self, connector: FileConnector) -> None:
        self.connector = connector
        self.seen = connector.sidecars_read

    def since(self) -> int:
        """Sidecars read since the previous look (or since counting began)."""
        now = self.connector.sidecars_read
        read, self.seen = now - self.seen, now
        return read


def pseudonymise(dataset: str, field: str, key: Key) -> str:
    """A fixed stand-in for the engine's pseudonymiser."""
    return f"pv-{dataset}-{field}-{key}"


# -- reading once ----------------------------------------------------------------------


def test_sidecars_are_read_once_and_answers_stay_right(tmp_path: Path, telephony: System) -> None:
    calls = make_store(tmp_path, customers=10, calls_each=3)
    connector = FileConnector(telephony, tmp_path)
    reads = Reads(connector)

    first = {c: by_customer(connector, c) for c in calls}
    read_first = reads.since()
    second = {c: by_customer(connector, c) for c in calls}
    by_number = by_phone(connector, phone_of(4))

    assert {c: sorted(ids) for c, ids in calls.items()} == first
    assert first == second
    assert sorted(calls[4]) == by_number
    assert 30 == read_first
    assert 0 == reads.since()
    assert 21 == connector.statements_issued


def test_files_added_after_the_first_locate_are_found(tmp_path: Path, telephony: System) -> None:
    make_store(tmp_path, customers=5, calls_each=2)
    connector = FileConnector(telephony, tmp_path)
    assert [] == by_customer(connector, 77)
    reads = Reads(connector)

    write_call(tmp_path, "late-1", 77, month="2026/01")
    # A new folder, two levels below the dataset's root.
    write_call(tmp_path, "late-2", 77, month="2027/05")

    assert ["late-1", "late-2"] == by_customer(connector, 77)
    assert 2 == reads.since()
    assert ["late-1", "late-2"] == by_phone(connector, phone_of(77))
    assert 0 == reads.since()


def test_deleted_files_disappear(tmp_path: Path, telephony: System) -> None:
    calls = make_store(tmp_path, customers=4, calls_each=2)
    connector = FileConnector(telephony, tmp_path)
    assert sorted(calls[2]) == by_customer(connector, 2)
    doomed = next(tmp_path.rglob(f"{calls[2][0]}.json"))

    doomed.with_suffix(".wav").unlink()
    doomed.unlink()

    assert sorted(calls[2][1:]) == by_customer(connector, 2)
    assert [] == list(connector.export_files(CALLS, [calls[2][0]]))


def test_a_folder_moved_away_and_back(tmp_path: Path, telephony: System) -> None:
    calls = make_store(tmp_path, customers=6, calls_each=1)
    connector = FileConnector(telephony, tmp_path)
    everyone = {c: by_customer(connector, c) for c in calls}
    month = tmp_path / "recordings" / "2026" / "01"
    held = {c for c, ids in everyone.items() if any((month / f"{i}.json").exists() for i in ids)}
    assert held, "the store puts nobody's calls in 2026/01"

    shutil.move(month, tmp_path / "elsewhere")
    gone = {c: by_customer(connector, c) for c in calls}
    shutil.move(tmp_path / "elsewhere", month)
    back = {c: by_customer(connector, c) for c in calls}

    assert {c: ([] if c in held else ids) for c, ids in everyone.items()} == gone
    assert everyone == back


# -- changes made by other programs ----------------------------------------------------


def test_a_sidecar_replaced_by_a_rename_is_found_by_its_new_number(
    tmp_path: Path, telephony: System
) -> None:
    make_store(tmp_path, customers=3, calls_each=1)
    sidecar = next(tmp_path.rglob("c0002-0.json"))
    connector = FileConnector(telephony, tmp_path)
    assert ["c0002-0"] == by_phone(connector, phone_of(2))

    replace_atomically(sidecar, phone_number="+4799999999")

    assert [] == by_phone(connector, phone_of(2))
    assert ["c0002-0"] == by_phone(connector, "+4799999999")


def test_a_sidecar_rewritten_in_place_is_checked_before_answering(
    tmp_path: Path, telephony: System
) -> None:
    make_store(tmp_path, customers=3, calls_each=1)
    sidecar = next(tmp_path.rglob("c0002-0.json"))
    connector = FileConnector(telephony, tmp_path)
    assert ["c0002-0"] == by_phone(connector, phone_of(2))

    rewrite_in_place(sidecar, phone_number="+4799999999")

    # The folder did not change; the candidate's own stamps did, so it is read again.
    assert [] == by_phone(connector, phone_of(2))
    assert ["c0002-0"] == by_phone(connector, "+4799999999")


def test_a_sidecar_rewritten_in_place_is_found_by_its_new_number_after_the_recheck(
    tmp_path: Path, telephony: System
) -> None:
    make_store(tmp_path, customers=3, calls_each=1)
    sidecar = next(tmp_path.rglob("c0002-0.json"))
    every_call = FileConnector(telephony, tmp_path, recheck_after=0)
    soon = FileConnector(telephony, tmp_path, recheck_after=0.3)
    assert ["c0002-0"] == by_phone(every_call, phone_of(2))
    assert ["c0002-0"] == by_phone(soon, phone_of(2))

    rewrite_in_place(sidecar, phone_number="+4799999999")
    found_at_once = by_phone(every_call, "+4799999999")
    time.sleep(0.4)
    found_after_recheck = by_phone(soon, "+4799999999")

    assert ["c0002-0"] == found_at_once
    assert ["c0002-0"] == found_after_recheck


def test_a_change_too_recent_for_the_timestamps_is_still_seen(
    tmp_path: Path, telephony: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a file system whose stamps did not move: only the content tells the change.
    monkeypatch.setattr(files_index, "_file_sig", lambda st: 1)
    # However slow the machine, the fresh sidecar counts as too recent to trust.
    monkeypatch.setattr(files_index, "FINE_SETTLE_NS", 3600 * 10**9)
    sidecar = write_call(tmp_path, "fresh", 5, settled=False)
    connector = FileConnector(telephony, tmp_path)
    assert ["fresh"] == by_phone(connector, phone_of(5))

    rewrite_in_place(sidecar, phone_number="+4799999999")

    assert ["fresh"] == by_phone(connector, "+4799999999")
    assert [] == by_phone(connector, phone_of(5))


def test_a_repaired_sidecar_is_found(tmp_path: Path, telephony: System) -> None:
    sidecar = write_call(tmp_path, "broken", 8)
    good = sidecar.read_text(encoding="utf-8")
    sidecar.write_text('{"call_id": "broken", "customer_id": ', encoding="utf-8")
    os.utime(sidecar, ns=(SETTLED_NS, SETTLED_NS))
    connector = FileConnector(telephony, tmp_path)
    assert [] == by_customer(connector, 8)
    assert 1 == connector.skipped_sidecars

    inode = sidecar.stat().st_ino
    sidecar.write_text(good, encoding="utf-8")
    assert inode == sidecar.stat().st_ino

    assert ["broken"] == by_customer(connector, 8)
    assert 1 == connector.skipped_sidecars


def test_a_folder_that_becomes_unreadable_is_unavailable(
    tmp_path: Path, telephony: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(tmp_path, customers=3, calls_each=1)
    connector = FileConnector(telephony, tmp_path)
    assert ["c0001-0"] == by_customer(connector, 1)
    blocked = tmp_path / "recordings" / "2026" / "02"
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        # Root bypasses permission bits, so the refusal is simulated where listing asks.
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    write_call(tmp_path, "c0001-9", 1, month="2026/02")
    with pytest.raises(ConnectorUnavailableError, match="Permission denied"):
        by_customer(connector, 1)
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert ["c0001-0", "c0001-9"] == by_customer(connector, 1)


# -- the connector's own changes ---------------------------------------------------------


def test_the_connectors_own_erasure_keeps_the_index_right(
    tmp_path: Path, telephony: System
) -> None:
    calls = make_store(tmp_path, customers=5, calls_each=3)
    connector = FileConnector(telephony, tmp_path)
    assert sorted(calls[3]) == by_customer(connector, 3)
    reads = Reads(connector)

    outcome = connector.erase([ErasureStep(CALLS, delete=tuple(calls[3]))], pseudonymise)
    after = by_customer(connector, 3)
    by_number = by_phone(connector, phone_of(3))
    again = connector.erase([ErasureStep(CALLS, delete=tuple(calls[3]))], pseudonymise)

    assert 3 == outcome[0].deleted
    assert [] == after
    assert [] == by_number
    assert 0 == again[0].deleted
    assert 0 == reads.since()
    assert sorted(calls[4]) == by_customer(connector, 4)


def test_folders_the_connector_changed_itself_are_not_listed_again(
    tmp_path: Path, telephony: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = make_store(tmp_path, customers=6, calls_each=1)
    month = tmp_path / "recordings" / "2026" / "01"
    assert (month / "c0001-0.json").exists()
    connector = FileConnector(telephony, tmp_path)
    assert calls[1] == by_customer(connector, 1)
    listed: list[Path] = []
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        listed.append(Path(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    connector.erase([ErasureStep(CALLS, delete=tuple(calls[1]))], pseudonymise)
    after_erasure = by_customer(connector, 1)
    listed_after_erasure = list(listed)
    # Another program's change, later than the clock tick of the erasure, is seen.
    time.sleep(0.05)
    write_call(tmp_path, "late", 1, month="2026/01")
    after_addition = by_customer(connector, 1)

    assert [] == after_erasure
    assert [] == listed_after_erasure
    assert ["late"] == after_addition
    assert [month] == listed


def test_erased_and_rectified_fields_are_looked_up_by_their_new_values(
    tmp_path: Path, telephony: System
) -> None:
    calls = make_store(tmp_path, customers=3, calls_each=2)
    connector = FileConnector(telephony, tmp_path)
    assert sorted(calls[1]) == by_phone(connector, phone_of(1))

    masked = connector.erase(
        [
            ErasureStep(
                CALLS,
                update=tuple(calls[1]),
                update_fields={"phone_number": ErasureStrategy.MASK},
            )
        ],
        pseudonymise,
    )
    changed = connector.rectify(CALLS, calls[2], {"phone_number": "+4712345678"})

    assert 2 == masked[0].updated
    assert [] == by_phone(connector, phone_of(1))
    assert sorted(calls[1]) == by_phone(connector, "***")
    assert 2 == changed
    assert [] == by_phone(connector, phone_of(2))
    assert sorted(calls[2]) == by_phone(connector, "+4712345678")


def test_close_forgets_the_index(tmp_path: Path, telephony: System) -> None:
    make_store(tmp_path, customers=3, calls_each=1)
    connector = FileConnector(telephony, tmp_path)
    reads = Reads(connector)
    by_customer(connector, 1)
    first = reads.since()
    connector.close()
    by_customer(connector, 1)
    assert (3, 3) == (first, reads.since())


# -- the cap -----------------------------------------------------------------------------


def test_beyond_the_cap_every_call_reads_everything(
    tmp_path: Path, telephony: System, caplog: pytest.LogCaptureFixture
) -> None:
    calls = make_store(tmp_path, customers=5, calls_each=1)
    connector = FileConnector(telephony, tmp_path, max_index_records=3)
    reads = Reads(connector)

    with caplog.at_level(logging.WARNING, logger="personvern.connectors.files"):
        first = by_customer(connector, 2)
        read_first = reads.since()
        second = by_customer(connector, 2)
        read_second = reads.since()
        rewrite_in_place(next(tmp_path.rglob("c0004-0.json")), phone_number="+4799999999")
        third = by_phone(connector, "+4799999999")

    assert calls[2] == first == second
    assert (5, 5) == (read_first, read_second)
    assert ["c0004-0"] == third
    warnings = [r for r in caplog.records if "max_index_records" in r.getMessage()]
    assert 1 == len(warnings)


def test_within_the_cap_the_index_is_kept(tmp_path: Path, telephony: System) -> None:
    make_store(tmp_path, customers=5, calls_each=1)
    connector = FileConnector(telephony, tmp_path, max_index_records=5)
    reads = Reads(connector)
    by_customer(connector, 2)
    by_customer(connector, 3)
    assert 5 == reads.since()


# -- threads -----------------------------------------------------------------------------


def test_two_threads_locate_while_a_third_erases(tmp_path: Path, telephony: System) -> None:
    calls = make_store(tmp_path, customers=40, calls_each=3)
    expected = {c: sorted(ids) for c, ids in calls.items()}
    doomed = list(range(1, 41, 2))
    connector = FileConnector(telephony, tmp_path)
    seen: list[tuple[int, list[Key]]] = []
    errors: list[BaseException] = []

    def locating(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(150):
                customer_id = rng.randrange(1, 41)
                seen.append((customer_id, by_customer(connector, customer_id)))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    def erasing() -> None:
        try:
            for customer_id in doomed:
                step = ErasureStep(CALLS, delete=tuple(calls[customer_id]))
                connector.erase([step], pseudonymise)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=locating, args=(1,)),
        threading.Thread(target=locating, args=(2,)),
        threading.Thread(target=erasing),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [] == errors
    assert not any(t.is_alive() for t in threads)
    # One erasure step is one customer's calls at once: a search sees all or none.
    assert [] == [(c, keys) for c, keys in seen if keys not in (expected[c], [])]
    assert [] == [(c, keys) for c, keys in seen if not keys and c not in doomed]
    assert {c: ([] if c in doomed else ids) for c, ids in expected.items()} == {
        c: by_customer(connector, c) for c in calls
    }


def test_two_first_calls_at_once_read_the_folder_once(tmp_path: Path, telephony: System) -> None:
    make_store(tmp_path, customers=30, calls_each=2)
    connector = FileConnector(telephony, tmp_path)
    barrier = threading.Barrier(2)
    found: dict[int, list[Key]] = {}

    def first_call(customer_id: int) -> None:
        barrier.wait(timeout=10)
        found[customer_id] = by_customer(connector, customer_id)

    threads = [threading.Thread(target=first_call, args=(c,)) for c in (5, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert {5: ["c0005-0", "c0005-1"], 6: ["c0006-0", "c0006-1"]} == found
    assert 60 == connector.sidecars_read
