"""One retention rule on a webhook system: sent as a retention instruction, its counts kept.

personvern cannot reach a webhook system's records itself, so the rule travels as an
instruction (docs/webhook-contract.md, ``retention``): the dataset, the trigger field,
the time zone its days are counted in, the *cutoff* (the last due day, the statutory
hold respected), the condition, the action and fields to anonymise, and the keys
staff hold. The system counts (a dry run), or deletes or anonymises up to ``limit``
due records per call and answers its counts; personvern calls again while a call
changed a full batch. Every call is idempotent by its shape, what is done is no longer
due, so a run stopped at any point continues on the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from personvern.connectors.port import ConnectorError, Pseudonymiser
from personvern.connectors.registry import ConnectorPool
from personvern.connectors.webhook import RetentionCounts, WebhookConnector
from personvern.domain.datamap import Anonymisation, RetentionAction, System
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.rule import SweepRule
from personvern.domain.retention.trigger_time import today_in
from personvern.engine.retention.table_sweep import ProgressCallback, TablePlan, TableProgress


@dataclass(frozen=True)
class WebhookPlan(TablePlan):
    """What a webhook system says a rule's sweep would do today (counts are records)."""

    #: The last due day sent (None: nothing can be due yet, so nothing was sent).
    cutoff: date | None = None


class WebhookSweep:
    """Sends one rule's retention instruction to a webhook system, in batches."""

    def __init__(
        self,
        rule: SweepRule,
        connector: WebhookConnector,
        *,
        today: date,
        staff_holds: Sequence[SubjectHold] = (),
    ) -> None:
        """The instruction for ``rule`` as of ``today`` (in the rule's time zone)."""
        if Anonymisation.PSEUDONYM in rule.anonymise.values():
            raise ConnectorError(
                f"{rule.target}: a keyed pseudonym needs personvern's key, which a webhook "
                "system has not",
                hint="name another anonymisation (null, year, truncate_ip, mask) in anonymise:",
            )
        self.rule = rule
        self.connector = connector
        self.today = today
        self.cutoff = rule.last_due_day(today)
        self.keep = sorted(
            {h.record_key for h in staff_holds if h.dataset == rule.target and h.applies_on(today)}
        )

    def instruction(self, *, dry_run: bool, limit: int) -> dict[str, Any]:
        """The retention instruction's body (docs/webhook-contract.md)."""
        rule = self.rule
        condition = rule.condition
        return {
            "rule": rule.key,
            "dataset": rule.dataset,
            "trigger_field": rule.trigger.field,
            "trigger_format": rule.trigger_format.value if rule.trigger_format else None,
            "timezone": rule.timezone or "UTC",
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "condition": condition.model_dump(by_alias=True, exclude_none=True)
            if condition
            else None,
            "action": rule.action.value,
            "anonymise": {name: how.value for name, how in rule.anonymise.items()},
            "keep": self.keep,
            "dry_run": dry_run,
            "limit": limit,
        }

    def plan(self) -> WebhookPlan:
        """Ask the system to count what the rule makes due (a dry run; nothing changes)."""
        if self.cutoff is None:
            return self._plan(None)
        return self._plan(self.connector.retention(self.instruction(dry_run=True, limit=0)))

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Send the instruction until a call changes less than a batch; counts in ``progress``."""
        del pseudonymise  # refused above: the system has no key
        if self.cutoff is None:
            return progress
        # Each call changes at least one record or ends the run: never more calls than due.
        for _ in range(progress.due + 1):
            counts = self.connector.retention(self.instruction(dry_run=False, limit=batch_size))
            progress.batches += 1
            progress.done += counts.changed
            if self.rule.action is RetentionAction.DELETE:
                progress.deleted += counts.changed
            else:
                progress.anonymised += counts.changed
            if on_batch is not None:
                on_batch(progress)
            if counts.changed < batch_size:
                break
        return progress

    def _plan(self, counts: RetentionCounts | None) -> WebhookPlan:
        rule = self.rule
        return WebhookPlan(
            rule=rule.key,
            system=rule.system,
            dataset=rule.dataset,
            action=rule.action,
            total=counts.total if counts else 0,
            in_scope=counts.in_scope if counts else 0,
            due=counts.due if counts else 0,
            held_by_law=0,
            held_by_staff=counts.held if counts else 0,
            held_by_reference=0,
            oldest_due=counts.oldest_due if counts else None,
            last_due_day=self.cutoff,
            statutory=rule.statutory.reference if rule.statutory else None,
            cutoff=self.cutoff,
        )


def webhook_sweep(
    rule: SweepRule,
    system: System,
    pool: ConnectorPool,
    environ: Mapping[str, str],
    now: datetime,
    staff_holds: Sequence[SubjectHold],
) -> WebhookSweep:
    """The sweep of ``rule`` on its webhook system, through the pool's connector."""
    connector = pool.get(system, environ)
    if not isinstance(connector, WebhookConnector):  # pragma: no cover - registry maps webhooks
        raise ConnectorError(f"{rule.target}: not a webhook connector")
    return WebhookSweep(
        rule, connector, today=today_in(now, rule.timezone), staff_holds=staff_holds
    )
