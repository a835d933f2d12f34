"""The README's walkthrough, run literally: `make demo` in one terminal, the blocks in another.

The README promised commands that did not work as written: `personvern` was not on
the PATH, the data map and the demo's connections were not set for the command line,
`$ID` was reused, and a dry run with nothing connected said "nothing found" and exited
0. This test copies the checkout (as a fresh clone would have it), starts `make demo`
there with a home of its own, and runs every shell block of sections 1-3 in order in
one bash session (`set -e`: any failing command fails the test). One thing differs:
the port. The demo serves on a free port (`make demo DEMO_ARGS="--port N"`) and the
blocks' 127.0.0.1:8000 is replaced by it, so a demo someone left running on 8000 (or
another test run) can never answer in its place.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DEFAULT_PORT = 8000


def walkthrough_blocks() -> list[str]:
    """The ```sh blocks of the README between "## Walkthrough" and "### 5."."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Walkthrough") : text.index("### 5.")]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_walkthrough_starts_with_make_demo_alone() -> None:
    blocks = walkthrough_blocks()
    assert "make demo\n" == blocks[0]
    assert len(blocks) >= 4


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _fresh_clone(target: Path) -> Path:
    """The checkout's files as a clone has them (tracked and new, not ignored), and .venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    stamp = hashlib.sha1((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    if not (ROOT / ".venv" / f".installed-{stamp}").exists():
        pytest.fail("the virtual environment is older than pyproject.toml: run `make install`")
    # The installed environment, as `make` would find it after `make test` made it. The
    # copied pyproject.toml is dated back: `make` compares dates, and reinstalling from
    # the copy would point the shared environment's editable install at it.
    (target / ".venv").symlink_to(ROOT / ".venv")
    os.utime(target / "pyproject.toml", (0, 0))
    return target


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], int]]:
    """`make demo` serving from a fresh copy of the checkout, with its own home."""
    clone = _fresh_clone(tmp_path / "personvern")
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"XDG_DATA_HOME": str(tmp_path / "data"), "NO_COLOR": "1", "COLUMNS": "160"}
    command = ["make", "demo", f"DEMO_ARGS=--port {port}"]
    editable = next(
        (ROOT / ".venv").glob("lib/python*/site-packages/_editable_impl_personvern.pth")
    )
    installed = editable.read_text(encoding="utf-8")
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        command, cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
                time.sleep(0.5)
        # make must have used the installed environment, not reinstalled from the copy.
        assert installed == editable.read_text(encoding="utf-8"), "make reinstalled"
        yield clone, env, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        log.close()


@pytest.mark.timeout(600)
def test_the_readme_walkthrough_runs_as_written(
    demo: tuple[Path, dict[str, str], int], tmp_path: Path
) -> None:
    clone, env, port = demo
    demo_files = _files(clone)
    script = "set -e\n" + "\n".join(walkthrough_blocks()[1:])
    script = script.replace(f"127.0.0.1:{DEFAULT_PORT}", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert 0 == result.returncode, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    waited = re.findall(r"request (\w{32}): (\w+)$", result.stdout, flags=re.MULTILINE)
    assert [state for _, state in waited] == ["completed"], result.stdout
    erased = re.findall(r"^(\w{32}): partially_completed: ", result.stdout, flags=re.MULTILINE)
    assert 1 == len(erased), result.stdout
    # Once people have told the recipients, the erasure is complete.
    assert re.search(rf"request {erased[0]}: tasks? [\d, ]+ done; completed", result.stdout)
    home = tmp_path / "data" / "personvern"
    exported = sorted(p.name for p in (home / "exports" / erased[0]).iterdir())
    assert "receipt.json" in exported
    # Nothing the walkthrough did landed in the checkout.
    assert demo_files == _files(clone)


def _files(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and ".venv" not in path.relative_to(folder).parts
    }
