"""The second test company's data map: a base today's loader accepts, and the overlay of issue 7.

The base (:func:`base_map`) declares Nordavind Strøm AS in the format of
docs/datamap.md, with Norwegian names and labels. The files systems are declared the
only way today's files connector knows (sidecars), which the company does not have, so
today nothing is found there. The overlay (:data:`PROPOSED`) holds the proposed syntax of
issue 7, each addition tagged with the feature it needs:

* ``files.owner.path`` and ``files.owner.column``: files owned by their path or by the
  SQL column naming them, without sidecars;
* ``belongs_to`` on ``kontaktpersoner``: contacts erased with their business customer,
  which sees of them only ``shown_to_it``;
* ``names_sender`` on the web form's text and the logged URL;
* ``stored_normalised`` on ``kontaktpersoner.epost`` (stored lower-case).

:func:`data_map` writes the YAML folder, with none, some or all of the additions.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.second_company.generator import Feature

#: The environment variables the map's connection_env names.
CONNECTIONS = {
    "crm": "PERSONVERN_NORDAVIND_CRM_URL",
    "faktura": "PERSONVERN_NORDAVIND_FAKTURA_URL",
    "kundeservice": "PERSONVERN_NORDAVIND_KUNDESERVICE_URL",
    "nettlogg": "PERSONVERN_NORDAVIND_NETTLOGG_URL",
    "telefoni": "PERSONVERN_NORDAVIND_TELEFONI_URL",
    "opptak": "PERSONVERN_NORDAVIND_OPPTAK_DIR",
    "id_dokumenter": "PERSONVERN_NORDAVIND_ID_DOKUMENTER_DIR",
}
#: The systems whose store is a folder of files.
FILE_SYSTEMS = frozenset({"opptak", "id_dokumenter"})


def _label(nb: str, en: str) -> dict[str, str]:
    return {"nb": nb, "en": en}


def _field(name: str, nb: str, en: str, **rest: Any) -> dict[str, Any]:
    return {"name": name, "label": _label(nb, en), **rest}


_ORGANIZATION = {
    "organization": {
        "name": "Nordavind Strøm AS",
        "languages": ["nb", "en"],
        "controllers": [
            {
                "key": "nordavind",
                "name": "Nordavind Strøm AS",
                "organization_number": "914778271",
                "address": "Kraftgata 7, 7011 Trondheim",
                "country": "NO",
                "email": "personvern@nordavind.no",
                "phone": "+47 73 00 00 00",
            }
        ],
        "contact": {"name": "Personvernteamet", "email": "personvern@nordavind.no"},
        "supervisory_authority": {
            "name": "Datatilsynet",
            "country": "NO",
            "url": "https://www.datatilsynet.no",
        },
    },
    "taxonomy": {
        "data_subjects": [
            {
                "key": "client_designated_employee",
                "name": _label("Kundens kontaktperson", "Client's designated employee"),
            }
        ],
        "data_categories": [
            {
                "key": "user.content.call_recording",
                "parent": "user.content",
                "name": _label("Opptak av telefonsamtale", "Telephone call recording"),
            }
        ],
    },
    "subjects": [
        {"key": "customer", "name": _label("Kunde", "Customer")},
        {"key": "client_designated_employee", "name": _label("Kontaktperson", "Contact")},
        {"key": "prospect", "name": _label("Interessent", "Prospect")},
        {"key": "visitor", "name": _label("Besøkende på nettsiden", "Web site visitor")},
    ],
}


def _purpose(key: str, nb: str, en: str, basis: str, **rest: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": _label(nb, en),
        "description": _label(nb, en),
        "data_use": rest.pop("data_use"),
        "legal_basis": basis,
        **rest,
    }


_PURPOSES = {
    "purposes": [
        _purpose(
            "kundeforhold",
            "Strømavtalen",
            "The electricity contract",
            "contract",
            data_use="essential.service",
        ),
        _purpose(
            "fakturering",
            "Fakturering",
            "Invoicing",
            "contract",
            data_use="essential.service.payment_processing",
        ),
        _purpose(
            "bokforing",
            "Bokføring",
            "Bookkeeping",
            "legal_obligation",
            data_use="essential.legal_obligation",
            legal_reference="bokføringsloven § 13",
        ),
        _purpose(
            "kundeservice",
            "Kundeservice",
            "Customer service",
            "contract",
            data_use="essential.service.operations.support",
        ),
        _purpose(
            "samtalekvalitet",
            "Kvalitet i telefonsamtaler",
            "Quality of phone calls",
            "legitimate_interests",
            data_use="essential.service.operations.improve",
            legitimate_interest=_label("Å lære opp kundeservice.", "Training customer service."),
        ),
        _purpose(
            "nettsidedrift",
            "Sikker drift av nettsiden",
            "Secure operation of the web site",
            "legitimate_interests",
            data_use="essential.service.security",
            legitimate_interest=_label("Å beskytte nettsiden.", "Protecting the web site."),
        ),
        _purpose(
            "identitetskontroll",
            "Identitetskontroll",
            "Identity verification",
            "legal_obligation",
            data_use="essential.legal_obligation",
            legal_reference="hvitvaskingsloven § 12",
        ),
        _purpose(
            "salg",
            "Tilbud til interessenter",
            "Offers to prospects",
            "legitimate_interests",
            data_use="marketing.communications",
            legitimate_interest=_label(
                "Å gi tilbud til dem som har spurt om det.", "Making offers to those who asked."
            ),
        ),
    ]
}


def _rule(key: str, dataset: str, trigger: str, period: str, **rest: Any) -> dict[str, Any]:
    return {
        "key": key,
        "dataset": dataset,
        "trigger": trigger,
        "period": period,
        "description": _label(f"Slettes etter {period}.", f"Deleted after {period}."),
        **rest,
    }


_HOLD = {
    "reference": "bokføringsloven § 13",
    "description": _label(
        "Primærdokumentasjon oppbevares i fem år etter regnskapsårets slutt.",
        "Primary documentation is kept for five years after the end of the financial year.",
    ),
}
_RETENTION = {
    "retention": [
        _rule(
            "kunder",
            "crm.kunder",
            "last_activity",
            "P3Y",
            trigger_field="sist_aktiv",
            action="anonymise",
        ),
        _rule("kontaktpersoner", "crm.kontaktpersoner", "contract_end", "P6M"),
        _rule(
            "interessenter",
            "crm.interessenter",
            "last_activity",
            "P2Y",
            trigger_field="sist_kontaktet",
        ),
        _rule(
            "fakturaer",
            "faktura.fakturaer",
            "financial_year_end",
            "P5Y",
            trigger_field="fakturadato",
            legal_hold=_HOLD,
        ),
        _rule(
            "fakturalinjer",
            "faktura.fakturalinjer",
            "financial_year_end",
            "P5Y",
            legal_hold=_HOLD,
        ),
        _rule(
            "henvendelser",
            "kundeservice.henvendelser",
            "last_activity",
            "P2Y",
            trigger_field="lukket",
        ),
        _rule(
            "skjema",
            "kundeservice.skjema_henvendelser",
            "collected",
            "P1Y",
            trigger_field="mottatt",
        ),
        _rule(
            "sidevisninger",
            "nettlogg.sidevisninger",
            "collected",
            "P13M",
            trigger_field="tidspunkt",
        ),
        _rule("samtaler", "telefoni.samtaler", "collected", "P90D", trigger_field="startet"),
        _rule("opptak", "opptak.samtaleopptak", "collected", "P90D"),
        _rule("legitimasjon", "id_dokumenter.legitimasjon", "collected", "P30D"),
    ]
}

_NAME = {"category": "user.name"}
_EMAIL = {"identity": "email", "category": "user.contact.email"}
_PHONE = {"identity": "phone_number", "category": "user.contact.phone_number"}
_TEXT = {"category": "user.content.private", "free_text": True}


def _system(
    key: str, nb: str, en: str, datasets: list[dict[str, Any]], **rest: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "name": en,
        "label": _label(nb, en),
        "kind": rest.pop("kind", "postgresql"),
        "description": _label(nb, en),
        "connection_env": CONNECTIONS[key],
        "controller": "nordavind",
        "hosting_country": "NO",
        "datasets": datasets,
        **rest,
    }


def _dataset(
    name: str, nb: str, en: str, subjects: list[str], fields: list[dict[str, Any]], **rest: Any
) -> dict[str, Any]:
    return {"name": name, "label": _label(nb, en), "subjects": subjects, "fields": fields, **rest}


def _systems() -> list[dict[str, Any]]:
    contract = {"purposes": ["kundeforhold"]}
    billing = {"purposes": ["fakturering", "bokforing"]}
    support = {"purposes": ["kundeservice"]}
    web = {"purposes": ["nettsidedrift"], "source": "observed"}
    return [
        _system(
            "crm",
            "Kunderegister",
            "Customer register",
            [
                _dataset(
                    "kunder",
                    "Kundeopplysninger",
                    "Customer details",
                    ["customer"],
                    [
                        _field(
                            "kunde_id",
                            "Kundenummer",
                            "Customer number",
                            primary_key=True,
                            identity="customer_id",
                            category="user.unique_id",
                            source="derived",
                            **contract,
                        ),
                        _field(
                            "kundetype",
                            "Kundetype",
                            "Customer type",
                            value_labels={
                                "privat": _label("Privatkunde", "Private customer"),
                                "bedrift": _label("Bedriftskunde", "Business customer"),
                            },
                        ),
                        # The name stays unique per row after erasure: a keyed pseudonym.
                        _field("navn", "Navn", "Name", erasure="pseudonymise", **_NAME, **contract),
                        # A business customer's name is no person's: it stays.
                        _field(
                            "firmanavn",
                            "Firma",
                            "Company",
                            category="user.contact.organization",
                            erasure="keep",
                            **contract,
                        ),
                        _field("orgnr", "Organisasjonsnummer", "Organisation number"),
                        _field(
                            "epost",
                            "E-postadresse",
                            "E-mail address",
                            erasure="mask",
                            **_EMAIL,
                            **contract,
                        ),
                        _field("telefon", "Telefonnummer", "Phone number", **_PHONE, **contract),
                        _field(
                            "fodselsnummer",
                            "Fødselsnummer eller D-nummer",
                            "National identity number",
                            identity="national_id",
                            category="user.government_id.national_identification_number",
                            purposes=["identitetskontroll"],
                            need=_label(
                                "Kreves for kredittvurdering ved avtale uten depositum.",
                                "Required for the credit check of a contract without deposit.",
                            ),
                        ),
                        _field(
                            "adresse",
                            "Adresse",
                            "Address",
                            category="user.contact.address",
                            purposes=["kundeforhold", "fakturering"],
                        ),
                        _field("opprettet", "Registrert", "Registered"),
                        _field("sist_aktiv", "Sist aktiv", "Last active"),
                    ],
                ),
                _dataset(
                    "kontaktpersoner",
                    "Kontaktpersoner hos bedriftskunder",
                    "Contacts at business customers",
                    ["client_designated_employee"],
                    [
                        _field(
                            "kontakt_id",
                            "Nummer i kunderegisteret",
                            "Number in the customer register",
                            primary_key=True,
                            identity="employee_id",
                        ),
                        {"name": "kunde_id", "references": "kunder.kunde_id"},
                        _field("navn", "Navn", "Name", **_NAME, **contract),
                        _field(
                            "stilling",
                            "Stilling",
                            "Job title",
                            category="user.job_title",
                            **contract,
                        ),
                        _field("epost", "E-postadresse", "E-mail address", **_EMAIL, **contract),
                        _field("telefon", "Telefonnummer", "Phone number", **_PHONE, **contract),
                        _field("opprettet", "Registrert", "Registered"),
                    ],
                ),
                _dataset(
                    "interessenter",
                    "Interessenter",
                    "Prospects",
                    ["prospect"],
                    [
                        _field(
                            "interessent_id",
                            "Nummer",
                            "Number",
                            primary_key=True,
                            identity="prospect_id",
                        ),
                        _field("navn", "Navn", "Name", **_NAME, purposes=["salg"]),
                        _field(
                            "epost", "E-postadresse", "E-mail address", **_EMAIL, purposes=["salg"]
                        ),
                        _field(
                            "telefon", "Telefonnummer", "Phone number", **_PHONE, purposes=["salg"]
                        ),
                        _field(
                            "firma",
                            "Firma",
                            "Company",
                            category="user.contact.organization",
                            purposes=["salg"],
                        ),
                        _field("notater", "Notater", "Notes", **_TEXT, purposes=["salg"]),
                        _field("sist_kontaktet", "Sist kontaktet", "Last contacted"),
                    ],
                ),
            ],
        ),
        _system(
            "faktura",
            "Fakturering",
            "Billing",
            [
                _dataset(
                    "fakturaer",
                    "Fakturaer",
                    "Invoices",
                    ["customer"],
                    [
                        _field("faktura_id", "Faktura", "Invoice", primary_key=True),
                        {"name": "kunde_id", "references": "crm.kunder.kunde_id"},
                        _field(
                            "fakturanr",
                            "Fakturanummer",
                            "Invoice number",
                            category="user.financial",
                            source="derived",
                            **billing,
                        ),
                        _field(
                            "fakturadato",
                            "Fakturadato",
                            "Invoice date",
                            category="user.financial",
                            source="derived",
                            **billing,
                        ),
                        _field("forfallsdato", "Forfallsdato", "Due date"),
                        _field(
                            "belop_ore",
                            "Beløp i øre",
                            "Amount in øre",
                            category="user.financial",
                            source="derived",
                            **billing,
                        ),
                        _field("mottaker_navn", "Fakturamottaker", "Billed to", **_NAME, **billing),
                        _field(
                            "faktura_epost",
                            "E-post for faktura",
                            "Invoice e-mail",
                            **_EMAIL,
                            **billing,
                        ),
                        _field(
                            "fakturaadresse",
                            "Fakturaadresse",
                            "Billing address",
                            category="user.contact.address",
                            **billing,
                        ),
                    ],
                ),
                _dataset(
                    "fakturalinjer",
                    "Fakturalinjer",
                    "Invoice lines",
                    ["customer"],
                    [
                        _field("linje_id", "Linje", "Line", primary_key=True),
                        {"name": "faktura_id", "references": "fakturaer.faktura_id"},
                        _field(
                            "beskrivelse",
                            "Beskrivelse",
                            "Description",
                            category="user.behavior.purchase_history",
                            source="derived",
                            **billing,
                        ),
                        _field("antall", "Antall", "Quantity"),
                        _field(
                            "belop_ore",
                            "Beløp i øre",
                            "Amount in øre",
                            category="user.financial",
                            source="derived",
                            **billing,
                        ),
                    ],
                ),
            ],
        ),
        _system(
            "kundeservice",
            "Kundeservice",
            "Customer service",
            [
                _dataset(
                    "henvendelser",
                    "Henvendelser",
                    "Enquiries",
                    ["customer", "client_designated_employee", "prospect"],
                    [
                        _field("henvendelse_id", "Saksnummer", "Case number", primary_key=True),
                        {"name": "kunde_id", "references": "crm.kunder.kunde_id"},
                        _field("fra_epost", "Fra", "From", **_EMAIL, **support),
                        _field("emne", "Emne", "Subject", **_TEXT, **support),
                        _field("tekst", "Tekst", "Text", **_TEXT, **support),
                        _field("opprettet", "Opprettet", "Opened"),
                        _field("lukket", "Avsluttet", "Closed"),
                    ],
                ),
                _dataset(
                    "skjema_henvendelser",
                    "Henvendelser fra kontaktskjemaet",
                    "Enquiries from the contact form",
                    ["customer", "prospect", "visitor"],
                    [
                        _field("skjema_id", "Saksnummer", "Case number", primary_key=True),
                        _field("mottatt", "Mottatt", "Received"),
                        _field("emne", "Emne", "Subject", **_TEXT, **support),
                        _field("melding", "Melding", "Message", **_TEXT, **support),
                    ],
                ),
            ],
        ),
        _system(
            "nettlogg",
            "Nettlogg",
            "Web log",
            [
                _dataset(
                    "sidevisninger",
                    "Besøk på nettsiden",
                    "Visits to the web site",
                    ["visitor", "customer"],
                    [
                        _field("visning_id", "Nummer", "Number", primary_key=True),
                        _field(
                            "besoks_id",
                            "ID i informasjonskapsel",
                            "Cookie ID",
                            identity="cookie_id",
                            category="user.device.cookie_id",
                            **web,
                        ),
                        {"name": "kunde_id", "references": "crm.kunder.kunde_id"},
                        _field(
                            "tidspunkt",
                            "Tidspunkt",
                            "Time",
                            category="user.behavior.browsing_history",
                            **web,
                        ),
                        # The full URL as logged: before sign-in it may carry the address typed.
                        _field(
                            "url",
                            "Side",
                            "Page",
                            category="user.behavior.browsing_history",
                            free_text=True,
                            **web,
                        ),
                        _field(
                            "ip_adresse",
                            "IP-adresse",
                            "IP address",
                            category="user.device.ip_address",
                            **web,
                        ),
                        _field(
                            "nettleser",
                            "Nettleser",
                            "Browser",
                            category="user.device",
                            **web,
                        ),
                    ],
                ),
            ],
        ),
        _system(
            "telefoni",
            "Telefoni",
            "Telephony",
            [
                _dataset(
                    "samtaler",
                    "Telefonsamtaler",
                    "Phone calls",
                    ["customer", "client_designated_employee", "prospect"],
                    [
                        _field("samtale_id", "Samtale", "Call", primary_key=True),
                        {"name": "kunde_id", "references": "crm.kunder.kunde_id"},
                        _field(
                            "telefonnummer",
                            "Telefonnummer",
                            "Phone number",
                            **_PHONE,
                            purposes=["kundeservice"],
                            source="observed",
                        ),
                        _field(
                            "startet",
                            "Tidspunkt",
                            "Time",
                            category="user.behavior",
                            purposes=["kundeservice"],
                            source="observed",
                        ),
                        _field("varighet_sek", "Varighet i sekunder", "Duration in seconds"),
                        _field(
                            "retning",
                            "Hvem ringte",
                            "Who called",
                            value_labels={
                                "inn": _label("Du ringte oss", "You called us"),
                                "ut": _label("Vi ringte deg", "We called you"),
                            },
                        ),
                        _field("opptak_sti", "Opptak", "Recording"),
                    ],
                ),
            ],
        ),
        _system(
            "opptak",
            "Samtaleopptak",
            "Call recordings",
            [
                _dataset(
                    "samtaleopptak",
                    "Opptak av telefonsamtaler",
                    "Recorded phone calls",
                    ["customer", "client_designated_employee", "prospect"],
                    [
                        _field(
                            "sti",
                            "Fil",
                            "File",
                            primary_key=True,
                            references="telefoni.samtaler.opptak_sti",
                        ),
                    ],
                    files={
                        "pattern": "samtaler/**/*.wav",
                        "content_category": "user.content.call_recording",
                        "content_purposes": ["samtalekvalitet"],
                        "media_type": "audio/wav",
                    },
                )
            ],
            kind="files",
        ),
        _system(
            "id_dokumenter",
            "Legitimasjon",
            "Identity documents",
            [
                _dataset(
                    "legitimasjon",
                    "Kopier av legitimasjon",
                    "Copies of identity documents",
                    ["customer"],
                    [
                        _field("dokument_id", "Dokument", "Document", primary_key=True),
                        {"name": "kunde_id", "references": "crm.kunder.kunde_id"},
                    ],
                    files={
                        "pattern": "id-dokumenter/*/*.pdf",
                        "content_category": "user.government_id",
                        "content_purposes": ["identitetskontroll"],
                        "media_type": "application/pdf",
                    },
                )
            ],
            kind="files",
        ),
    ]


def base_map() -> dict[str, dict[str, Any]]:
    """The map today's loader accepts, as YAML documents by file name."""
    return {
        "organisasjon.yaml": copy.deepcopy(_ORGANIZATION),
        "formal.yaml": copy.deepcopy(_PURPOSES),
        "lagring.yaml": copy.deepcopy(_RETENTION),
        "systemer.yaml": {"systems": _systems()},
    }


