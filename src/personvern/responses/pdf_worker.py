"""Render PDF reports in a child process, so the serving process's threads keep running.

Laying out a PDF report is pure Python that holds the interpreter for a third of a
second or more. Rendered on the serving process's job thread right after a run, it
slowed every request the server answered meanwhile, the answer that the run had ended
among them (a client waiting on ``GET /requests/{id}/state?wait=``). The in-process job
runner hands it to one child process instead; the command line and the Celery workers,
which serve no requests, render in their own process.

A child that cannot be started or dies is given up on: the report is then rendered in
this process, as before, and the log says why.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personvern.responses.access_report import AccessReport

    # fpdf2 takes a quarter of a second to import: only the child process loads it.
    from personvern.responses.pdf import FontChoice

log = logging.getLogger(__name__)


def _render(report: AccessReport, generated_at: datetime, font: FontChoice) -> bytes:
    from personvern.responses.pdf import render_report_pdf

    return render_report_pdf(report, generated_at=generated_at, font=font)


class PdfWorker:
    """One child process that lays out PDF reports; started on first use."""

    def __init__(self) -> None:
        """Prepare the worker (no process is started until a report is rendered)."""
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._given_up = False

    def render(self, report: AccessReport, generated_at: datetime, font: FontChoice) -> bytes:
        """The PDF of ``report``, laid out in the child process (here if it cannot be)."""
        pool = self._started()
        if pool is not None:
            try:
                return pool.submit(_render, report, generated_at, font).result()
            except (BrokenProcessPool, OSError, pickle.PicklingError) as exc:
                log.warning("the PDF process failed (%s); PDFs are rendered in-process", exc)
                self._give_up()
        return _render(report, generated_at, font)

    def _started(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._given_up:
                try:
                    # spawn, not fork: the serving process has threads (and connections)
                    # that a forked child would inherit in whatever state they were in.
                    self._pool = ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn")
                    )
                except OSError as exc:
                    log.warning("no PDF process (%s); PDFs are rendered in-process", exc)
                    self._given_up = True
            return self._pool

    def _give_up(self) -> None:
        with self._lock:
            pool, self._pool, self._given_up = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the child process (a report being rendered is finished first)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
