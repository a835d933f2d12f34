"""RunEndings: a run ending on another thread wakes the waiters of its request, only them."""

from __future__ import annotations

import asyncio
import threading

from personvern.jobs.run_endings import RunEndings
from tests.support.event_loops import on_a_loop_of_its_own


def test_a_run_ending_on_another_thread_wakes_its_waiters_only() -> None:
    endings = RunEndings()

    async def scenario() -> tuple[bool, bool]:
        with endings.watching("a") as a, endings.watching("b") as b:
            threading.Thread(target=endings.ended, args=("a",)).start()
            await asyncio.wait_for(a.wait(), 10)
            # b's run has not ended: its event stays unset.
            await asyncio.sleep(0)
            return a.is_set(), b.is_set()

    assert (True, False) == on_a_loop_of_its_own(scenario)


def test_waiters_that_left_are_forgotten() -> None:
    endings = RunEndings()

    async def scenario() -> None:
        with endings.watching("a"), endings.watching("a"):
            pass

    on_a_loop_of_its_own(scenario)
    assert {} == endings._waiting
    # An end nobody waits for (or whose loop is gone) changes nothing.
    endings.ended("a")
    assert {} == endings._waiting


def test_a_waiter_whose_loop_closed_does_not_fail_the_run_that_ended() -> None:
    endings = RunEndings()
    loop = asyncio.new_event_loop()
    event = asyncio.Event()
    # As a waiter whose server stopped while it waited (its entry not yet removed).
    endings._waiting["a"] = [(loop, event)]
    loop.close()
    endings.ended("a")
    assert not event.is_set()
