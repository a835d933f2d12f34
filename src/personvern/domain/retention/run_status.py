"""A retention run as a whole: its status, and why a second run on a system is refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind


class RunStatus(StrEnum):
    """Where a run is: asked for, sweeping, or how it ended."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    #: A table failed or was interrupted, or the run could not start.
    FAILED = "failed"
    #: The safety stop refused a table, or another run held the system.
    REFUSED = "refused"


#: Table statuses (personvern.engine.retention.sweep.TableStatus) that fail a run.
_FAILING = frozenset({"failed", "interrupted"})


def run_status(table_statuses: Iterable[str]) -> RunStatus:
    """The status of a finished run from its tables': failed beats refused beats done."""
    statuses = set(table_statuses)
    if statuses & _FAILING:
        return RunStatus.FAILED
    if "refused" in statuses:
        return RunStatus.REFUSED
    return RunStatus.DONE


#: How long a run's reason may be (retention_jobs.message).
MESSAGE_LENGTH = 500


def confirm_commands(targets: Iterable[str]) -> str:
    """The command(s) that confirm a refused run of ``targets`` ("system.dataset"), quoted."""
    systems = sorted({target.partition(".")[0] for target in targets})
    return " and ".join(f"`personvern retention run --system {s} --confirm`" for s in systems)


def refusal_message(refused: Sequence[tuple[str, str, str | None]]) -> str:
    """Why the safety stop refused a run, and the command that confirms it.

    ``refused``: per table refused, its rule, its target ("system.dataset") and the
    stop's words (counts and shares, no personal value). The command comes first, so
    the reason never loses it to the length limit.
    """
    commands = confirm_commands(target for _rule, target, _why in refused)
    first_rule, first_target, first_why = refused[0]
    others = ", ".join(rule for rule, _target, _why in refused[1:])
    also = f"; also refused: {others}" if others else ""
    message = (
        f"refused by the safety stop: check the rule, then run {commands} (or POST "
        f'/api/v1/retention/runs with "confirm": true); {first_rule} on {first_target}: '
        f"{first_why or 'needs confirmation'}{also}"
    )
    return message[:MESSAGE_LENGTH]


def unstarted_message(requested_at: datetime, lease: timedelta, system: str | None) -> str:
    """Why a queued run that no worker picked up before its lease ran out has failed."""
    minutes = max(1, round(lease.total_seconds() / 60))
    again = f" --system {system}" if system else ""
    return (
        f"queued at {requested_at:%Y-%m-%d %H:%M} UTC and never started: no worker picked it "
        f"up within {minutes} minute(s), so its lease ran out and it will not run; check that "
        f"`personvern worker` is running and reaches the broker (embedded: that the "
        f"server's job thread is not held up by a long run), then start it again "
        f"(`personvern retention run{again}`, or the next scheduled time)"
    )[:MESSAGE_LENGTH]


class RunInProgressError(DomainError):
    """Another retention run holds the system: one run per system at a time."""

    kind = ErrorKind.CONFLICT
    title = "Retention run in progress"

    def __init__(
        self, system: str, *, holder: str | None = None, until: datetime | None = None
    ) -> None:
        """Say which system is held, by whom, and until when the lease runs at the latest."""
        who = f" by {holder}" if holder else ""
        lease = f" (its lease runs out at {until:%Y-%m-%d %H:%M} UTC)" if until else ""
        super().__init__(
            f"a retention run on system '{system}' is in progress{who}{lease}",
            hint="wait for it to finish; a run that was killed frees the system when its "
            "lease runs out",
        )
        self.system = system


class RunAlreadyStartedError(RunInProgressError):
    """A scheduled time another scheduler has already started a run for."""

    def __init__(self, system: str) -> None:
        """Name the system whose scheduled run has started elsewhere."""
        DomainError.__init__(
            self,
            f"the scheduled retention run on system '{system}' has already started",
            hint="nothing to do: another scheduler started it",
        )
        self.system = system
