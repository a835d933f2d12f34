"""What the customer privacy notice says, composed from the data map (GDPR Art. 13 and 14).

The notice is a view of the data map, never a text someone keeps in step by hand: a
purpose no field, file or cookie serves is left out, a recipient only appears while a
purpose it serves is processed, and the call-recording statement exists only while a
system declares it. The seven sections follow the company's policy (what we collect,
what for, sharing and transfers, security, risk, retention, your rights) and add what
Art. 13 requires that the policy lacked: who the controllers are and how to reach
them and the DPO, the legal bases, retention periods and the right to complain.

This module decides content only; wording around it lives in the templates of each
language, so adding a language means adding templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from personvern.domain.datamap import (
    Contact,
    DataMap,
    Purpose,
    RecipientRole,
    RetentionRule,
    Source,
    SystemKind,
)
from personvern.domain.errors import UnknownLanguageError
from personvern.domain.legal_basis import LegalBasis
from personvern.domain.localized_names import (
    category_name,
    country_name,
    localized,
    subject_name,
)
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.retention_period import (
    describe_action,
    describe_period,
    describe_trigger,
)
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy
from personvern.domain.transfers import TransferMechanism, is_third_country

_SCC_MECHANISMS = frozenset(
    {
        TransferMechanism.SCC_MODULE_1,
        TransferMechanism.SCC_MODULE_2,
        TransferMechanism.SCC_MODULE_3,
        TransferMechanism.SCC_MODULE_4,
    }
)


@dataclass(frozen=True)
class ContactEntry:
    """A person or office the reader can reach."""

    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ControllerEntry:
    """A controller entity with its identity and contact details (Art. 13(1)(a))."""

    name: str
    organization_number: str
    address: str
    country: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class SubjectEntry:
    """A kind of person the notice is addressed to."""

    name: str
    description: str


@dataclass(frozen=True)
class CategoryEntry:
    """A category of personal data and the purposes it is used for."""

    key: str
    name: str
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class PurposeEntry:
    """A purpose with its legal basis, consent wording or legitimate interest."""

    key: str
    name: str
    description: str
    legal_basis: str
    #: "consent", "contract", ... (LegalBasis value), for templates to branch on.
    legal_basis_key: str
    #: The letter of Art. 6(1): "a" to "f"; templates write the article in their language.
    legal_basis_letter: str
    consent: str
    legitimate_interest: str
    legal_reference: str


@dataclass(frozen=True)
class RecipientEntry:
    """One recipient of personal data."""

    name: str
    role: str
    country: str
    country_code: str
    third_country: bool


@dataclass(frozen=True)
class RecipientGroup:
    """Recipients under the category the notice names them by (Art. 13(1)(e))."""

    name: str
    recipients: tuple[RecipientEntry, ...]


@dataclass(frozen=True)
class TransferEntry:
    """A transfer outside the EEA with the safeguard it rests on (Art. 13(1)(f))."""

    recipient: str
    country: str
    group_entity: bool
    mechanism: str
    safeguard: str


@dataclass(frozen=True)
class RetentionEntry:
    """How long one kind of data is kept, from when, and any legal duty to keep it."""

    system: str
    description: str
    period: str
    trigger: str
    action: str
    legal_hold_reference: str
    legal_hold_description: str


@dataclass(frozen=True)
class AuthorityEntry:
    """The supervisory authority a subject may complain to (Art. 13(2)(d))."""

    name: str
    url: str
    address: str
    country: str


@dataclass(frozen=True)
class NoticeContent:
    """Everything the notice says, in one language, ready for a template."""

    lang: str
    organization: str
    controllers: tuple[ControllerEntry, ...]
    contact: ContactEntry
    dpo: ContactEntry | None
    representative: ContactEntry | None
    joint_controllers: tuple[ContactEntry, ...]
    subjects: tuple[SubjectEntry, ...]
    #: Section 1, by source: given by you, collected via technology, made by us, from others.
    provided: tuple[CategoryEntry, ...]
    observed: tuple[CategoryEntry, ...]
    derived: tuple[CategoryEntry, ...]
    third_party: tuple[CategoryEntry, ...]
    #: What systems tell people before collecting (e.g. "this call is recorded").
    collection_notices: tuple[str, ...]
    #: The web sites and apps through which data is collected via technology.
    channels: tuple[str, ...]
    uses_cookies: bool
    cookie_policy_url: str
    purposes: tuple[PurposeEntry, ...]
    has_consent: bool
    has_legitimate_interests: bool
    has_direct_marketing: bool
    recipient_groups: tuple[RecipientGroup, ...]
    group_entities: tuple[RecipientEntry, ...]
    has_processors: bool
    has_independent_controllers: bool
    transfers: tuple[TransferEntry, ...]
    #: The policy's promise: transfers within the group outside the EEA rest on SCCs.
    group_transfers_on_scc: bool
    security_measures: tuple[str, ...]
    risk_statement: str
    retention_principle: str
    retention: tuple[RetentionEntry, ...]
    supervisory_authority: AuthorityEntry
    rights_guidance_url: str


def require_language(datamap: DataMap, lang: str) -> None:
    """Refuse a language the data map does not declare (its texts would be missing)."""
    declared = datamap.organization.languages
    if lang not in declared:
        raise UnknownLanguageError(
            f"language '{lang}' is not declared in the data map (available: {', '.join(declared)})"
        )


def served_purposes(datamap: DataMap) -> set[str]:
    """Keys of the purposes some field, file content or cookie actually serves."""
    served: set[str] = set()
    for system in datamap.systems:
        for dataset in system.datasets:
            for field in dataset.fields:
                served.update(field.purposes)
            if dataset.files is not None:
                served.update(dataset.files.content_purposes)
        served.update(cookie.purpose for cookie in system.cookies if cookie.purpose)
    return served


def build_notice_content(
    datamap: DataMap, lang: str, taxonomy: Taxonomy | None = None
) -> NoticeContent:
    """Compose the privacy notice for ``lang`` from the data map."""
    require_language(datamap, lang)
    tax = effective_taxonomy(datamap, taxonomy or fides_taxonomy())
    org = datamap.organization
    served = served_purposes(datamap)
    purposes = [p for p in datamap.purposes if p.key in served]
    by_source = _categories_by_source(datamap, tax, lang, served)
    recipients = [r for r in datamap.recipients if set(r.purposes) & served]

    entries = {
        r.key: RecipientEntry(
            name=r.name,
            role=r.role.value,
            country=country_name(r.country, lang),
            country_code=r.country,
            third_country=is_third_country(r.country),
        )
        for r in recipients
    }
    groups: dict[str, list[RecipientEntry]] = {}
    for r in recipients:
        groups.setdefault(localized(r.recipient_category, lang), []).append(entries[r.key])
    transfers = tuple(
        TransferEntry(
            recipient=r.name,
            country=country_name(r.country, lang),
            group_entity=r.role is RecipientRole.GROUP_ENTITY,
            mechanism=r.transfer.value if r.transfer else "",
            safeguard=_safeguard(r.transfer, r.derogation, lang),
        )
        for r in recipients
        if is_third_country(r.country)
    )
    authority = org.supervisory_authority
    return NoticeContent(
        lang=lang,
        organization=org.name,
        controllers=tuple(
            ControllerEntry(
                name=c.name,
                organization_number=c.organization_number,
                address=c.address,
                country=country_name(c.country, lang),
                email=c.email,
                phone=c.phone,
            )
            for c in org.controllers
        ),
        contact=_contact(org.contact),
        dpo=_contact(org.dpo) if org.dpo else None,
        representative=_contact(org.representative) if org.representative else None,
        joint_controllers=tuple(_contact(c) for c in org.joint_controllers),
        subjects=tuple(
            SubjectEntry(
                name=subject_name(datamap, tax, s.key, lang),
                description=localized(s.description, lang),
            )
            for s in datamap.subjects
        ),
        provided=by_source[Source.PROVIDED],
        observed=by_source[Source.OBSERVED],
        derived=by_source[Source.DERIVED],
        third_party=by_source[Source.THIRD_PARTY],
        collection_notices=tuple(
            localized(s.collection_notice, lang) for s in datamap.systems if s.collection_notice
        ),
        channels=tuple(
            s.name for s in datamap.systems if s.kind in {SystemKind.WEB, SystemKind.APP}
        ),
        uses_cookies=any(s.cookies for s in datamap.systems),
        cookie_policy_url=org.cookie_policy_url or "",
        purposes=tuple(_purpose(p, lang) for p in purposes),
        has_consent=any(p.legal_basis is LegalBasis.CONSENT for p in purposes),
        has_legitimate_interests=any(
            p.legal_basis is LegalBasis.LEGITIMATE_INTERESTS for p in purposes
        ),
        has_direct_marketing=any(p.data_use.startswith("marketing") for p in purposes),
        recipient_groups=tuple(
            RecipientGroup(name, tuple(members)) for name, members in groups.items()
        ),
        group_entities=tuple(
            entries[r.key] for r in recipients if r.role is RecipientRole.GROUP_ENTITY
        ),
        has_processors=any(r.role is RecipientRole.PROCESSOR for r in recipients),
        has_independent_controllers=any(
            r.role is RecipientRole.INDEPENDENT_CONTROLLER for r in recipients
        ),
        transfers=transfers,
        group_transfers_on_scc=any(
            t.group_entity and t.mechanism in _SCC_MECHANISMS for t in transfers
        ),
        security_measures=tuple(localized(m, lang) for m in org.security_measures),
        risk_statement=localized(org.risk_statement, lang),
        retention_principle=localized(org.retention_principle, lang),
        retention=tuple(_retention(datamap, rule, lang) for rule in datamap.retention),
        supervisory_authority=AuthorityEntry(
            name=authority.name,
            url=authority.url,
            address=authority.address or "",
            country=country_name(authority.country, lang),
        ),
        rights_guidance_url=org.rights_guidance_url or "",
    )


def _contact(contact: Contact) -> ContactEntry:
    return ContactEntry(contact.name, contact.email, contact.phone, contact.address)


def _categories_by_source(
    datamap: DataMap, taxonomy: Taxonomy, lang: str, served: set[str]
) -> dict[Source, tuple[CategoryEntry, ...]]:
    """Categories grouped by where they come from, each with the purposes using it."""
    uses: dict[Source, dict[str, list[str]]] = {source: {} for source in Source}

    def add(source: Source, category: str, purposes: list[str]) -> None:
        listed = uses[source].setdefault(category, [])
        listed.extend(p for p in purposes if p not in listed and p in served)

    for system in datamap.systems:
        for dataset in system.datasets:
            if dataset.files is not None:
                # A file's content (a call, a scanned passport) comes from the person.
                add(Source.PROVIDED, dataset.files.content_category, dataset.files.content_purposes)
            for field in dataset.fields:
                if field.category is not None:
                    add(field.source, field.category, field.purposes)
    order = [p.key for p in datamap.purposes]
    names = {p.key: localized(p.name, lang) for p in datamap.purposes}
    return {
        source: tuple(
            CategoryEntry(
                key=category,
                name=category_name(datamap, taxonomy, category, lang),
                purposes=tuple(names[p] for p in sorted(purposes, key=order.index) if p in names),
            )
            for category, purposes in found.items()
        )
        for source, found in uses.items()
    }


def _purpose(purpose: Purpose, lang: str) -> PurposeEntry:
    basis = purpose.legal_basis
    return PurposeEntry(
        key=purpose.key,
        name=localized(purpose.name, lang),
        description=localized(purpose.description, lang),
        legal_basis=basis.label(lang) if basis else "",
        legal_basis_key=basis.value if basis else "",
        legal_basis_letter="abcdef"[list(LegalBasis).index(basis)] if basis else "",
        consent=localized(purpose.consent, lang),
        legitimate_interest=localized(purpose.legitimate_interest, lang),
        legal_reference=purpose.legal_reference or "",
    )


def _safeguard(mechanism: TransferMechanism | None, derogation: str | None, lang: str) -> str:
    if mechanism is None:
        return ""
    text = mechanism.describe(lang)
    if mechanism is TransferMechanism.ART49_DEROGATION and derogation:
        text = f"{text}: {derogation}"
    return text


def _retention(datamap: DataMap, rule: RetentionRule, lang: str) -> RetentionEntry:
    system_name = ""
    if rule.dataset:
        system = datamap.system(rule.dataset.split(".", 1)[0])
        system_name = system.name if system else rule.dataset
    hold = rule.legal_hold
    return RetentionEntry(
        system=system_name,
        description=localized(rule.description, lang),
        period=describe_period(rule.period, lang),
        trigger=describe_trigger(rule.trigger, lang),
        action=describe_action(rule.action, lang),
        legal_hold_reference=hold.reference if hold else "",
        legal_hold_description=localized(hold.description, lang) if hold else "",
    )
