"""`personvern request create/list/show/verify/reject` as staff run them, mailing a real server."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import Inbox, smtp_server

KARI = "kari.nordmann@example.no"
ERROR_LINE = re.compile(r"^personvern: error: .+$")


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def env(tmp_path: Path, inbox: Inbox) -> dict[str, str]:
    """Environment for the CLI: a store in tmp_path, the example map, mail to the test server."""
    inbox.clear()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    return clean | {
        "PERSONVERN_HOME": str(tmp_path / "home"),
        "PERSONVERN_DATABASE_URL": f"sqlite:///{tmp_path / 'home' / 'personvern.db'}",
        "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
        "PERSONVERN_SECRET_KEY": "cli-test-secret-0123456789abcdef012",
        "PERSONVERN_SMTP_HOST": inbox.host,
        "PERSONVERN_SMTP_PORT": str(inbox.port),
        "NO_COLOR": "1",
    }


def run(cli: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, "request", *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_create_list_show_and_reject_a_staff_verified_request(
    personvern_cli: list[str], env: dict[str, str], inbox: Inbox
) -> None:
    created = run(
        personvern_cli,
        env,
        "create",
        "--type",
        "rectification",
        "--identity",
        f"email={KARI}",
        "--identity",
        "phone_number=912 34 567",
        "--verified-by",
        "staff_in_person",
        "--note",
        "passport checked at the Oslo office",
        "--correction",
        "user.contact.address=Storgata 1, 0155 Oslo",
    )
    assert 0 == created.returncode, created.stderr
    request_id = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert created.stderr.startswith(f"rectification request {request_id}: verified; deadline ")
    assert [] == inbox.messages

    listed = run(personvern_cli, env, "list")
    assert 0 == listed.returncode, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert ["id", "type", "state", "received", "deadline", "days left", "identities"] == (
        header.split("\t")
    )
    fields = row.split("\t")
    assert [request_id, "rectification", "verified"] == fields[:3]
    assert "email=k***@example.no, phone_number=*********67" == fields[6]
    assert KARI not in listed.stdout

    shown = run(personvern_cli, env, "show", request_id)
    assert 0 == shown.returncode, shown.stderr
    lines = shown.stdout.splitlines()
    assert f"identities: email={KARI}, phone_number=+4791234567" in lines
    assert "verification note: passport checked at the Oslo office" in lines
    assert "details: corrections: 1 entries" in lines
    assert any(re.fullmatch(r"deadline: \d{4}-\d\d-\d\d \(\d+ days left\)", line) for line in lines)
    assert any("identity verified: staff_in_person" in line for line in lines)

    rejected = run(personvern_cli, env, "reject", request_id, "--reason", "excessive")
    assert (0, f"rejected request {request_id} (excessive)") == (
        rejected.returncode,
        rejected.stdout.strip(),
    )
    after = run(personvern_cli, env, "show", request_id).stdout.splitlines()
    assert "state: rejected" in after
    assert "rejected because: excessive" in after
    assert [request_id] == [
        line.split("\t")[0]
        for line in run(personvern_cli, env, "list", "--state", "rejected").stdout.splitlines()[1:]
    ]

    # Both `show`s are reads of Kari's personal data, in the audit trail without her data.
    with sqlite3.connect(Path(env["PERSONVERN_HOME"]) / "personvern.db") as db:
        trail = db.execute("SELECT action, actor_via, detail FROM audit_events").fetchall()
    reads = [
        (via, json.loads(detail)["what"])
        for action, via, detail in trail
        if action == "personal_data.read"
    ]
    assert [("cli", "request_details")] * 2 == reads
    assert KARI not in repr(trail)

    # The correction is stored sealed; once Kari's key is shredded, `show` and `list` say
    # so instead of failing, and what is not hers (state, reason) stays readable.
    with sqlite3.connect(Path(env["PERSONVERN_HOME"]) / "personvern.db") as db:
        key, details, sealed = db.execute(
            "SELECT subject_key, details, details_sealed FROM data_subject_requests"
        ).fetchone()
    assert details is None
    assert b"Storgata" not in sealed
    shredded = subprocess.run(
        [*personvern_cli, "keys", "shred", "--subject-key", key],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == shredded.returncode, shredded.stderr
    erased = run(personvern_cli, env, "show", request_id)
    assert 0 == erased.returncode, erased.stderr
    lines = erased.stdout.splitlines()
    assert "identities: [erased] (the subject's data key was destroyed)" in lines
    assert "details: [erased] (the subject's data key was destroyed)" in lines
    assert "rejected because: excessive" in lines
    assert "Storgata" not in erased.stdout
    assert "[erased]" == run(personvern_cli, env, "list").stdout.splitlines()[1].split("\t")[6]


def test_create_sends_a_code_and_verify_accepts_it(
    personvern_cli: list[str], env: dict[str, str], inbox: Inbox
) -> None:
    created = run(personvern_cli, env, "create", "--type", "access", "--identity", f"email={KARI}")
    assert 0 == created.returncode, created.stderr
    request_id = created.stdout.strip()
    assert f"a code was e-mailed to {KARI}" in created.stderr
    code = inbox.last_code(KARI)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = run(personvern_cli, env, "verify", request_id, wrong)
    assert (
        2,
        "",
        [
            "personvern: error: the code is wrong; 4 attempts left "
            "(check the latest e-mail from us; only the newest code works)"
        ],
    ) == (
        refused.returncode,
        refused.stdout,
        refused.stderr.splitlines(),
    )
    verified = run(personvern_cli, env, "verify", request_id, code)
    assert (0, f"request {request_id}: verified (email_code)") == (
        verified.returncode,
        verified.stdout.strip(),
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("create", "--type", "access", "--identity", "email=kari@"),
            2,
            "personvern: error: that is not an e-mail address (write it as name@example.com)",
        ),
        (
            ("create", "--type", "access", "--identity", "kari@example.no"),
            2,
            "personvern: error: --identity takes key=value, e.g. email=kari@example.no; "
            "got 'kari@example.no'",
        ),
        (
            ("create", "--type", "complaint", "--identity", "email=kari@example.no"),
            2,
            "personvern: error: unknown request type 'complaint' (use one of access, "
            "portability, erasure, rectification, restriction, objection, withdraw-consent)",
        ),
        (
            (
                "create",
                "--type",
                "access",
                "--identity",
                "email=kari@example.no",
                "--verified-by",
                "staff_in_person",
            ),
            2,
            "personvern: error: say how identity was checked in a note (e.g. 'passport checked "
            "at the Oslo office'; it is kept with the request)",
        ),
        (
            ("show", "0" * 32),
            2,
            f"personvern: error: no data subject request with id '{'0' * 32}' (check the id; "
            "`personvern request list` shows them)",
        ),
        (
            ("reject", "0" * 32, "--reason", "bored"),
            2,
            "personvern: error: unknown rejection reason 'bored' (use one of "
            "identity_not_verified, manifestly_unfounded, excessive, duplicate, "
            "withdrawn_by_subject)",
        ),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    personvern_cli: list[str], env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(personvern_cli, env, *args)
    assert (code, "", [message]) == (result.returncode, result.stdout, result.stderr.splitlines())


def test_without_a_mail_server_a_code_request_fails_with_exit_1(
    personvern_cli: list[str], env: dict[str, str]
) -> None:
    env = {k: v for k, v in env.items() if not k.startswith("PERSONVERN_SMTP_")}
    result = run(personvern_cli, env, "create", "--type", "access", "--identity", f"email={KARI}")
    assert 1 == result.returncode
    [line] = result.stderr.splitlines()
    assert line.startswith("personvern: error: e-mail verification is not configured")
    assert ERROR_LINE.match(line)
    listed = run(personvern_cli, env, "list")
    assert (0, "", "no requests") == (listed.returncode, listed.stdout, listed.stderr.strip())
