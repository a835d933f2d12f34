"""The installed `personvern` command run as a user runs it, for the end-to-end tests."""

from __future__ import annotations

import subprocess


def personvern(
    cli: list[str], env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``cli`` (the command) with ``args`` in ``env``; its exit code, stdout and stderr."""
    return subprocess.run(
        [*cli, *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
