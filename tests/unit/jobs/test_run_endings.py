"""RunEndings: a run ending on another thread wakes the waiters of its request, only them."""

from __future__ import annotations

import asyncio
import threading

from personvern.jobs.run_endings import RunEndings


def test_a_run_ending_on_another_thread_wakes_its_waiters_only() -> None:
    endings = RunEndings()

    async def scenario() -> tuple[bool, bool]:
        with endings.watching("a") as a, endings.watching("b") as b:
            threading.Thread(target=endings.ended, args=("a",)).start()
            await asyncio.wait_for(a.wait(), 10)
            # b's run has not ended: its event stays unset.
            await asyncio.sleep(0)
            return a.is_set(), b.is_set()

    assert (True, False) == asyncio.run(scenario())


def test_waiters_that_left_are_forgotten() -> None:
    endings = RunEndings()

    async def scenario() -> None:
        with endings.watching("a"), endings.watching("a"):
            pass

    asyncio.run(scenario())
    assert {} == endings._waiting
    # An end nobody waits for (or whose loop is gone) changes nothing.
    endings.ended("a")
    assert {} == endings._waiting
