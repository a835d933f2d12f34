"""The record of processing activities (GDPR Art. 30(1)), one activity per purpose.

Each activity gathers, from the data map, what the article lists: controller, joint
controller, representative and DPO with their contact details (a), the purpose and
its legal basis (b), categories of subjects and of personal data (c), recipients
including those in third countries (d), transfers with their safeguards (e), erasure
time limits (f) and a general description of the security measures (g). The systems
involved are added so an auditor can go from the record to the store.

Every value is a tuple of lines, so CSV, JSON and HTML render the same content. Where
the article's item does not apply, the line says so instead of leaving a blank an
auditor would have to interpret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from personvern.domain.datamap import (
    Contact,
    Controller,
    DataMap,
    Purpose,
    RetentionRule,
    System,
)
from personvern.domain.errors import UnknownLanguageError
from personvern.domain.localized_names import (
    category_name,
    country_name,
    localized,
    subject_name,
)
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.retention.own_records import OWN_SYSTEM, OwnRecordRule
from personvern.domain.retention_period import (
    RetentionPeriod,
    describe_action,
    describe_retention,
)
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy
from personvern.domain.transfers import is_third_country

#: Languages the record can be written in (its fixed phrases exist in these).
ROPA_LANGUAGES = ("en", "nb")

#: Cookies serving a purpose are recorded under this Fides category.
_COOKIE_CATEGORY = "user.device.cookie"


@dataclass(frozen=True)
class RopaColumn:
    """One item of the record: machine key, the article point and labels per language."""

    key: str
    article: str
    labels: Mapping[str, str]

    def label(self, lang: str) -> str:
        """The column heading in ``lang`` (English when not translated)."""
        return self.labels.get(lang, self.labels["en"])


ROPA_COLUMNS: tuple[RopaColumn, ...] = (
    RopaColumn("activity", "", {"en": "Processing activity", "nb": "Behandlingsaktivitet"}),
    RopaColumn("controller", "30(1)(a)", {"en": "Controller", "nb": "Behandlingsansvarlig"}),
    RopaColumn(
        "joint_controller",
        "30(1)(a)",
        {"en": "Joint controller", "nb": "Felles behandlingsansvarlig"},
    ),
    RopaColumn("representative", "30(1)(a)", {"en": "Representative", "nb": "Representant"}),
    RopaColumn("dpo", "30(1)(a)", {"en": "Data protection officer", "nb": "Personvernombud"}),
    RopaColumn("purpose", "30(1)(b)", {"en": "Purpose", "nb": "Formål"}),
    RopaColumn("legal_basis", "30(1)(b)", {"en": "Legal basis", "nb": "Behandlingsgrunnlag"}),
    RopaColumn(
        "data_subjects",
        "30(1)(c)",
        {"en": "Categories of data subjects", "nb": "Kategorier av registrerte"},
    ),
    RopaColumn(
        "data_categories",
        "30(1)(c)",
        {"en": "Categories of personal data", "nb": "Kategorier av personopplysninger"},
    ),
    RopaColumn(
        "recipients",
        "30(1)(d)",
        {"en": "Categories of recipients", "nb": "Kategorier av mottakere"},
    ),
    RopaColumn(
        "third_country_transfers",
        "30(1)(e)",
        {
            "en": "Transfers to third countries and safeguards",
            "nb": "Overføringer til tredjeland og garantier",
        },
    ),
    RopaColumn(
        "erasure_time_limits",
        "30(1)(f)",
        {"en": "Time limits for erasure", "nb": "Frister for sletting"},
    ),
    RopaColumn(
        "security_measures",
        "30(1)(g)",
        {"en": "Technical and organisational security measures", "nb": "Sikkerhetstiltak"},
    ),
    RopaColumn("systems", "", {"en": "Systems involved", "nb": "Systemer"}),
)

#: The keys that carry what Art. 30(1) lists (all but the activity name and the systems).
ART30_KEYS: tuple[str, ...] = tuple(c.key for c in ROPA_COLUMNS if c.article)

_PHRASES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "not_applicable": "Not applicable",
        "no_dpo": "No data protection officer appointed; contact: {contact}",
        "no_recipients": "No recipients outside the controller",
        "no_transfers": "No transfers outside the EEA",
        "no_rule": "No specific rule; general principle: {principle}",
        "org_no": "org. no.",
        "consent": "consent wording",
        "interest": "legitimate interest",
        "reference": "legal reference",
        "legal_hold": "legal hold",
        "then": "then",
        "cookie": "cookie",
        "encrypted": "Field-level encryption of",
        "hosted": "hosted in",
        "special": "special category",
    },
    "nb": {
        "not_applicable": "Ikke aktuelt",
        "no_dpo": "Personvernombud er ikke utpekt; kontakt: {contact}",
        "no_recipients": "Ingen mottakere utenfor den behandlingsansvarlige",
        "no_transfers": "Ingen overføringer utenfor EØS",
        "no_rule": "Ingen særskilt regel; hovedregel: {principle}",
        "org_no": "org.nr.",
        "consent": "samtykketekst",
        "interest": "berettiget interesse",
        "reference": "rettslig grunnlag",
        "legal_hold": "lovpålagt oppbevaring",
        "then": "deretter",
        "cookie": "informasjonskapsel",
        "encrypted": "Feltkryptering av",
        "hosted": "driftet i",
        "special": "særlig kategori",
    },
}


@dataclass(frozen=True)
class ProcessingActivity:
    """One row of the record of processing: everything Art. 30(1) asks about one purpose."""

    key: str
    activity: tuple[str, ...]
    controller: tuple[str, ...]
    joint_controller: tuple[str, ...]
    representative: tuple[str, ...]
    dpo: tuple[str, ...]
    purpose: tuple[str, ...]
    legal_basis: tuple[str, ...]
    data_subjects: tuple[str, ...]
    data_categories: tuple[str, ...]
    recipients: tuple[str, ...]
    third_country_transfers: tuple[str, ...]
    erasure_time_limits: tuple[str, ...]
    security_measures: tuple[str, ...]
    systems: tuple[str, ...]

    def values(self) -> dict[str, tuple[str, ...]]:
        """The record's items keyed by :data:`ROPA_COLUMNS` keys, in column order."""
        return {column.key: getattr(self, column.key) for column in ROPA_COLUMNS}


