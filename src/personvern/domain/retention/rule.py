"""A data-map retention rule resolved into what a sweep of one table needs.

Only rules naming a dataset and a trigger field can be swept: a rule by category or
without a trigger field describes a promise a person keeps by hand, and is listed with
the reason it is not swept. A rule on a file store may leave out the trigger field: it
then counts from the files' modification time; files are deleted whole, never
anonymised. The data map's cross-references (dataset, fields, the
reference ``trigger_via`` follows) are checked by ``personvern check``
(personvern.domain.retention.findings); here they are only looked up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from personvern.domain.datamap import (
    Anonymisation,
    DataMap,
    Dataset,
    ErasureStrategy,
    HoldStart,
    RetentionAction,
    RetentionAggregate,
    RetentionCondition,
    RetentionRule,
    RetentionTrigger,
    System,
    SystemKind,
    TriggerFormat,
)
from personvern.domain.file_ownership import MODIFIED_AT
from personvern.domain.retention.calendar import FinancialYear
from personvern.domain.retention.due import last_due_day
from personvern.domain.retention.holds import StatutoryHold
from personvern.domain.retention_period import RetentionPeriod, parse_period

#: The trigger of a file rule without ``trigger_field``: when the file was last modified.
FILE_MODIFIED = MODIFIED_AT

#: What a field's erasure strategy becomes when a rule anonymises without saying how.
_FROM_ERASURE = {
    ErasureStrategy.SET_NULL: Anonymisation.NULL,
    ErasureStrategy.MASK: Anonymisation.MASK,
    ErasureStrategy.PSEUDONYMISE: Anonymisation.PSEUDONYM,
}


@dataclass(frozen=True)
class TriggerSource:
    """Where the trigger time is read: a field of the row, or of the record it references."""

    field: str
    #: The row's field referencing the record holding ``field`` (None: the row's own).
    via: str | None = None
    #: The referenced dataset and its field ``via`` points at.
    parent_dataset: str | None = None
    parent_key: str | None = None
    #: A file store's rule without ``trigger_field``: the files' modification time.
    file_modified: bool = False


@dataclass(frozen=True)
class SweepRule:
    """One rule on one table, with everything the sweep decides from."""

    key: str
    system: str
    dataset: str
    trigger: TriggerSource
    #: None: the column's SQL type says (date, timestamp).
    trigger_format: TriggerFormat | None
    timezone: str | None
    condition: RetentionCondition | None
    period: RetentionPeriod
    from_year_end: FinancialYear | None
    action: RetentionAction
    anonymise: dict[str, Anonymisation] = field(default_factory=dict)
    statutory: StatutoryHold | None = None
    #: For ``aggregate``: the summary table and the fields counted per.
    aggregate: RetentionAggregate | None = None

    @property
    def target(self) -> str:
        """ "system.dataset", as evidence and messages name the table."""
        return f"{self.system}.{self.dataset}"

    def rule_last_due_day(self, today: date) -> date | None:
        """The latest trigger day whose rule period has run by ``today``."""
        return last_due_day(self.period, today, from_year_end=self.from_year_end)

    def last_due_day(self, today: date) -> date | None:
        """The latest trigger day due today with the statutory hold respected."""
        rule_day = self.rule_last_due_day(today)
        if rule_day is None or self.statutory is None:
            return rule_day
        released = self.statutory.last_released_day(today)
        if released is None:
            return None
        return min(rule_day, released)


@dataclass(frozen=True)
class UnsweptRule:
    """A rule no sweep enforces, and why (a person keeps that promise)."""

    key: str
    reason: str
    #: "system.dataset" the rule names, if any.
    dataset: str | None = None


def sweep_rules(datamap: DataMap) -> tuple[list[SweepRule], list[UnsweptRule]]:
    """Every rule a sweep can enforce, resolved; and the others with their reason."""
    year = FinancialYear.parse(datamap.organization.financial_year_end)
    swept: list[SweepRule] = []
    unswept: list[UnsweptRule] = []
    for rule in datamap.retention:
        resolved = _resolve(datamap, rule, year)
        if isinstance(resolved, str):
            unswept.append(UnsweptRule(rule.key, resolved, rule.dataset))
        else:
            swept.append(resolved)
    return swept, unswept


def _resolve(datamap: DataMap, rule: RetentionRule, year: FinancialYear) -> SweepRule | str:
    if rule.dataset is None:
        return "it names a category, not a dataset"
    found = _dataset(datamap, rule.dataset)
    if found is None:
        return f"dataset {rule.dataset} does not exist"
    system, dataset = found
    why = _unswept_trigger(rule, system, dataset)
    if why is not None:
        return why
    trigger = (
        TriggerSource(rule.trigger_field)
        if rule.trigger_field is not None
        else TriggerSource(FILE_MODIFIED, file_modified=True)
    )
    if rule.trigger_via is not None and rule.trigger_field is not None:
        via = next((f for f in dataset.fields if f.name == rule.trigger_via), None)
        references = via.references if via is not None else None
        if references is None or references.count(".") != 1 or rule.aggregate is not None:
            return (
                f"trigger_via {rule.trigger_via} references no dataset of {system.key}"
                if rule.aggregate is None
                else "an aggregate counts per day of the row's own trigger field, not via another"
            )
        parent, parent_key = references.split(".")
        trigger = TriggerSource(rule.trigger_field, rule.trigger_via, parent, parent_key)
    statutory = statutory_hold(rule, year)
    anonymise: dict[str, Anonymisation] = {}
    if rule.action is RetentionAction.ANONYMISE:
        anonymise = dict(rule.anonymise) or {
            f.name: _FROM_ERASURE[f.erasure]
            for f in dataset.fields
            if f.erasure in _FROM_ERASURE and not f.primary_key
        }
        if not anonymise:
            return "it anonymises, but names no fields and no field has an erasure strategy"
    return SweepRule(
        key=rule.key,
        system=system.key,
        dataset=dataset.name,
        trigger=trigger,
        trigger_format=rule.trigger_format,
        timezone=rule.timezone,
        condition=rule.condition,
        period=parse_period(rule.period),
        from_year_end=year if rule.trigger is RetentionTrigger.FINANCIAL_YEAR_END else None,
        action=rule.action,
        anonymise=anonymise,
        statutory=statutory,
        aggregate=rule.aggregate,
    )


def _unswept_trigger(rule: RetentionRule, system: System, dataset: Dataset) -> str | None:
    """Why a rule's trigger cannot be swept (a file store's files go whole, by their dates)."""
    if system.kind is SystemKind.WEBHOOK:
        return _unswept_webhook_rule(rule)
    if system.kind is not SystemKind.FILES:
        return "it names no trigger_field to count from" if rule.trigger_field is None else None
    if dataset.files is None:
        return "its dataset declares no files: pattern"
    if rule.trigger_via is not None:
        return "trigger_via follows a reference between tables; a file's date is its own"
    if rule.action is not RetentionAction.DELETE:
        return "files are deleted whole; anonymise is for tables"
    return None


def _unswept_webhook_rule(rule: RetentionRule) -> str | None:
    """Why a rule on a webhook system cannot be sent to it as a retention instruction."""
    if rule.trigger_field is None:
        return "it names no trigger_field to count from"
    if rule.trigger_via is not None:
        return "trigger_via is not part of the webhook contract's retention instruction"
    if Anonymisation.PSEUDONYM in rule.anonymise.values():
        return "a keyed pseudonym needs personvern's key, which a webhook system has not"
    return None


def statutory_hold(rule: RetentionRule, year: FinancialYear) -> StatutoryHold | None:
    """The statutory hold a rule's ``legal_hold.period`` enforces; None without a period."""
    hold = rule.legal_hold
    if hold is None or hold.period is None:
        return None
    return StatutoryHold(
        hold.reference,
        parse_period(hold.period),
        year if hold.starts is HoldStart.FINANCIAL_YEAR_END else None,
    )


def _dataset(datamap: DataMap, name: str) -> tuple[System, Dataset] | None:
    system_key, _, dataset_name = name.partition(".")
    system = datamap.system(system_key)
    if system is None:
        return None
    dataset = next((d for d in system.datasets if d.name == dataset_name), None)
    return None if dataset is None else (system, dataset)


def rules_for_field(
    datamap: DataMap, system: str, dataset: Dataset, category: str | None
) -> list[RetentionRule]:
    """The rules that keep a field: those naming its dataset ("system.dataset") or its category."""
    qualified = f"{system}.{dataset.name}"
    return [
        rule
        for rule in datamap.retention
        if rule.dataset == qualified or (category is not None and rule.category == category)
    ]
