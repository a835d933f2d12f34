"""The server's access log never holds a download link (the link is the credential)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DATAMAP


def test_download_tokens_are_not_written_to_the_access_log(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"PERSONVERN_HOME": str(tmp_path / "home"), "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP)}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*personvern_cli, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    token = "eyJsaW5rIjoic2VjcmV0In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2Vk"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/downloads/{token}", timeout=5)
        refused.value.close()
        assert 403 == refused.value.code
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    written = log.read_text()
    assert "/api/v1/downloads/<link>" in written
    assert token not in written
    assert token.split(".")[1] not in written
