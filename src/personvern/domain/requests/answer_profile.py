"""Who answers a data subject, in which language, and where the subject may complain.

An answer is written in the language the subject (or staff on their behalf) asked
for; when nobody asked, in the language the company's own records say the subject
prefers (the field the data map marks ``subject_language: true``); else in the data
map's default language. A value the organization does not write in (``de``) counts
as no value: the answer is never refused over language.

The answer comes from the controller the subject has their relationship with. In a
group with one entity per country that is the entity of the subject's country, read
from the field marked ``subject_country: true`` and matched to the controllers'
``country``; else the controller of the system holding the subject's person record
(a dataset whose primary key is an identity, such as the customer register); else
the first controller. The complaint route is that controller's supervisory authority,
or the organization's when the controller names none.

Only the subject's own records are read: a record found because someone else's text
mentions the subject holds the other person's language and country, not theirs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from personvern.domain.datamap import Controller, DataField, DataMap, Dataset, SupervisoryAuthority
from personvern.domain.findings import DocPath, Finding, Severity
from personvern.domain.records import Record
from personvern.domain.requests.collected import CollectedDataset, is_mention

#: Language codes as stores often hold them, mapped to the codes the data map uses.
_LANGUAGE_ALIASES = {"no": "nb", "nob": "nb", "eng": "en", "swe": "sv", "dan": "da"}
#: Country values as stores often hold them, mapped to ISO 3166-1 alpha-2.
_COUNTRY_ALIASES = {"UK": "GB"}


class LanguageSource(StrEnum):
    """Why the answer is in its language."""

    REQUESTED = "requested"
    SUBJECT_RECORD = "subject_record"
    DEFAULT = "default"


class ControllerSource(StrEnum):
    """Why the answer comes from its controller."""

    SUBJECT_COUNTRY = "subject_country"
    PERSON_RECORD_SYSTEM = "person_record_system"
    DEFAULT = "default"


@dataclass(frozen=True)
class AnswerProfile:
    """The language, the sender and the complaint route of one answer."""

    language: str
    controller: Controller
    supervisory_authority: SupervisoryAuthority
    language_source: LanguageSource
    controller_source: ControllerSource


def decide_answer_profile(
    datamap: DataMap,
    requested_language: str | None,
    datasets: Iterable[CollectedDataset],
    *,
    writable: Collection[str] | None = None,
) -> AnswerProfile:
    """The answer's language, controller and authority for what a request collected."""
    # ``writable``: the languages answers can be written in (those with templates);
    # by default every language the organization declares.
    languages = [
        lang for lang in datamap.organization.languages if writable is None or lang in writable
    ] or list(datamap.organization.languages)
    found = _own_records_in_map_order(datamap, list(datasets))
    language, language_source = _language(languages, requested_language, found)
    controller, controller_source = _controller(datamap, found)
    return AnswerProfile(
        language=language,
        controller=controller,
        supervisory_authority=supervisory_authority_of(datamap, controller),
        language_source=language_source,
        controller_source=controller_source,
    )


def supervisory_authority_of(datamap: DataMap, controller: Controller) -> SupervisoryAuthority:
    """The authority a controller's subjects complain to: its own, else the organization's."""
    return controller.supervisory_authority or datamap.organization.supervisory_authority


def normalise_language(value: object) -> str | None:
    """A language as the data map writes it: ``"en-GB"`` -> ``"en"``, ``"NO"`` -> ``"nb"``."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if not primary.isalpha():
        return None
    return _LANGUAGE_ALIASES.get(primary, primary)


def normalise_country(value: object) -> str | None:
    """A country as the data map writes it: ``" gb "`` -> ``"GB"``, ``"UK"`` -> ``"GB"``."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        return None
    return _COUNTRY_ALIASES.get(code, code)


@dataclass(frozen=True)
class _Found:
    system_controller: str | None
    dataset: Dataset
    records: tuple[Record, ...]


def _own_records_in_map_order(datamap: DataMap, datasets: list[CollectedDataset]) -> list[_Found]:
    by_key = {(c.system, c.dataset): c for c in datasets}
    found: list[_Found] = []
    for system in datamap.systems:
        for dataset in system.datasets:
            collected = by_key.get((system.key, dataset.name))
            if collected is None:
                continue
            own = tuple(r for r in collected.records if not is_mention(dataset, r))
            if own:
                found.append(_Found(system.controller, dataset, own))
    return found


