"""Tells whoever waits in this process that a request's run has ended.

``GET /requests/{id}/state?wait=`` answers when a run ends. The store says whether it
has; this only says when to look again. A run on the serving process's own job thread
wakes the waiters the moment its final state is committed, instead of their next look
(every few milliseconds, each a read that competes with the run for the interpreter). A
run on a Celery worker, another process, wakes nobody here: the waiters still look on
their own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RunEndings:
    """Wakes the waiters of a request, from any thread, when its run ends."""

    def __init__(self) -> None:
        """No one waits yet."""
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def ended(self, request_id: str) -> None:
        """The run of ``request_id`` ended (its state is committed): wake its waiters."""
        with self._lock:
            waiters = list(self._waiting.get(request_id, ()))
        for loop, event in waiters:
            # A loop closed since it was checked has nobody left to wake; the run that
            # ended must not fail for it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @contextmanager
    def watching(self, request_id: str) -> Iterator[asyncio.Event]:
        """An event of the running loop, set when the run of ``request_id`` ends."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiting.setdefault(request_id, []).append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiters = self._waiting.get(request_id, [])
                waiters.remove(entry)
                if not waiters:
                    self._waiting.pop(request_id, None)
