"""Work the server repeats on a timer in the background: housekeeping of its own data."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls ``work`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, name: str, interval: float, work: Callable[[], object]) -> None:
        self._name = name
        self._interval = interval
        self._work = work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        """Run once now, then every interval."""
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop after the current round (if any)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception:
                # A failed round is logged and tried again next time; the server goes on.
                log.exception("%s failed; trying again in %.0f s", self._name, self._interval)
            self._stop.wait(self._interval)