def _values(found: list[_Found], marked: str) -> Iterator[object]:
    """Values of the fields with attribute ``marked`` set, dataset by dataset, record by record."""
    for item in found:
        fields = [f for f in item.dataset.fields if getattr(f, marked)]
        for record in item.records:
            for field in fields:
                yield record.values.get(field.name)


def _language(
    languages: list[str], requested: str | None, found: list[_Found]
) -> tuple[str, LanguageSource]:
    asked = normalise_language(requested)
    if asked in languages:
        return asked, LanguageSource.REQUESTED
    for value in _values(found, "subject_language"):
        preferred = normalise_language(value)
        if preferred in languages:
            return preferred, LanguageSource.SUBJECT_RECORD
    return languages[0], LanguageSource.DEFAULT


def _controller(datamap: DataMap, found: list[_Found]) -> tuple[Controller, ControllerSource]:
    controllers = datamap.organization.controllers
    for value in _values(found, "subject_country"):
        country = normalise_country(value)
        match = next((c for c in controllers if c.country == country), None)
        if match is not None:
            return match, ControllerSource.SUBJECT_COUNTRY
    for item in found:
        if _is_person_dataset(item.dataset) and item.system_controller is not None:
            system_controller = datamap.controller(item.system_controller)
            if system_controller is not None:
                return system_controller, ControllerSource.PERSON_RECORD_SYSTEM
    return controllers[0], ControllerSource.DEFAULT


def _is_person_dataset(dataset: Dataset) -> bool:
    """A dataset whose records are people: its primary key is one of their identities."""
    return any(f.primary_key and f.identity is not None for f in dataset.fields)


def answer_profile_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with what decides the answer's language and controller, located."""
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            path: DocPath = ("systems", si, "datasets", di)
            where = f"{system.key}.{dataset.name}"
            yield from _marked_fields(dataset, path, where)
    if any(f.subject_country for s in datamap.systems for d in s.datasets for f in d.fields):
        first: dict[str, str] = {}
        for ci, controller in enumerate(datamap.organization.controllers):
            earlier = first.setdefault(controller.country, controller.key)
            if earlier != controller.key:
                yield Finding(
                    ("organization", "controllers", ci, "country"),
                    f"controllers '{earlier}' and '{controller.key}' are both in "
                    f"{controller.country}: subjects there are always answered by '{earlier}'",
                    hint="give each country one controller, or stop marking a subject_country",
                    severity=Severity.WARNING,
                )


def _marked_fields(dataset: Dataset, path: DocPath, where: str) -> Iterator[Finding]:
    has_key = any(f.primary_key for f in dataset.fields)
    for marker in ("subject_language", "subject_country"):
        marked = [(fi, f) for fi, f in enumerate(dataset.fields) if getattr(f, marker)]
        for fi, field in marked[1:]:
            yield Finding(
                (*path, "fields", fi, marker),
                f"{where} marks both '{marked[0][1].name}' and '{field.name}' as {marker}",
                hint=f"mark one field per dataset with {marker}: true",
            )
        for fi, field in marked:
            yield from _marked_field(field, marker, has_key, (*path, "fields", fi), where)


def _marked_field(
    field: DataField, marker: str, has_key: bool, path: DocPath, where: str
) -> Iterator[Finding]:
    name = f"{where}.{field.name}"
    if field.subject_language and field.subject_country and marker == "subject_country":
        yield Finding(
            (*path, marker),
            f"field {name} cannot hold both the subject's language and their country",
            hint="mark the language field subject_language and the country field subject_country",
        )
    if field.free_text:
        yield Finding(
            (*path, marker),
            f"field {name} is free text, so it cannot hold a {marker.split('_')[1]} code",
            hint=f"mark a field holding a code ('en', 'GB') with {marker}: true",
        )
    if not has_key:
        yield Finding(
            (*path, marker),
            f"{where} has no primary_key, so requests never read {marker} field '{field.name}'",
            hint="declare the dataset's primary_key, or mark a field of a searched dataset",
        )
