"""Checks a data map for broken references and for promises the law does not allow.

Every check returns findings with the path of the offending value, so the adapter
can point at file, line and column. Checks never stop at the first problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from enum import Enum

from pydantic import BaseModel

from personvern.domain.datamap import (
    DataField,
    DataMap,
    Dataset,
    System,
)
from personvern.domain.findings import DocPath, Finding, Severity
from personvern.domain.legal_basis import LegalBasis
from personvern.domain.taxonomy import (
    NATIONAL_ID_CATEGORY,
    Taxonomy,
    TaxonomyEntry,
    TaxonomyKind,
)
from personvern.domain.transfers import assess_transfer


def effective_taxonomy(datamap: DataMap, base: Taxonomy) -> Taxonomy:
    """The Fides taxonomy extended with the data map's own keys."""
    custom = datamap.taxonomy
    taxonomy = base
    for kind, entries in (
        (TaxonomyKind.DATA_CATEGORY, custom.data_categories),
        (TaxonomyKind.DATA_USE, custom.data_uses),
        (TaxonomyKind.DATA_SUBJECT, custom.data_subjects),
    ):
        converted = [
            TaxonomyEntry(e.key, next(iter(e.name.values()), e.key), e.parent) for e in entries
        ]
        special = {e.key: e.special for e in entries if e.special}
        taxonomy = taxonomy.extended(kind, converted, special)
    return taxonomy


def lint(datamap: DataMap, base: Taxonomy, today: date) -> list[Finding]:
    """Every reference and policy problem in ``datamap``, errors and warnings."""
    taxonomy = effective_taxonomy(datamap, base)
    findings: list[Finding] = []
    findings += _duplicates(datamap)
    findings += _taxonomy_keys(datamap, taxonomy)
    findings += _references(datamap)
    findings += _legal_bases(datamap)
    findings += _field_rules(datamap, taxonomy)
    findings += _transfers(datamap, today)
    findings += _retention_coverage(datamap, taxonomy)
    findings += _translations(datamap)
    return findings


def _suggestion(candidates: Sequence[str]) -> str | None:
    if not candidates:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in candidates) + "?"


