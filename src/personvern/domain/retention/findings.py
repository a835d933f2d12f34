"""What ``personvern check`` says about retention rules a sweep could not enforce safely.

A rule counting from a field that holds no time (a key, an identity, a reference, free
text, an encrypted value) would delete by the wrong clock; a condition or anonymised
field the dataset lacks, or a ``trigger_via`` that references nothing, would fail the
sweep halfway. Each is an error located at the offending value, found before any
sweep runs. Whether a dataset and its trigger field exist at all is checked with the
other references (personvern.domain.policy_lint).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from personvern.domain.datamap import (
    Anonymisation,
    DataField,
    DataMap,
    Dataset,
    RetentionAction,
    RetentionRule,
    SystemKind,
)
from personvern.domain.findings import DocPath, Finding


def retention_findings(datamap: DataMap) -> Iterator[Finding]:
    """Every problem with the retention rules' fields, conditions and trigger references."""
    for ri, rule in enumerate(datamap.retention):
        if rule.dataset is None:
            continue
        system_key, _, dataset_name = rule.dataset.partition(".")
        system = datamap.system(system_key)
        dataset = (
            next((d for d in system.datasets if d.name == dataset_name), None) if system else None
        )
        if system is None or dataset is None:
            continue  # reported with the other references
        rp: DocPath = ("retention", ri)
        yield from _fields(rule, dataset, rp)
        yield from _kind(rule, system.kind, rp)
        yield from _aggregate(rule, system.datasets, dataset, rp)
        if rule.trigger_field is None:
            continue
        trigger_dataset: Dataset | None = dataset
        if rule.trigger_via is not None:
            trigger_dataset = yield from _via(rule, system.datasets, dataset, rp)
            if trigger_dataset is None:
                continue
            trigger = _field(trigger_dataset, rule.trigger_field)
            if trigger is None:
                yield Finding(
                    (*rp, "trigger_field"),
                    f"trigger_field '{rule.trigger_field}' is not a field of "
                    f"{system.key}.{trigger_dataset.name}, which trigger_via "
                    f"'{rule.trigger_via}' references",
                    hint="name the field of the referenced record the period runs from",
                )
                continue
        else:
            trigger = _field(dataset, rule.trigger_field)
            if trigger is None:
                continue  # reported with the other references
        why = _not_a_time(trigger)
        if why is not None:
            yield Finding(
                (*rp, "trigger_field"),
                f"trigger_field '{rule.trigger_field}' of retention rule '{rule.key}' is "
                f"{why}, not a date or time",
                hint="name the date or timestamp column the period runs from",
            )


def _fields(rule: RetentionRule, dataset: Dataset, rp: DocPath) -> Iterator[Finding]:
    if rule.condition is not None and _field(dataset, rule.condition.field) is None:
        yield Finding(
            (*rp, "condition", "field"),
            f"condition field '{rule.condition.field}' is not a field of {rule.dataset}",
            hint="a condition compares a field the data map declares for the dataset",
        )
    if rule.action is RetentionAction.ANONYMISE:
        for name in rule.anonymise:
            declared = _field(dataset, name)
            if declared is None:
                yield Finding(
                    (*rp, "anonymise", name),
                    f"anonymise names '{name}', which is not a field of {rule.dataset}",
                    hint="list fields the data map declares for the dataset",
                )
            elif declared.primary_key:
                yield Finding(
                    (*rp, "anonymise", name),
                    f"anonymise names '{name}', the key of {rule.dataset}",
                    hint="a record's key cannot be anonymised; delete the record instead",
                )


