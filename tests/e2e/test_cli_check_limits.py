"""`personvern check` on a YAML bomb: one located error, at once, in little memory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.yaml_bombs import billion_laughs, bomb_location

# `personvern --version` alone peaks at about 80 MB (Python, pydantic, fideslang, Rich);
# expanding the bomb took 3.7 GB before aliases were limited.
MAX_RSS_BYTES = 200 * 1024 * 1024


# Run the command in a fresh interpreter that reports its own peak memory as it exits.
# VmHWM belongs to the process's own address space; ru_maxrss of a child would also
# count the (large) pytest process it was forked from.
_MEASURED = """
import atexit, sys
def report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:")).split()[1]
    sys.stderr.write(f"peak-kb {peak}\\n")
atexit.register(report)
from personvern.cli import main
sys.argv = ["personvern", *sys.argv[1:]]
main()
"""


@pytest.mark.timeout(60)
def test_check_refuses_a_billion_laughs_bomb(tmp_path: Path) -> None:
    import sys

    bomb = tmp_path / "personvern.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PERSONVERN_DATAMAP"}
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, "check", str(bomb)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    *lines, last = result.stderr.splitlines()
    peak = int(last.removeprefix("peak-kb ")) * 1024
    assert (1, "") == (result.returncode, result.stdout)
    assert [
        f"{bomb}:{bomb_location(bomb.read_text(encoding='utf-8'))}: error: aliases repeat too "
        "many values (more than 10000): YAML anchors may repeat at most 10000 values in a "
        "data map file",
        f"{bomb}: 1 error(s), 0 warning(s)",
    ] == lines
    assert peak < MAX_RSS_BYTES, f"peak RSS {peak} bytes"