def build_ropa(
    datamap: DataMap,
    lang: str = "en",
    taxonomy: Taxonomy | None = None,
    own_records: Sequence[OwnRecordRule] = (),
) -> tuple[ProcessingActivity, ...]:
    """One :class:`ProcessingActivity` per purpose declared in the data map.

    With ``own_records`` (personvern's settings), one more: personvern's own processing,
    with the time limits its retention sweep enforces on its own records.
    """
    if lang not in ROPA_LANGUAGES:
        raise UnknownLanguageError(
            f"the record of processing is not available in '{lang}' "
            f"(available: {', '.join(ROPA_LANGUAGES)})"
        )
    tax = effective_taxonomy(datamap, taxonomy or fides_taxonomy())
    activities = tuple(_activity(datamap, tax, purpose, lang) for purpose in datamap.purposes)
    if not own_records:
        return activities
    return (*activities, _own_activity(datamap, own_records, lang))


def _activity(
    datamap: DataMap, taxonomy: Taxonomy, purpose: Purpose, lang: str
) -> ProcessingActivity:
    words = _PHRASES[lang]
    org = datamap.organization
    systems: list[System] = []
    subjects: list[str] = []
    categories: list[str] = []
    datasets: list[str] = []
    encrypted: list[str] = []
    cookies: list[str] = []

    def note(items: list[str], value: str) -> None:
        if value not in items:
            items.append(value)

    for system in datamap.systems:
        for dataset in system.datasets:
            serving = [f for f in dataset.fields if purpose.key in f.purposes]
            files = dataset.files
            if files is not None and purpose.key not in files.content_purposes:
                files = None
            if not serving and not files:
                continue
            note(datasets, f"{system.key}.{dataset.name}")
            for subject in dataset.subjects:
                note(subjects, subject)
            if files:
                note(categories, files.content_category)
            for field in serving:
                if field.category:
                    note(categories, field.category)
                if field.encrypted:
                    note(encrypted, f"{system.key}.{dataset.name}.{field.name}")
            if system not in systems:
                systems.append(system)
        for cookie in system.cookies:
            if cookie.purpose == purpose.key:
                note(categories, _COOKIE_CATEGORY)
                note(cookies, f"{words['cookie']} {cookie.name} ({system.name}): {cookie.duration}")
                if system not in systems:
                    systems.append(system)

    controllers = [c for c in org.controllers if any(s.controller == c.key for s in systems)]
    recipients = [r for r in datamap.recipients if purpose.key in r.purposes]
    recipient_groups: dict[str, list[str]] = {}
    for r in recipients:
        recipient_groups.setdefault(localized(r.recipient_category, lang), []).append(
            f"{r.name} ({country_name(r.country, lang)})"
        )
    transfers = [
        f"{r.name} ({country_name(r.country, lang)}): "
        + (r.transfer.describe(lang) if r.transfer else "")
        + (f" ({r.derogation})" if r.derogation else "")
        for r in recipients
        if is_third_country(r.country)
    ]
    rules = [
        rule
        for rule in datamap.retention
        if (rule.dataset in datasets) or (rule.category is not None and rule.category in categories)
    ]
    erasure = [_erasure_line(datamap, rule, lang) for rule in rules] + cookies
    if not erasure:
        erasure = [words["no_rule"].format(principle=localized(org.retention_principle, lang))]
    na = (words["not_applicable"],)
    return ProcessingActivity(
        key=purpose.key,
        activity=(localized(purpose.name, lang),),
        controller=tuple(_controller(c, lang) for c in (controllers or org.controllers)),
        joint_controller=tuple(_contact(c) for c in org.joint_controllers) or na,
        representative=(_contact(org.representative),) if org.representative else na,
        dpo=(_contact(org.dpo),)
        if org.dpo
        else (words["no_dpo"].format(contact=_contact(org.contact)),),
        purpose=(localized(purpose.description, lang),),
        legal_basis=_legal_basis(purpose, lang),
        data_subjects=tuple(subject_name(datamap, taxonomy, s, lang) for s in subjects) or na,
        data_categories=tuple(_category(datamap, taxonomy, c, lang) for c in categories) or na,
        recipients=tuple(
            f"{name}: {', '.join(members)}" for name, members in recipient_groups.items()
        )
        or (words["no_recipients"],),
        third_country_transfers=tuple(transfers) or (words["no_transfers"],),
        erasure_time_limits=tuple(erasure),
        security_measures=tuple(localized(m, lang) for m in org.security_measures)
        + ((f"{words['encrypted']} {', '.join(encrypted)}",) if encrypted else ()),
        systems=tuple(
            f"{s.name} ({s.key}, {s.kind.value}"
            + (
                f", {words['hosted']} {country_name(s.hosting_country, lang)}"
                if s.hosting_country
                else ""
            )
            + ")"
            for s in systems
        )
        or na,
    )