def _close(key: str, known: Iterable[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)


def _duplicates(datamap: DataMap) -> Iterator[Finding]:
    def check(section: str, keys: Sequence[str], base: DocPath = ()) -> Iterator[Finding]:
        counts = Counter(keys)
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if counts[key] > 1 and key in seen:
                yield Finding(
                    (*base, section, index),
                    f"duplicate {section.rstrip('s')} '{key}'",
                    hint="each key must be unique; rename or remove one",
                )
            seen.add(key)

    yield from check(
        "controllers", [c.key for c in datamap.organization.controllers], ("organization",)
    )
    yield from check("subjects", [s.key for s in datamap.subjects])
    yield from check("purposes", [p.key for p in datamap.purposes])
    yield from check("systems", [s.key for s in datamap.systems])
    yield from check("retention", [r.key for r in datamap.retention])
    yield from check("recipients", [r.key for r in datamap.recipients])
    for si, system in enumerate(datamap.systems):
        yield from check("datasets", [d.name for d in system.datasets], ("systems", si))
        yield from check("cookies", [c.name for c in system.cookies], ("systems", si))
        for di, dataset in enumerate(system.datasets):
            yield from check(
                "fields", [f.name for f in dataset.fields], ("systems", si, "datasets", di)
            )


def _unknown(taxonomy: Taxonomy, kind: TaxonomyKind, key: str, path: DocPath) -> Iterator[Finding]:
    if not taxonomy.knows(kind, key):
        yield Finding(
            path,
            f"unknown {kind} '{key}'",
            hint=_suggestion(taxonomy.suggest(kind, key))
            or f"use a Fides {kind} key or declare it under taxonomy:",
        )


def _taxonomy_keys(datamap: DataMap, taxonomy: Taxonomy) -> Iterator[Finding]:
    custom = datamap.taxonomy
    for section, kind, entries in (
        ("data_categories", TaxonomyKind.DATA_CATEGORY, custom.data_categories),
        ("data_uses", TaxonomyKind.DATA_USE, custom.data_uses),
        ("data_subjects", TaxonomyKind.DATA_SUBJECT, custom.data_subjects),
    ):
        for index, entry in enumerate(entries):
            if entry.parent is not None:
                yield from _unknown(
                    taxonomy, kind, entry.parent, ("taxonomy", section, index, "parent")
                )
    for index, subject in enumerate(datamap.subjects):
        yield from _unknown(
            taxonomy, TaxonomyKind.DATA_SUBJECT, subject.key, ("subjects", index, "key")
        )
    for index, purpose in enumerate(datamap.purposes):
        yield from _unknown(
            taxonomy, TaxonomyKind.DATA_USE, purpose.data_use, ("purposes", index, "data_use")
        )
    for sp, _system, di, dataset in _datasets(datamap):
        base = (*sp, "datasets", di)
        for fi, data_field in enumerate(dataset.fields):
            if data_field.category is not None:
                yield from _unknown(
                    taxonomy,
                    TaxonomyKind.DATA_CATEGORY,
                    data_field.category,
                    (*base, "fields", fi, "category"),
                )
        if dataset.files is not None:
            yield from _unknown(
                taxonomy,
                TaxonomyKind.DATA_CATEGORY,
                dataset.files.content_category,
                (*base, "files", "content_category"),
            )
    for ri, recipient in enumerate(datamap.recipients):
        for ci, category in enumerate(recipient.categories):
            yield from _unknown(
                taxonomy, TaxonomyKind.DATA_CATEGORY, category, ("recipients", ri, "categories", ci)
            )
    for ri, rule in enumerate(datamap.retention):
        if rule.category is not None:
            yield from _unknown(
                taxonomy, TaxonomyKind.DATA_CATEGORY, rule.category, ("retention", ri, "category")
            )


def _datasets(datamap: DataMap) -> Iterator[tuple[DocPath, System, int, Dataset]]:
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            yield ("systems", si), system, di, dataset


def _fields(datamap: DataMap) -> Iterator[tuple[DocPath, System, Dataset, DataField]]:
    for sp, system, di, dataset in _datasets(datamap):
        for fi, data_field in enumerate(dataset.fields):
            yield (*sp, "datasets", di, "fields", fi), system, dataset, data_field


def _purpose_refs(keys: Sequence[str], declared: set[str], path: DocPath) -> Iterator[Finding]:
    for index, key in enumerate(keys):
        if key not in declared:
            yield Finding(
                (*path, index),
                f"purpose '{key}' is not declared under purposes",
                hint=_suggestion(_close(key, declared)) or "declare it under purposes:",
            )


def _references(datamap: DataMap) -> Iterator[Finding]:
    purposes = {p.key for p in datamap.purposes}
    subjects = {s.key for s in datamap.subjects}
    controllers = {c.key for c in datamap.organization.controllers}
    tables = {
        (system.key, dataset.name): {f.name for f in dataset.fields}
        for _sp, system, _di, dataset in _datasets(datamap)
    }
    for si, system in enumerate(datamap.systems):
        sp: DocPath = ("systems", si)
        if system.kind.needs_connection and not system.connection_env:
            yield Finding(
                sp,
                f"system '{system.key}' of kind {system.kind} has no connection_env",
                hint="add connection_env: NAME_OF_AN_ENVIRONMENT_VARIABLE holding its URL "
                "(never the URL itself)",
            )
        if system.controller is not None and system.controller not in controllers:
            yield Finding(
                (*sp, "controller"),
                f"controller '{system.controller}' is not declared under organization.controllers",
                hint=_suggestion(_close(system.controller, controllers)),
            )
        for ci, cookie in enumerate(system.cookies):
            if cookie.purpose is not None and cookie.purpose not in purposes:
                yield from _purpose_refs([cookie.purpose], purposes, (*sp, "cookies", ci))
        for di, dataset in enumerate(system.datasets):
            dp = (*sp, "datasets", di)
            for ki, subject in enumerate(dataset.subjects):
                if subject not in subjects:
                    yield Finding(
                        (*dp, "subjects", ki),
                        f"subject '{subject}' is not declared under subjects",
                        hint=_suggestion(_close(subject, subjects)) or "declare it under subjects:",
                    )
            if dataset.files is not None:
                yield from _purpose_refs(
                    dataset.files.content_purposes, purposes, (*dp, "files", "content_purposes")
                )
            for fi, data_field in enumerate(dataset.fields):
                fp = (*dp, "fields", fi)
                yield from _purpose_refs(data_field.purposes, purposes, (*fp, "purposes"))
                if data_field.references is not None:
                    yield from _reference_target(
                        system.key, data_field.references, tables, (*fp, "references")
                    )
    for ri, recipient in enumerate(datamap.recipients):
        yield from _purpose_refs(recipient.purposes, purposes, ("recipients", ri, "purposes"))
    for ri, rule in enumerate(datamap.retention):
        rp: DocPath = ("retention", ri)
        if rule.dataset is None and rule.category is None:
            yield Finding(
                rp,
                f"retention rule '{rule.key}' names neither dataset nor category",
                hint="add dataset: system.dataset or category: a.category.key",
            )
            continue
        if rule.dataset is None:
            continue
        parts = rule.dataset.split(".")
        if len(parts) != 2 or (parts[0], parts[1]) not in tables:
            known = [f"{s}.{d}" for s, d in tables]
            yield Finding(
                (*rp, "dataset"),
                f"retention rule '{rule.key}' names dataset '{rule.dataset}', which does not exist",
                hint=_suggestion(_close(rule.dataset, known)) or "write it as system.dataset",
            )
        elif (
            rule.trigger_field is not None
            # Read in the referenced record: checked by retention_findings.
            and rule.trigger_via is None
            and rule.trigger_field not in tables[(parts[0], parts[1])]
        ):
            fields = tables[(parts[0], parts[1])]
            yield Finding(
                (*rp, "trigger_field"),
                f"trigger_field '{rule.trigger_field}' is not a field of {rule.dataset}",
                hint=_suggestion(_close(rule.trigger_field, fields)),
            )


def _reference_target(
    system: str, reference: str, tables: dict[tuple[str, str], set[str]], path: DocPath
) -> Iterator[Finding]:
    parts = reference.split(".")
    target_system, dataset, field_name = (system, *parts) if len(parts) == 2 else parts
    fields = tables.get((target_system, dataset))
    if fields is None:
        known = [f"{d}" if s == system else f"{s}.{d}" for s, d in tables]
        wanted = dataset if target_system == system else f"{target_system}.{dataset}"
        yield Finding(
            path,
            f"reference '{reference}' points at dataset '{wanted}', which does not exist",
            hint=_suggestion(_close(wanted, known)),
        )
    elif field_name not in fields:
        yield Finding(
            path,
            f"reference '{reference}' points at field '{field_name}', which "
            f"{target_system}.{dataset} does not have",
            hint=_suggestion(_close(field_name, fields)),
        )


def _legal_bases(datamap: DataMap) -> Iterator[Finding]:
    for index, purpose in enumerate(datamap.purposes):
        path: DocPath = ("purposes", index)
        if purpose.existing_customer_exception and not (
            purpose.data_use == "marketing" or purpose.data_use.startswith("marketing.")
        ):
            yield Finding(
                (*path, "existing_customer_exception"),
                f"purpose '{purpose.key}' claims the existing-customer exception but is no "
                f"marketing (its data use is {purpose.data_use})",
                hint="markedsføringsloven § 15 concerns marketing: set it on a purpose whose "
                "data_use is marketing..., or remove it",
            )
        if purpose.legal_basis is None:
            yield Finding(
                path,
                f"purpose '{purpose.key}' has no legal basis",
                hint="add legal_basis: consent | contract | legal_obligation | vital_interests | "
                "public_task | legitimate_interests (GDPR Art. 6(1))",
            )
        elif purpose.legal_basis is LegalBasis.CONSENT and not purpose.consent:
            yield Finding(
                path,
                f"purpose '{purpose.key}' rests on consent but says nothing about what is "
                "consented to",
                hint="add consent: {nb: ..., en: ...} with the wording the subject agrees to "
                "(GDPR Art. 7)",
            )
        elif (
            purpose.legal_basis is LegalBasis.LEGITIMATE_INTERESTS
            and not purpose.legitimate_interest
        ):
            yield Finding(
                path,
                f"purpose '{purpose.key}' rests on legitimate interests without naming the "
                "interest",
                hint="add legitimate_interest: {nb: ..., en: ...} (GDPR Art. 13(1)(d))",
                severity=Severity.WARNING,
            )


def _field_rules(datamap: DataMap, taxonomy: Taxonomy) -> Iterator[Finding]:
    used_purposes: set[str] = set()
    for path, system, dataset, data_field in _fields(datamap):
        used_purposes.update(data_field.purposes)
        where = f"{system.key}.{dataset.name}.{data_field.name}"
        if data_field.category is None:
            continue
        if not data_field.purposes:
            yield Finding(
                path,
                f"field {where} holds {data_field.category} but serves no purpose",
                hint="list the purposes it serves, or stop collecting it (GDPR Art. 5(1)(c))",
            )
        yield from _special_category(
            datamap, taxonomy, data_field.category, data_field.purposes, path, where
        )
        if data_field.category == NATIONAL_ID_CATEGORY and not data_field.need:
            yield Finding(
                path,
                f"field {where} holds a national identity number without a stated need",
                hint="add need: {nb: ..., en: ...} explaining why reliable identification is "
                "necessary (personopplysningsloven § 12)",
                severity=Severity.WARNING,
            )
    for sp, system, di, dataset in _datasets(datamap):
        if dataset.files is not None:
            used_purposes.update(dataset.files.content_purposes)
            yield from _special_category(
                datamap,
                taxonomy,
                dataset.files.content_category,
                dataset.files.content_purposes,
                (*sp, "datasets", di, "files"),
                f"{system.key}.{dataset.name} (files)",
            )
    for system in datamap.systems:
        used_purposes.update(c.purpose for c in system.cookies if c.purpose)
    for index, purpose in enumerate(datamap.purposes):
        if purpose.key not in used_purposes:
            yield Finding(
                ("purposes", index),
                f"purpose '{purpose.key}' is declared but no field, file or cookie serves it",
                hint="list it on the fields it uses, or remove it so the notice does not "
                "promise processing that does not happen",
                severity=Severity.WARNING,
            )


def _special_category(
    datamap: DataMap,
    taxonomy: Taxonomy,
    category: str,
    purposes: Sequence[str],
    path: DocPath,
    where: str,
) -> Iterator[Finding]:
    article = taxonomy.special_article(category)
    if article is None:
        return
    for key in purposes:
        purpose = datamap.purpose(key)
        if purpose is not None and purpose.special_category_condition is None:
            yield Finding(
                path,
                f"{where} holds {category}, a special category ({article}), but purpose "
                f"'{key}' has no {article} condition",
                hint="add special_category_condition: 9(2)(a) ... 9(2)(j) (or 10) to the purpose, "
                "or stop processing this category",
            )


def _transfers(datamap: DataMap, today: date) -> Iterator[Finding]:
    for index, recipient in enumerate(datamap.recipients):
        assessment = assess_transfer(
            recipient.country, recipient.transfer, today, dpf_certified=recipient.dpf_certified
        )
        if not assessment.lawful:
            yield Finding(
                ("recipients", index, "transfer" if recipient.transfer else "country"),
                f"transfer to recipient '{recipient.key}' is not lawful: {assessment.reason}",
                hint="declare transfer: adequacy | scc_2021_module_1..4 | bcr | "
                "art49_derogation (GDPR Chapter V)",
            )
        elif (
            recipient.transfer is not None
            and recipient.transfer.value == "art49_derogation"
            and (not recipient.derogation)
        ):
            yield Finding(
                ("recipients", index, "transfer"),
                f"recipient '{recipient.key}' relies on an Art. 49 derogation without naming it",
                hint="add derogation: e.g. 'Art. 49(1)(b) necessary for the contract'",
            )


def _retention_coverage(datamap: DataMap, taxonomy: Taxonomy) -> Iterator[Finding]:
    by_dataset = {r.dataset for r in datamap.retention if r.dataset}
    by_category = {r.category for r in datamap.retention if r.category}
    reported: set[tuple[str, str]] = set()
    for path, system, dataset, data_field in _fields(datamap):
        category = data_field.category
        if category is None or f"{system.key}.{dataset.name}" in by_dataset:
            continue
        if by_category.intersection(taxonomy.ancestors(TaxonomyKind.DATA_CATEGORY, category)):
            continue
        if (system.key, category) in reported:
            continue
        reported.add((system.key, category))
        yield Finding(
            path,
            f"{category} in {system.key}.{dataset.name} has no retention rule",
            hint=f"add a retention rule for dataset {system.key}.{dataset.name} or category "
            f"{category} (GDPR Art. 5(1)(e), Art. 13(2)(a))",
            severity=Severity.WARNING,
        )


def _translations(datamap: DataMap) -> Iterator[Finding]:
    languages = datamap.organization.languages
    yield from _walk_localized(datamap, (), languages)


def _walk_localized(value: object, path: DocPath, languages: Sequence[str]) -> Iterator[Finding]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk_localized(getattr(value, name), (*path, name), languages)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_localized(item, (*path, index), languages)
    elif (
        isinstance(value, dict)
        and value
        # Enum values (a rule's anonymise: {field: null}) are choices, not text to translate.
        and all(isinstance(v, str) and not isinstance(v, Enum) for v in value.values())
    ):
        missing = [lang for lang in languages if not value.get(lang)]
        if missing:
            yield Finding(
                path,
                f"text lacks the language(s) {', '.join(missing)} the organization declares",
                hint="add " + ", ".join(f"{lang}: ..." for lang in missing),
            )
