"""`personvern worker`, with every SQL statement counted per task, for the request benchmark.

Run as ``python -m bench.worker worker [options]``: the same CLI and worker, plus a
``before_cursor_execute`` listener on every SQLAlchemy engine of the process. After
each task the pool process appends one JSON line to $PV_BENCH_COUNTS: the request id,
the statements sent to the company's databases (those named in $PV_BENCH_COMPANY_DB,
comma-separated) and those sent to personvern's store (everything else).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import signals

_COMPANY = frozenset(filter(None, os.environ.get("PV_BENCH_COMPANY_DB", "").split(",")))
_counts = {"company": 0, "store": 0}


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _count(conn: sa.Connection, *_args: object) -> None:
    which = "company" if conn.engine.url.database in _COMPANY else "store"
    _counts[which] += 1


@signals.task_prerun.connect
def _reset(**_kwargs: Any) -> None:
    _counts["company"] = _counts["store"] = 0


@signals.task_postrun.connect
def _record(args: tuple[Any, ...] | None = None, **_kwargs: Any) -> None:
    path = os.environ.get("PV_BENCH_COUNTS")
    if not path or not args:
        return
    line = json.dumps({"request_id": args[0], "pid": os.getpid(), **_counts})
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    from personvern.cli import main

    main()
