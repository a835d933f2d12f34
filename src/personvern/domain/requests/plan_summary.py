"""A request's plan in plain language: per system, what is handed over, erased, kept and why.

The stored plan lists record keys for the engine; people reading it before approving a
run need the counts and the reasons. Each dataset's part becomes a few :class:`PlanLine`
items (an action, how many records, and the fields, strategy or legal ground that
explains it); the console words them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from personvern.domain.requests.dataset_plan import DatasetPlan
from personvern.domain.requests.request_plan import RequestPlan


class PlanAction(StrEnum):
    """What the run does to some of the subject's records in one dataset."""

    EXPORT = "export"
    DELETE = "delete"
    ERASE_FIELDS = "erase_fields"
    REDACT = "redact"
    KEEP = "keep"
    RECTIFY = "rectify"
    STOP_MARKETING = "stop_marketing"
    RESTRICT = "restrict"
    RESTRICT_BY_HAND = "restrict_by_hand"


@dataclass(frozen=True)
class PlanLine:
    """One action on ``count`` records, and what explains it (fields, strategy, ground)."""

    action: PlanAction
    count: int
    #: Field names the action touches (erased, redacted, corrected), if any.
    fields: tuple[str, ...] = ()
    #: Why records are kept (the legal hold's reference), for KEEP.
    reason: str | None = None


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset's part of the plan, as lines."""

    system: str
    dataset: str
    found: int
    lines: tuple[PlanLine, ...]


@dataclass(frozen=True)
class PlanSummary:
    """The whole plan in plain language, grouped by system."""

    systems: tuple[tuple[str, tuple[DatasetSummary, ...]], ...]
    manual_steps: tuple[str, ...]
    unavailable: tuple[tuple[str, str], ...]
    recipients: tuple[str, ...]
    conflicts: tuple[str, ...]
    found_nothing: bool


def summarise(plan: RequestPlan) -> PlanSummary:
    """The plain-language summary of ``plan`` (no record key or value is carried over)."""
    by_system: dict[str, list[DatasetSummary]] = {}
    for part in plan.datasets:
        if not part.found:
            continue
        by_system.setdefault(part.system, []).append(
            DatasetSummary(part.system, part.dataset, part.found, dataset_lines(part))
        )
    return PlanSummary(
        systems=tuple((system, tuple(parts)) for system, parts in by_system.items()),
        manual_steps=tuple(step.description for step in plan.manual_steps),
        unavailable=tuple(sorted(plan.unavailable.items())),
        recipients=plan.recipients,
        conflicts=plan.conflicts,
        found_nothing=plan.found_nothing,
    )


def dataset_lines(part: DatasetPlan) -> tuple[PlanLine, ...]:
    """What happens in one dataset, one line per action that touches any record."""
    lines: list[PlanLine] = []

    def add(
        action: PlanAction,
        records: Sequence[object],
        fields: tuple[str, ...] = (),
        reason: str | None = None,
    ) -> None:
        if records:
            lines.append(PlanLine(action, len(records), fields, reason))

    add(PlanAction.EXPORT, part.export)
    add(PlanAction.DELETE, part.delete)
    add(
        PlanAction.ERASE_FIELDS,
        part.erase_fields,
        fields=tuple(f"{name} ({how})" for name, how in sorted(part.strategies.items())),
    )
    add(PlanAction.REDACT, part.redact, fields=tuple(part.redact_fields))
    add(PlanAction.RECTIFY, part.rectify, fields=tuple(sorted(part.rectify_changes)))
    add(
        PlanAction.STOP_MARKETING,
        part.stop_marketing,
        fields=(part.stop_field,) if part.stop_field else (),
    )
    if part.restrict_field:
        add(PlanAction.RESTRICT, part.restrict, fields=(part.restrict_field,))
    else:
        add(PlanAction.RESTRICT_BY_HAND, part.restrict)
    add(PlanAction.KEEP, part.keep, reason=part.keep_reason)
    return tuple(lines)
