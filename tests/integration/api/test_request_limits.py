"""Bodies are bounded and nesting is limited before parsing; server faults show an incident id.

Before, a 100 MB body to the public `POST /api/v1/requests` was read and parsed, and
under load anonymous callers got 503s carrying the store's file path and the driver's
message.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.limits import json_depth
from personvern.settings import Settings

PROBLEM = "application/problem+json"


def nested(depth: int) -> str:
    """A request body whose identities are nested ``depth`` levels deep in all."""
    return '{"type": "access", "identities": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{ not structure \\" [[[ "}', 1),
        (b"[" * 100 + b"]" * 100, 33),
        (b"not json", 0),
    ],
)
def test_json_depth_counts_structure_outside_strings(body: bytes, depth: int) -> None:
    assert depth == json_depth(body, stop_at=32)


def test_a_body_over_the_limit_is_refused_with_413(client: TestClient) -> None:
    response = client.post(
        "/api/v1/requests",
        content=b'{"type": "access", "x": "' + b"a" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert (413, PROBLEM, "the request body is larger than 65536 bytes") == (
        response.status_code,
        response.headers["content-type"],
        response.json()["detail"],
    )


def test_a_streamed_body_is_refused_once_it_passes_the_limit(client: TestClient) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 1
            yield b"x" * 1024

    response = client.post(
        "/api/v1/requests", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert 413 == response.status_code


@pytest.mark.parametrize("depth", [33, 10_000])
def test_json_nested_too_deeply_is_refused_before_parsing(client: TestClient, depth: int) -> None:
    response = client.post(
        "/api/v1/requests", content=nested(depth), headers={"Content-Type": "application/json"}
    )
    assert (422, "the JSON body is nested deeper than 32 levels") == (
        response.status_code,
        response.json()["detail"],
    )


def test_json_nested_within_the_limit_reaches_validation(client: TestClient) -> None:
    response = client.post(
        "/api/v1/requests", content=nested(32), headers={"Content-Type": "application/json"}
    )
    assert 422 == response.status_code
    assert response.json()["detail"].startswith("body.identities")


@pytest.fixture
def server(settings: Settings, example_datamap_path: Path) -> Iterator[tuple[str, int]]:
    """The app under a real uvicorn server on a free port."""
    app = create_app(settings, example_datamap_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(10)


def test_a_declared_100_mb_body_is_refused_without_reading_it(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n" + b"{" * 1000
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            assert chunk, "the server closed the connection without an answer"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_store_fault_shows_an_incident_id_not_the_store(
    tmp_path: Path, example_datamap_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A PostgreSQL store on a port nobody listens on: every use fails.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"postgresql+psycopg://personvern:hunter2-secret@127.0.0.1:{port}/pv",
        auto_migrate=False,
        smtp_host="127.0.0.1",
        smtp_port=port,
    )
    with (
        caplog.at_level(logging.ERROR, logger="personvern.api"),
        TestClient(create_app(settings, example_datamap_path)) as client,
    ):
        response = client.post(
            "/api/v1/requests",
            json={"type": "access", "identities": [{"kind": "email", "value": "k@example.no"}]},
        )
    problem = response.json()
    assert (503, PROBLEM) == (response.status_code, response.headers["content-type"])
    assert problem["detail"] == (
        "the request could not be completed because of a problem on our side; "
        f"it has been logged as incident {problem['incident']}"
    )
    for leak in ("127.0.0.1", str(port), "postgresql", "personvern:", "hunter2"):
        assert leak not in response.text
    logged = [r.getMessage() for r in caplog.records]
    assert any(problem["incident"] in m and "cannot use the store" in m for m in logged)


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        # The body that made a regular expression over strings take 12 s: one pass now.
        (b'"' + b'\\"' * 32_000, 0),
        (b'["\\"[[[", ["\\\\"], [[]]]', 3),
        (b'{"a": "\\\\"}' + b"[[", 2),
    ],
)
def test_escapes_inside_strings_are_followed(body: bytes, depth: int) -> None:
    assert depth == json_depth(body, stop_at=32)


def test_a_body_trickled_in_slowly_is_cut_off(
    settings: Settings, example_datamap_path: Path
) -> None:
    from personvern.api.limits import RequestLimits

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not see a body that never arrived")

    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    limits = RequestLimits(app, body_seconds=0.2)  # type: ignore[arg-type]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        await asyncio.sleep(0.1)
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/api/v1/requests", "headers": []}
    # A thread of its own: a browser test's event loop may still be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, limits(scope, receive, send)).result(timeout=10)  # type: ignore[arg-type]
    assert 408 == sent[0]["status"]


def test_a_second_content_type_header_is_refused(server: tuple[str, int]) -> None:
    # The limits read one Content-Type and the framework another: 5,000 levels got through.
    body = b"[" * 5000 + b"]" * 5000
    with socket.create_connection(server, timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Type: text/plain\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ")