@dataclass(frozen=True)
class Addition:
    """One proposed addition of issue 7 to a dataset (or to one of its fields)."""

    feature: Feature
    #: "system.dataset".
    dataset: str
    #: Merged into the dataset, or into this field of it.
    changes: Mapping[str, Any]
    field: str | None = None


PROPOSED = (
    Addition(
        Feature.FILES_BY_PATH,
        "id_dokumenter.legitimasjon",
        {"files": {"owner": {"path": "id-dokumenter/{kunde_id}/{dokument_id}.pdf"}}},
    ),
    Addition(
        Feature.FILES_BY_COLUMN,
        "opptak.samtaleopptak",
        {"files": {"owner": {"column": "telefoni.samtaler.opptak_sti"}}},
    ),
    Addition(
        Feature.BELONGS_TO,
        "crm.kontaktpersoner",
        {
            "belongs_to": {
                "field": "kunde_id",
                "erased_with_it": True,
                "shown_to_it": ["navn", "stilling"],
            }
        },
    ),
    Addition(
        Feature.NAMES_SENDER,
        "kundeservice.skjema_henvendelser",
        {"names_sender": True},
        field="melding",
    ),
    Addition(Feature.NAMES_SENDER, "nettlogg.sidevisninger", {"names_sender": True}, field="url"),
    Addition(
        Feature.STORED_NORMALISED,
        "crm.kontaktpersoner",
        {"stored_normalised": True},
        field="epost",
    ),
)


