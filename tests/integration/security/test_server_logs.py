"""`personvern serve` logs one redacted JSON object per line when PERSONVERN_LOG_FORMAT=json."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_DATAMAP

DOWNLOAD_TOKEN = "v1.bm90LWEtcmVhbC1saW5r.c2lnbmF0dXJl"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(90)
def test_the_server_writes_redacted_json_lines(personvern_cli: list[str], tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {
        "PERSONVERN_HOME": str(tmp_path / "home"),
        "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
        "PERSONVERN_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [*personvern_cli, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, "the server stopped while starting"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        httpx.get(f"{base}/api/v1/downloads/{DOWNLOAD_TOKEN}", timeout=5)
        httpx.get(f"{base}/api/v1/ropa", headers={"Authorization": "Bearer pv_guess"}, timeout=5)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = [line for line in stderr.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert entries, stderr
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    access = [e["message"] for e in entries if e["logger"] == "uvicorn.access"]
    assert any("/api/v1/downloads/<link>" in message for message in access), access
    assert DOWNLOAD_TOKEN not in stderr
    assert "pv_guess" not in stderr
