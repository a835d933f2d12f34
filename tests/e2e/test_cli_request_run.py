"""`personvern request run --dry-run`, `request run`, `request show` and `request export`.

Staff register an access request for a demo customer, look at the plan, run it and
write the answer's files to a folder, all through the installed command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.demo import ground_truth, schema
from personvern.demo.seed import seed_demo_company
from personvern.demo.targets import demo_environment, targets_from_urls
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.command import personvern


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], int, str]:
    """A small demo company in SQLite: its environment, and one customer's id and e-mail."""
    home = tmp_path_factory.mktemp("company")
    targets = targets_from_urls(home)
    seed_demo_company(targets, customers=30, reference_date=date(2026, 11, 1))
    engine = sa.create_engine(targets.url("crm"))
    with engine.connect() as conn:
        customer_id, email = conn.execute(
            sa.select(schema.customers.c.id, schema.customers.c.email).limit(1)
        ).one()
    engine.dispose()
    # The e-mail system is not served here: the answer must say so, not hide it.
    environ = demo_environment(targets, EXAMPLE_DATAMAP)
    assert ground_truth(targets, customer_id)["crm.customers"] == [customer_id]
    return environ, customer_id, email


def _run(cli: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return personvern(cli, env, "request", *args)


def test_dry_run_run_show_and_export(
    personvern_cli: list[str],
    company: tuple[dict[str, str], int, str],
    tmp_path: Path,
) -> None:
    environ, customer_id, email = company
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = (
        clean
        | environ
        | {
            "PERSONVERN_HOME": str(tmp_path / "home"),
            "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
            "PERSONVERN_SECRET_KEY": "cli-run-secret-0123456789abcdef0123",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    created = _run(
        personvern_cli,
        env,
        "create",
        "--type",
        "access",
        "--identity",
        f"email={email}",
        "--verified-by",
        "staff_known_contact",
        "--note",
        "called back on the contract's number",
    )
    assert 0 == created.returncode, created.stderr
    request_id = created.stdout.strip()

    # The e-mail system is not connected here: the plan says so loudly and exits 1.
    dry = _run(personvern_cli, env, "run", request_id, "--dry-run")
    assert 1 == dry.returncode, dry.stderr
    assert "crm.customers" in dry.stdout
    assert "not searched: email" in dry.stdout
    assert (
        "personvern: error: 1 system(s) could not be searched, so this plan is incomplete: email\n"
    ) == dry.stderr

    ran = _run(personvern_cli, env, "run", request_id)
    assert 1 == ran.returncode, ran.stderr
    assert f"{request_id}: partially_completed" in ran.stdout
    # The SQL systems' table layouts are kept: the next command rebuilds, not reflects.
    store = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'personvern.db'}")
    with store.connect() as conn:
        kept = set(conn.execute(sa.text("SELECT system FROM table_layouts")).scalars())
    store.dispose()
    assert {"crm", "billing", "access_control", "support", "analytics", "marketing"} == kept

    shown = _run(personvern_cli, env, "show", request_id)
    assert 0 == shown.returncode, shown.stderr
    assert "partially_completed" in shown.stdout
    assert "found: crm.customers 1" in shown.stdout
    assert "not connected email: " in shown.stdout
    assert "file export.zip: application/zip" in shown.stdout

    out = tmp_path / "answer"
    exported = _run(personvern_cli, env, "export", request_id, "--out", str(out))
    assert 0 == exported.returncode, exported.stderr
    receipt = json.loads((out / "receipt.json").read_text(encoding="utf-8"))
    assert 1 == receipt["found"]["crm.customers"]
    sent = {item["name"]: item["sha256"] for item in receipt["sent"]}
    assert {"access-report.html", "access-report.pdf", "export.zip"} <= set(sent)
    for name, digest in sent.items():
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    with zipfile.ZipFile(out / "export.zip") as archive:
        customers = json.loads(archive.read("export/crm/customers.json"))
    assert [customer_id] == [record["id"] for record in customers]


def test_running_an_unknown_request_is_one_clear_line(
    personvern_cli: list[str], company: tuple[dict[str, str], int, str], tmp_path: Path
) -> None:
    environ, _, _ = company
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
        | environ
        | {
            "PERSONVERN_HOME": str(tmp_path / "home"),
            "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
        }
    )
    result = _run(personvern_cli, env, "run", "0" * 32)
    assert 2 == result.returncode
    assert result.stderr.startswith("personvern: error: ")
    assert "Traceback" not in result.stderr


def _env(environ: dict[str, str], home: Path) -> dict[str, str]:
    return (
        {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
        | environ
        | {
            "PERSONVERN_HOME": str(home),
            "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )


def _staff_erasure(cli: list[str], env: dict[str, str], email: str) -> str:
    created = _run(
        cli,
        env,
        "create",
        "--type",
        "erasure",
        "--identity",
        f"email={email}",
        "--verified-by",
        "staff_in_person",
        "--note",
        "passport checked at the Oslo office",
    )
    assert 0 == created.returncode, created.stderr
    return created.stdout.strip()


def test_an_erasure_asks_first_and_needs_a_second_person(
    personvern_cli: list[str], company: tuple[dict[str, str], int, str], tmp_path: Path
) -> None:
    environ, _, email = company
    env = _env(environ, tmp_path / "home")
    request_id = _staff_erasure(personvern_cli, env, email)

    # The agent who verified the subject cannot erase alone, nor approve their own.
    alone = _run(personvern_cli, env, "run", request_id, "--yes")
    assert (2, True) == (
        alone.returncode,
        alone.stderr.startswith(
            f"personvern: error: erasure {request_id} needs a second person's approval"
        ),
    )
    own = _run(personvern_cli, env, "approve", request_id, "--yes")
    assert 1 == own.returncode  # the plan is incomplete: e-mail is not connected here
    env_all = env | {"PERSONVERN_FOUR_EYES": "off"}

    # Without a terminal and without --yes, nothing runs.
    asked = _run(personvern_cli, env_all, "run", request_id)
    assert 2 == asked.returncode
    assert "changes data: run it with --yes" in asked.stderr
    shown = _run(personvern_cli, env_all, "show", request_id)
    assert "state: verified" in shown.stdout

    ran = _run(personvern_cli, env_all, "run", request_id, "--yes")
    assert f"{request_id}: partially_completed" in ran.stdout, ran.stderr
    shown = _run(personvern_cli, env_all, "show", request_id)
    login = shown.stdout.split("channel: cli, by ", 1)[1].split("\n", 1)[0]
    assert f"run started\t{login}" in shown.stdout


def test_what_the_cli_prints_cannot_drive_the_terminal(
    personvern_cli: list[str], company: tuple[dict[str, str], int, str], tmp_path: Path
) -> None:
    from personvern.store.db import make_engine, make_session_factory, session_scope
    from personvern.store.migrate import upgrade_to_head
    from personvern.store.requests import RequestRepository

    environ, _, _ = company
    home = tmp_path / "home"
    env = _env(environ, home)
    url = f"sqlite:///{home / 'personvern.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    # Stored before intake refused such values: an ESC sequence that retitles a
    # terminal, a BEL, and a right-to-left override.
    hostile = "x@\x1b]0;pwned\x07\u202eexample.no"
    with session_scope(make_session_factory(engine)) as session:
        request = RequestRepository(session).add(
            type="access",  # type: ignore[arg-type]
            identities=[{"kind": "email", "value": hostile}],
            identity_hashes=(),
            subject_key="0" * 64,
            language="nb",
            channel="public",
            created_by="subject\x1b[2J",
            deadline=date(2026, 12, 1),
        )
        request_id = request.id
    engine.dispose()
    for args in (("list",), ("show", request_id)):
        result = _run(personvern_cli, env, *args)
        assert 0 == result.returncode, result.stderr
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in result.stdout, args
        assert "\\x1b" in result.stdout, args


def test_a_restriction_leaves_tasks_that_request_done_completes(
    personvern_cli: list[str], company: tuple[dict[str, str], int, str], tmp_path: Path
) -> None:
    # Before, a restriction ran to `completed` and changed nothing in any system.
    environ, first, _ = company
    env = _env(environ, tmp_path / "home")
    # Another customer than the first, whom an erasure above may have emptied.
    crm = sa.create_engine(environ["PERSONVERN_DEMO_CRM_URL"])
    with crm.connect() as conn:
        customer_id, email = conn.execute(
            sa.select(schema.customers.c.id, schema.customers.c.email)
            .where(schema.customers.c.id != first)
            .order_by(schema.customers.c.id)
            .limit(1)
        ).one()
    crm.dispose()
    created = _run(
        personvern_cli,
        env,
        "create",
        "--type",
        "restriction",
        "--identity",
        f"email={email}",
        "--verified-by",
        "staff_known_contact",
        "--note",
        "called back on the contract's number",
    )
    assert 0 == created.returncode, created.stderr
    request_id = created.stdout.strip()
    ran = _run(personvern_cli, env, "run", request_id, "--yes")
    assert (1, True) == (ran.returncode, f"{request_id}: partially_completed: " in ran.stdout)
    crm = sa.create_engine(environ["PERSONVERN_DEMO_CRM_URL"])
    with crm.connect() as conn:
        restricted = conn.execute(
            sa.select(schema.customers.c.id).where(schema.customers.c.restricted_at.is_not(None))
        ).all()
    crm.dispose()
    assert [(customer_id,)] == restricted

    shown = _run(personvern_cli, env, "show", request_id)
    assert "restricted crm.customers: 1 (restricted_at set)" in shown.stdout
    tasks = re.findall(r"^task (\d+): open: (.*)$", shown.stdout, flags=re.MULTILINE)
    # E-mail is not connected here: restricting there is left to a person, like telling
    # the recipients (Art. 19).
    assert (
        "restrict the subject's records in Microsoft 365 e-mail (email) by hand: personvern "
        "could not search it (Microsoft 365 e-mail is not connected: "
        "PERSONVERN_M365_WEBHOOK_URL is not set)"
    ) in [description for _, description in tasks]
    assert any(d.startswith("tell Debt collection agency (NO) of") for _, d in tasks)

    *others, (last, _) = tasks
    for task_id, _ in others:
        done = _run(personvern_cli, env, "done", request_id, task_id, "--note", "done by hand")
        assert 0 == done.returncode, done.stderr
        assert f"request {request_id}: task {task_id} done; partially_completed, " in done.stdout
    hidden = _run(personvern_cli, env, "done", request_id, last, "--note", "x\x1b[2J")
    assert (2, "personvern: error: the note contains an ESC (escape) character") == (
        hidden.returncode,
        hidden.stderr[: len("personvern: error: the note contains an ESC (escape) character")],
    )
    done = _run(personvern_cli, env, "done", request_id, last, "--note", "Told them by phone")
    assert (0, f"request {request_id}: task {last} done; completed\n") == (
        done.returncode,
        done.stdout,
    )
    again = _run(personvern_cli, env, "done", request_id, last, "--note", "again")
    login = shown.stdout.split("channel: cli, by ", 1)[1].split("\n", 1)[0]
    assert (
        2,
        f"personvern: error: task {last} of request {request_id} is already done (by {login}) "
        "(`personvern request show` lists the tasks still open)\n",
    ) == (again.returncode, again.stderr)
    unknown = _run(personvern_cli, env, "done", request_id, "999999", "--note", "x")
    assert (2, f"personvern: error: request {request_id} has no task 999999") == (
        unknown.returncode,
        unknown.stderr.split(" (", 1)[0],
    )

    shown = _run(personvern_cli, env, "show", request_id)
    assert "state: completed" in shown.stdout
    assert f"task {last}: done: " in shown.stdout
    assert f"(done by {login}, " in shown.stdout
    assert f"all tasks done\t{login}" in shown.stdout


def test_stored_text_is_never_read_as_markup_in_a_terminal(
    personvern_cli: list[str], company: tuple[dict[str, str], int, str], tmp_path: Path
) -> None:
    from personvern.store.db import make_engine, make_session_factory, session_scope
    from personvern.store.migrate import upgrade_to_head
    from personvern.store.requests import RequestRepository

    environ, _, _ = company
    home = tmp_path / "home"
    # A terminal, as staff run it (tables are drawn only there).
    env = _env(environ, home) | {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    url = f"sqlite:///{home / 'personvern.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    # Filed before identities were checked as strictly: Rich markup in stored values.
    with session_scope(make_session_factory(engine)) as session:
        request = RequestRepository(session).add(
            type="access",  # type: ignore[arg-type]
            identities=[
                {"kind": "email", "value": "a@evil.[/b][link=https://evil.example]x[/link]"}
            ],
            identity_hashes=(),
            subject_key="0" * 64,
            language="nb",
            channel="public",
            created_by="[link=https://evil.example/reset]click-here[/link]",
            deadline=date(2026, 12, 1),
        )
        request_id = request.id
    engine.dispose()
    for args in (("list",), ("show", request_id)):
        result = _run(personvern_cli, env, *args)
        assert (0, "") == (result.returncode, result.stderr), args
        # No hyperlink escape (OSC 8) reaches the terminal; the text shows as written.
        assert "\x1b]8;" not in result.stdout, args
    assert "[link=https://evil.example/reset]click-here[/link]" in result.stdout.replace("\n", "")