def overlay() -> dict[str, dict[str, Any]]:
    """The proposed additions per "system.dataset": dataset keys, and ``fields`` by name."""
    merged: dict[str, dict[str, Any]] = {}
    for addition in PROPOSED:
        target = merged.setdefault(addition.dataset, {})
        if addition.field is not None:
            target = target.setdefault("fields", {}).setdefault(addition.field, {})
        _merge(target, addition.changes)
    return merged


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def with_additions(documents: dict[str, dict[str, Any]], features: Iterable[Feature]) -> None:
    """Apply the proposed additions of ``features`` to the map's documents, in place."""
    wanted = set(features)
    systems = {s["key"]: s for s in documents["systemer.yaml"]["systems"]}
    for addition in PROPOSED:
        if addition.feature not in wanted:
            continue
        system, _, name = addition.dataset.partition(".")
        dataset = next(d for d in systems[system]["datasets"] if d["name"] == name)
        if addition.field is None:
            _merge(dataset, addition.changes)
        else:
            field_ = next(f for f in dataset["fields"] if f["name"] == addition.field)
            _merge(field_, addition.changes)


def data_map(folder: Path, with_proposed: bool | Iterable[Feature] = False) -> Path:
    """Write the map as a folder of YAML files; ``with_proposed`` adds all or some additions."""
    documents = base_map()
    if with_proposed is True:
        with_additions(documents, Feature)
    elif with_proposed is not False:
        with_additions(documents, with_proposed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (folder / name).write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return folder


def erasure_strategies(dataset: str) -> dict[str, str] | None:
    """How an erasure treats the dataset's kept records, field by field, as the map says.

    None when its records are deleted. Otherwise (docs/datamap.md, "Erasure") every
    personal field (with a category, not a key or reference) is erased by its ``erasure``
    strategy, ``null`` when it names none, except those marked ``keep``.
    """
    system, _, name = dataset.partition(".")
    declared = next(
        d for s in _systems() if s["key"] == system for d in s["datasets"] if d["name"] == name
    )
    fields = declared["fields"]
    if not any(f.get("erasure") in {"null", "mask", "pseudonymise", "keep"} for f in fields):
        return None
    return {
        f["name"]: f.get("erasure", "null")
        for f in fields
        if f.get("category")
        and not f.get("primary_key")
        and not f.get("references")
        and f.get("erasure") != "keep"
    }


def primary_keys() -> dict[str, str]:
    """The primary key field of every dataset, by "system.dataset"."""
    return {
        f"{s['key']}.{d['name']}": next(f["name"] for f in d["fields"] if f.get("primary_key"))
        for s in _systems()
        for d in s["datasets"]
    }


def email_fields(dataset: str) -> frozenset[str]:
    """The dataset's fields holding e-mail identities (a masked one holds an address)."""
    system, _, name = dataset.partition(".")
    declared = next(
        d for s in _systems() if s["key"] == system for d in s["datasets"] if d["name"] == name
    )
    return frozenset(f["name"] for f in declared["fields"] if f.get("identity") == "email")
