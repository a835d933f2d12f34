"""`personvern demo` as a user runs it: the real console script, seeding only."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PERSONVERN = ROOT / ".venv" / "bin" / "personvern"
SYSTEMS = ("crm", "billing", "access_control", "support", "analytics", "marketing")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    return subprocess.run(
        [str(PERSONVERN), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_seeds_sqlite_files_and_file_stores(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Run from the checkout, as `make demo` does: the data map is found by walking up.
    result = _run("demo", "--customers", "30", "--no-serve", "--home", str(home), cwd=ROOT)

    assert 0 == result.returncode, result.stderr
    demo = home / "demo"
    for system in SYSTEMS:
        assert (demo / f"{system}.sqlite").is_file(), system
    with sqlite3.connect(demo / "crm.sqlite") as conn:
        assert 30 == conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert list((demo / "telephony").glob("recordings/**/*.wav"))
    assert (demo / "identity-documents.fernet.key").is_file()
    assert "PERSONVERN_DEMO_CRM_URL=sqlite:///" in result.stdout
    assert "PERSONVERN_DEMO_RECORDINGS_DIR=" in result.stdout


def test_demo_rerun_skips_what_is_seeded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    args = ("demo", "--customers", "30", "--no-serve", "--home", str(home))
    assert 0 == _run(*args, cwd=ROOT).returncode

    again = _run(*args, cwd=ROOT)

    assert 0 == again.returncode, again.stderr
    assert "Already seeded" in again.stdout
    with sqlite3.connect(home / "demo" / "crm.sqlite") as conn:
        assert 30 == conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def test_demo_finds_the_data_map_from_outside_the_checkout(tmp_path: Path) -> None:
    # An editable install: the example folder is found above the package's own files.
    result = _run("demo", "--customers", "5", "--no-serve", "--home", "home", cwd=tmp_path)
    assert 0 == result.returncode, result.stderr
    assert (tmp_path / "home" / "demo" / "crm.sqlite").is_file()


def test_demo_rejects_a_bad_database_url(tmp_path: Path) -> None:
    result = _run(
        "demo", "--no-serve", "--home", str(tmp_path), "--crm-url", "nosuchdb://x", cwd=ROOT
    )
    assert 2 == result.returncode
    assert "personvern: error:" in result.stderr
    assert "Traceback" not in result.stderr


# -- the serving demo, with its outbox -------------------------------------------------------

CODE = re.compile(r"\b(\d{6})\b")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _serving(
    home: Path, log: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`personvern demo` serving on a free port until the block ends; yields its base URL."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    environment.update(env or {})
    args = ["demo", "--customers", "40", "--home", str(home), "--port", str(port), *extra]
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(PERSONVERN), *args], cwd=ROOT, env=environment, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the demo did not start:\n" + log.read_text()
            try:
                if 200 == httpx.get(f"{base}/healthz", timeout=2).status_code:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        # SIGTERM, as a service manager stops it: uvicorn shuts down and the demo cleans up.
        process.terminate()
        try:
            # 128 + SIGTERM from a SystemExit: the demo unwound and stopped its servers.
            assert 128 + signal.SIGTERM == process.wait(timeout=30), log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_new_user_files_a_request_and_reads_the_code_from_the_outbox(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = tmp_path / "demo.log"

    with _serving(home, log) as base:
        with sqlite3.connect(home / "demo" / "crm.sqlite") as conn:
            email = conn.execute("SELECT email FROM customers ORDER BY id LIMIT 1").fetchone()[0]
        filed = httpx.post(
            f"{base}/api/v1/requests",
            json={"type": "access", "identities": [{"kind": "email", "value": email}]},
            timeout=10,
        )
        assert 201 == filed.status_code, filed.text
        assert "awaiting_verification" == filed.json()["state"]
        request_id = filed.json()["id"]

        outbox = httpx.get(f"{base}/demo/outbox", timeout=10)
        assert 200 == outbox.status_code, outbox.text
        newest = outbox.json()[0]
        assert email == newest["to"]
        assert request_id in newest["body"]
        found = CODE.search(newest["body"])
        assert found, newest["body"]
        shown = httpx.get(f"{base}/demo/outbox/{newest['id']}", timeout=10)
        assert found.group(1) in shown.text

        verified = httpx.post(
            f"{base}/api/v1/requests/{request_id}/verify",
            json={"code": found.group(1)},
            timeout=10,
        )
        assert 200 == verified.status_code, verified.text
        assert "verified" == verified.json()["state"]

    banner = log.read_text()
    assert f"curl {base}/demo/outbox" in banner
    staff = re.search(
        rf"Staff console: {re.escape(base)}/staff/  user: dpo  password: (\S+)\n", banner
    )
    assert staff, banner
    _assert_demo_dpo_signs_in(home, staff.group(1))
    assert str(home / "demo" / "outbox") in banner
    configured = re.search(r"PERSONVERN_SMTP_PORT=(\d+)", banner)
    assert configured, banner
    smtp_port = int(configured.group(1))
    assert [f"{newest['id']}.eml"] == [p.name for p in (home / "demo" / "outbox").iterdir()]
    with socket.socket() as probe:
        # The demo stopped its mail server on the way out.
        assert 0 != probe.connect_ex(("127.0.0.1", smtp_port))


def _assert_demo_dpo_signs_in(home: Path, password: str) -> None:
    from personvern.cli.application import store_unit_of_work
    from personvern.security.staff_accounts import sign_in_with_password
    from personvern.settings import Settings

    settings = Settings(home=home, database_url=None, datamap=None, auto_migrate=None)
    with store_unit_of_work(settings) as uow:
        principal = sign_in_with_password(
            uow.session, "dpo", password, settings=settings, client=None
        )
    assert ("local:dpo", "privacy_officer") == (principal.subject, principal.role.value)


def test_the_demo_leaves_a_configured_smtp_server_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = tmp_path / "demo.log"
    configured = {"PERSONVERN_SMTP_HOST": "127.0.0.1", "PERSONVERN_SMTP_PORT": str(_free_port())}

    with _serving(home, log, "--smtp-port", str(_free_port()), env=configured) as base:
        assert 404 == httpx.get(f"{base}/demo/outbox", timeout=10).status_code

    banner = log.read_text()
    assert "SMTP server already configured" in banner
    assert "--smtp-port is ignored" in banner
    assert not (home / "demo" / "outbox").exists()
