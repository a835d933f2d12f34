"""A retention run as a whole: its status, and why a second run on a system is refused."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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
