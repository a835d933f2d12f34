"""An ASGI app under a real uvicorn server on 127.0.0.1, for tests that need a port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


@contextmanager
def serving(app: FastAPI, *, start_timeout: float = 20) -> Iterator[str]:
    """Serve ``app`` on a free port in a background thread; yields its base URL."""
    # The socket is bound here and handed to uvicorn, so no other process can take the port
    # between choosing it and listening on it.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting (see the log above)"
            assert time.monotonic() < deadline, f"the server did not start in {start_timeout} s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