def _kind(rule: RetentionRule, kind: SystemKind, rp: DocPath) -> Iterator[Finding]:
    """What a file store or a webhook system cannot do with a rule (the sweep refuses it)."""
    if kind is SystemKind.FILES and rule.action is RetentionAction.ANONYMISE:
        yield Finding(
            (*rp, "action"),
            f"retention rule '{rule.key}' anonymises files of {rule.dataset}; files are "
            "deleted whole",
            hint="write action: delete, or keep the data in a table to anonymise it",
        )
    if kind in (SystemKind.FILES, SystemKind.WEBHOOK) and rule.action is RetentionAction.AGGREGATE:
        yield Finding(
            (*rp, "action"),
            f"retention rule '{rule.key}' aggregates {rule.dataset}; only tables in a SQL "
            f"database can be counted into a summary, not a {kind.value} system",
            hint="write action: delete (or anonymise on a webhook system)",
        )
    if kind is SystemKind.FILES and rule.trigger_via is not None:
        yield Finding(
            (*rp, "trigger_via"),
            f"retention rule '{rule.key}' follows trigger_via in a file store; a file's "
            "date is its own",
            hint="name a field of the file's sidecar or path, or none for its modification time",
        )
    if kind is SystemKind.WEBHOOK and rule.trigger_via is not None:
        yield Finding(
            (*rp, "trigger_via"),
            f"retention rule '{rule.key}' follows trigger_via on a webhook system, which "
            "the retention instruction cannot carry",
            hint="name a date field of the dataset itself",
        )
    if kind is SystemKind.WEBHOOK and Anonymisation.PSEUDONYM in rule.anonymise.values():
        yield Finding(
            (*rp, "anonymise"),
            f"retention rule '{rule.key}' asks a webhook system for keyed pseudonyms; it "
            "has not personvern's key",
            hint="anonymise with null, year, truncate_ip or mask",
        )


def _aggregate(
    rule: RetentionRule, datasets: list[Dataset], dataset: Dataset, rp: DocPath
) -> Iterator[Finding]:
    """An aggregate keeps no personal data, writes no dataset, and counts its own days."""
    aggregate = rule.aggregate
    if aggregate is None:
        return
    if any(d.name == aggregate.table for d in datasets):
        yield Finding(
            (*rp, "aggregate", "table"),
            f"aggregate table '{aggregate.table}' is a dataset of the data map; "
            "the counts would be written into it",
            hint="name a table of its own for the summary (e.g. web_events_daily)",
        )
    if rule.trigger_via is not None:
        yield Finding(
            (*rp, "trigger_via"),
            "an aggregate counts per day of the row's own trigger_field; "
            "trigger_via is not supported with action: aggregate",
            hint="count from a date or time field of the dataset itself",
        )
    for index, name in enumerate(aggregate.by):
        declared = _field(dataset, name)
        if declared is None:
            yield Finding(
                (*rp, "aggregate", "by", index),
                f"aggregate by '{name}', which is not a field of {rule.dataset}",
                hint="count per fields the data map declares for the dataset",
            )
            continue
        why = _personal(declared)
        if why is not None:
            yield Finding(
                (*rp, "aggregate", "by", index),
                f"aggregate by '{name}', {why}: the summary would keep personal data",
                hint="count per a field that names no person (a page, a country, a product)",
            )


def _personal(data_field: DataField) -> str | None:
    """Why counts per this field would single out a person, when the map says so plainly."""
    if data_field.identity is not None or data_field.primary_key:
        return "an identity" if data_field.identity is not None else "the record's key"
    if data_field.references is not None:
        return f"a reference to {data_field.references}"
    if data_field.free_text or data_field.encrypted:
        return "free text" if data_field.free_text else "an encrypted field"
    if data_field.category is not None and data_field.category.startswith(
        ("user.unique_id", "user.device", "user.contact", "user.name", "user.government_id")
    ):
        return f"of category {data_field.category}"
    return None


def _via(
    rule: RetentionRule, datasets: list[Dataset], dataset: Dataset, rp: DocPath
) -> Generator[Finding, None, Dataset | None]:
    # Yields its findings and returns the referenced dataset (``yield from`` hands it back).
    via = _field(dataset, str(rule.trigger_via))
    path = (*rp, "trigger_via")
    if via is None:
        yield Finding(
            path,
            f"trigger_via '{rule.trigger_via}' is not a field of {rule.dataset}",
            hint="name the field that references the record the period runs from",
        )
        return None
    if via.references is None or via.references.count(".") != 1:
        yield Finding(
            path,
            f"trigger_via '{rule.trigger_via}' references no dataset of the same system",
            hint="give the field references: dataset.field (a payment's invoice_id, say)",
        )
        return None
    parent_name = via.references.split(".")[0]
    return next((d for d in datasets if d.name == parent_name), None)


def _field(dataset: Dataset, name: str) -> DataField | None:
    return next((f for f in dataset.fields if f.name == name), None)


def _not_a_time(data_field: DataField) -> str | None:
    """What the field holds instead of a time, when the data map says it plainly."""
    if data_field.primary_key:
        return "the record's key"
    if data_field.identity is not None:
        return f"an identity ({data_field.identity.value})"
    if data_field.references is not None:
        return f"a reference to {data_field.references}"
    if data_field.free_text:
        return "free text"
    if data_field.encrypted:
        return "encrypted"
    return None