#: Key of the activity that is personvern's own processing.
OWN_ACTIVITY = "personvern-own-records"

_OWN: Mapping[str, Mapping[str, str | tuple[str, ...]]] = {
    "en": {
        "activity": "Privacy operations in personvern (its own records)",
        "purpose": "Answering data subject requests (GDPR Art. 12-22), proving consents "
        "(Art. 7(1)), audience measurement with consent, and the audit trail that shows "
        "how personal data was handled (Art. 5(2))",
        "legal_basis": (
            "Legal obligation (GDPR Art. 6(1)(c)): Art. 12-22, 7(1) and 5(2)",
            "Consent (GDPR Art. 6(1)(a)) for web and app events",
        ),
        "subjects": (
            "Persons who make a request",
            "Persons who give or withdraw consent",
            "Visitors who consented to analytics",
            "Staff using personvern",
        ),
        "categories": (
            "Identities and contact details given in requests, and the answers",
            "Consent proofs under a keyed hash of one identity",
            "Web events: visitor cookie id, network prefix, browser family, pages",
            "Audit events: staff identity, keyed subject hash, what was done",
        ),
        "transfers": "None of its own: personvern's store is run by the controller",
        "period": "{what}: {period} {runs_from}, then deleted – {basis}; setting {setting}",
        "at_end": "{what}: deleted from the day after it ended – {basis}; setting {setting}",
        "system": "personvern's own store",
    },
    "nb": {
        "activity": "Personvernarbeid i personvern (egne registre)",
        "purpose": "Besvare henvendelser fra registrerte (personvernforordningen art. 12-22), "
        "dokumentere samtykker (art. 7 nr. 1), publikumsmåling med samtykke, og "
        "revisjonssporet som viser hvordan personopplysninger er behandlet (art. 5 nr. 2)",
        "legal_basis": (
            "Rettslig forpliktelse (personvernforordningen art. 6 nr. 1 bokstav c): "
            "art. 12-22, 7 nr. 1 og 5 nr. 2",
            "Samtykke (personvernforordningen art. 6 nr. 1 bokstav a) for hendelser fra "
            "nettsted og app",
        ),
        "subjects": (
            "Personer som sender en henvendelse",
            "Personer som gir eller trekker tilbake samtykke",
            "Besøkende som har samtykket til analyse",
            "Ansatte som bruker personvern",
        ),
        "categories": (
            "Identiteter og kontaktopplysninger oppgitt i henvendelser, og svarene",
            "Samtykkebevis under en nøkkelbasert hash av én identitet",
            "Hendelser fra nettsted og app: besøks-ID i informasjonskapsel, nettverksprefiks, "
            "nettleserfamilie, sider",
            "Revisjonshendelser: den ansattes identitet, nøkkelbasert hash av den registrerte, "
            "hva som ble gjort",
        ),
        "transfers": "Ingen egne: personverns database driftes av den behandlingsansvarlige",
        "period": "{what}: {period} {runs_from}, deretter slettet – {basis}; innstilling {setting}",
        "at_end": "{what}: slettes fra dagen etter at den opphørte – {basis}; innstilling "
        "{setting}",
        "system": "personverns egen database",
    },
}


