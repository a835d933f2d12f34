"""What retention destroyed over a period and what comes due next, for the DPO and auditors.

The past comes from the evidence (``retention_runs``), summed in the database per rule
and table. The future is the sweep's own plan, asked as of today, in 30 days and in 90
days: the same predicates count, in each database with ``COUNT``, the rows stored now
that will be due by then (holds that end before then counted as ended). Nothing is
copied out of a table. The report renders as text (the terminal), CSV (one row per
rule and table, for auditors) and HTML (through the one Jinja environment, in nb or en).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from personvern.engine.retention.coming_due import coming_due
from personvern.engine.retention.sweep import RetentionSweep
from personvern.errors import PersonvernError
from personvern.store.retention_runs import RetentionTotals
from personvern.templating import environment

#: The formats `personvern retention report` writes.
REPORT_FORMATS = ("text", "html", "csv")
#: The languages its HTML is written in.
REPORT_LANGUAGES = ("en", "nb")
#: How far ahead the report looks, in days.
HORIZONS = (30, 90)


class ReportRequestError(PersonvernError):
    """The report was asked for in a way it cannot be made."""

    title = "Report not available"


@dataclass
class ReportLine:
    """One rule on one table: what it did in the period and what comes due."""

    rule: str
    system: str
    dataset: str
    action: str = ""
    runs: int = 0
    deleted: int = 0
    anonymised: int = 0
    held: int = 0
    failures: int = 0
    refused: int = 0
    last_run: datetime | None = None
    #: Rows due today, and rows stored now that are due by each horizon (None: not counted).
    due_now: int | None = None
    due_by: dict[int, int] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """ "system.dataset"."""
        return f"{self.system}.{self.dataset}"


@dataclass
class RetentionReport:
    """The whole report: the period, a line per rule and table, and what could not be counted."""

    since: date
    until: date
    today: date
    lines: list[ReportLine]
    #: Rules whose coming expiries could not be counted, and why (a store unreachable).
    problems: list[tuple[str, str]]

    def horizon_day(self, days: int) -> date:
        """The day a horizon ends on."""
        return self.today + timedelta(days=days)


def build_report(
    totals: list[RetentionTotals],
    sweep_at: Callable[[datetime], RetentionSweep],
    *,
    since: date,
    until: date,
    now: datetime,
) -> RetentionReport:
    """The report from the period's evidence and the sweep planned today and ahead."""
    if since > until:
        raise ReportRequestError(
            f"--since {since.isoformat()} is after --until {until.isoformat()}",
            hint="give the first day, then the last day of the period",
        )
    lines: dict[tuple[str, str], ReportLine] = {}
    for total in totals:
        lines[total.rule, f"{total.system}.{total.dataset}"] = ReportLine(
            rule=total.rule,
            system=total.system,
            dataset=total.dataset,
            action=total.action,
            runs=total.runs,
            deleted=total.deleted,
            anonymised=total.anonymised,
            held=total.held,
            failures=total.failures,
            refused=total.refused,
            last_run=total.last_run,
        )
    coming = coming_due(sweep_at, now, HORIZONS)
    for due in coming.lines:
        line = lines.setdefault(
            (due.rule, due.target), ReportLine(due.rule, due.system, due.dataset)
        )
        line.action = line.action or due.action
        line.due_now = due.due_now
        line.due_by = dict(due.due_by)
    ordered = sorted(lines.values(), key=lambda line: (line.system, line.dataset, line.rule))
    return RetentionReport(since, until, now.astimezone(UTC).date(), ordered, coming.failed)


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The period as UTC instants: from the start of ``since`` to the end of ``until``."""
    start = datetime.combine(since, time(0), tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


# -- rendering ----------------------------------------------------------------------

_CSV_COLUMNS = (
    "period_start",
    "period_end",
    "rule",
    "system",
    "table",
    "action",
    "runs",
    "deleted",
    "anonymised",
    "held_at_last_run",
    "failed_runs",
    "refused_runs",
    "last_run",
    "due_now",
    *(f"due_within_{days}_days" for days in HORIZONS),
)


def render_report(
    report: RetentionReport, fmt: str, lang: str = "en", organization: str = ""
) -> str:
    """The report as ``fmt`` (text, html or csv); HTML in ``lang`` (en or nb)."""
    if fmt not in REPORT_FORMATS:
        raise ReportRequestError(
            f"the retention report is not available as '{fmt}' "
            f"(available: {', '.join(REPORT_FORMATS)})"
        )
    if lang not in REPORT_LANGUAGES:
        raise ReportRequestError(
            f"the retention report is not available in '{lang}' "
            f"(available: {', '.join(REPORT_LANGUAGES)})"
        )
    if fmt == "csv":
        return _csv(report)
    if fmt == "html":
        template = environment().get_template(f"retention/{lang}/report.html.j2")
        return template.render(
            report=report,
            horizons=HORIZONS,
            lang=lang,
            organization=organization,
            generated=report.today.isoformat(),
        )
    return _text(report)


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _csv(report: RetentionReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for line in report.lines:
        writer.writerow(
            [
                report.since.isoformat(),
                report.until.isoformat(),
                line.rule,
                line.system,
                line.dataset,
                line.action,
                line.runs,
                line.deleted,
                line.anonymised,
                line.held,
                line.failures,
                line.refused,
                line.last_run.isoformat() if line.last_run else "",
                "" if line.due_now is None else line.due_now,
                *(line.due_by.get(d, "") for d in HORIZONS),
            ]
        )
    return out.getvalue()


def _text(report: RetentionReport) -> str:
    out = [
        f"Retention report {report.since.isoformat()} to {report.until.isoformat()} "
        f"(due counted on {report.today.isoformat()})",
        "",
        "Destroyed in the period:",
    ]
    done = [line for line in report.lines if line.runs]
    for line in done:
        text = (
            f"  {line.rule}: {line.target}: {line.deleted:,} deleted, "
            f"{line.anonymised:,} anonymised, {line.held:,} held at the last run, "
            f"{line.runs} run(s)"
        )
        if line.failures or line.refused:
            text += f", {line.failures} failed, {line.refused} stopped by the safety stop"
        out.append(text)
    if not done:
        out.append("  no runs in the period")
    out += ["", "Coming due (rows stored now):"]
    for line in report.lines:
        ahead = ", ".join(
            f"{_count(line.due_by.get(days))} within {days} days" for days in HORIZONS
        )
        out.append(f"  {line.rule}: {line.target}: {_count(line.due_now)} due now, {ahead}")
    for rule, why in report.problems:
        out.append(f"  {rule}: not counted: {why}")
    return "\n".join(out) + "\n"