def _own_activity(
    datamap: DataMap, rules: Sequence[OwnRecordRule], lang: str
) -> ProcessingActivity:
    """personvern's own processing: its records, and the periods its sweep enforces."""
    words = _PHRASES[lang]
    own = _OWN[lang]

    def lines(key: str) -> tuple[str, ...]:
        value = own[key]
        return (value,) if isinstance(value, str) else value

    org = datamap.organization
    limits = tuple(
        str(own["period" if rule.parsed_period != RetentionPeriod() else "at_end"]).format(
            what=rule.text(rule.what, lang),
            period=rule.parsed_period.words(lang),
            runs_from=rule.text(rule.runs_from, lang),
            basis=rule.text(rule.basis, lang),
            setting=rule.setting,
        )
        for rule in rules
    )
    na = (words["not_applicable"],)
    return ProcessingActivity(
        key=OWN_ACTIVITY,
        activity=lines("activity"),
        controller=tuple(_controller(c, lang) for c in org.controllers),
        joint_controller=tuple(_contact(c) for c in org.joint_controllers) or na,
        representative=(_contact(org.representative),) if org.representative else na,
        dpo=(_contact(org.dpo),)
        if org.dpo
        else (words["no_dpo"].format(contact=_contact(org.contact)),),
        purpose=lines("purpose"),
        legal_basis=lines("legal_basis"),
        data_subjects=lines("subjects"),
        data_categories=lines("categories"),
        recipients=(words["no_recipients"],),
        third_country_transfers=lines("transfers"),
        erasure_time_limits=limits,
        security_measures=tuple(localized(m, lang) for m in org.security_measures) or na,
        systems=(f"personvern ({OWN_SYSTEM}, {own['system']})",),
    )


def _controller(controller: Controller, lang: str) -> str:
    words = _PHRASES[lang]
    parts = [
        f"{controller.name} ({words['org_no']} {controller.organization_number})",
        f"{controller.address}, {country_name(controller.country, lang)}",
    ]
    parts += [value for value in (controller.email, controller.phone) if value]
    return ", ".join(parts)


def _contact(contact: Contact) -> str:
    return ", ".join(
        value for value in (contact.name, contact.email, contact.phone, contact.address) if value
    )


def _legal_basis(purpose: Purpose, lang: str) -> tuple[str, ...]:
    words = _PHRASES[lang]
    basis = purpose.legal_basis
    lines = [f"{basis.label(lang)} ({basis.article})"] if basis else []
    if purpose.special_category_condition:
        lines.append(f"GDPR Art. {purpose.special_category_condition.value}")
    if purpose.legal_reference:
        lines.append(f"{words['reference']}: {purpose.legal_reference}")
    if purpose.legitimate_interest:
        lines.append(f"{words['interest']}: {localized(purpose.legitimate_interest, lang)}")
    if purpose.consent:
        lines.append(f"{words['consent']}: {localized(purpose.consent, lang)}")
    return tuple(lines)


def _category(datamap: DataMap, taxonomy: Taxonomy, key: str, lang: str) -> str:
    name = category_name(datamap, taxonomy, key, lang)
    special = taxonomy.special_article(key)
    return f"{name} ({_PHRASES[lang]['special']}, {special})" if special else name


def _erasure_line(datamap: DataMap, rule: RetentionRule, lang: str) -> str:
    words = _PHRASES[lang]
    what = rule.dataset or rule.category or rule.key
    if rule.dataset:
        system = datamap.system(rule.dataset.split(".", 1)[0])
        if system is not None:
            what = f"{system.name} ({rule.dataset})"
    line = (
        f"{what}: {describe_retention(rule.period, rule.trigger, lang)}, "
        f"{words['then']} {describe_action(rule.action, lang)}"
    )
    if rule.legal_hold:
        line += f"; {words['legal_hold']}: {rule.legal_hold.reference}"
    return line
