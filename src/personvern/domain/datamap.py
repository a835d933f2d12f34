"""The data map: every system, dataset and field holding personal data, and why.

These models describe shape and types only. Cross-references (does this purpose
exist? is this a known taxonomy key?) and policy rules are checked by
:mod:`personvern.domain.policy_lint`, which can report all problems at once with
their location instead of stopping at the first.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from personvern.domain.legal_basis import LegalBasis, SpecialCategoryCondition
from personvern.domain.transfers import TransferMechanism

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=120)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^([A-Z]{2}|EPO)$")]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=120)]
# An identifier in the company's own stores (table, column, file key).
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=120)]


def _cron(value: str) -> str:
    """A retention schedule, checked as cron (five fields) when the map is read."""
    from personvern.domain.retention.cron import InvalidScheduleError, parse_schedule

    try:
        return parse_schedule(value)
    except InvalidScheduleError as exc:
        raise ValueError(str(exc)) from None


#: When retention sweeps run by themselves, in cron syntax ("0 3 * * *").
Schedule = Annotated[str, StringConstraints(max_length=120), AfterValidator(_cron)]

#: Text in several languages, keyed by language code ("nb", "en", ...).
Localized = dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")], str]


class Strict(BaseModel):
    """Base for data-map models: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(Strict):
    """A person or office that can be reached."""

    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class SupervisoryAuthority(Strict):
    """The authority a subject may complain to."""

    name: str
    country: CountryCode
    url: str
    address: str | None = None
    #: The authority's page explaining the rights of data subjects, linked from answers.
    rights_guidance_url: str | None = None


class Controller(Strict):
    """A legal entity that is controller for the processing (one per country in a group)."""

    key: Key
    name: str
    organization_number: str
    address: str
    country: CountryCode
    email: str | None = None
    phone: str | None = None
    #: Where this entity's subjects complain; the organization's authority when omitted.
    supervisory_authority: SupervisoryAuthority | None = None


class Organization(Strict):
    """Who is responsible, how to reach them, and what they promise about security."""

    name: str
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] = Field(
        min_length=1
    )
    controllers: list[Controller] = Field(min_length=1)
    contact: Contact
    dpo: Contact | None = None
    representative: Contact | None = None
    joint_controllers: list[Contact] = Field(default_factory=list)
    supervisory_authority: SupervisoryAuthority
    security_measures: list[Localized] = Field(default_factory=list)
    risk_statement: Localized | None = None
    retention_principle: Localized | None = None
    #: The last day of the financial year as "MM-DD" (regnskapsår); "12-31" when omitted.
    #: Statutory holds such as bokføringsloven § 13 run from this day.
    financial_year_end: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")] | None = None
    rights_guidance_url: str | None = None
    cookie_policy_url: str | None = None

    def language_or_default(self, lang: str | None) -> str:
        """``lang`` when given, else the first declared language (documents' default)."""
        return lang or self.languages[0]


class CustomTaxonomyKey(Strict):
    """A data category, use or subject the Fides taxonomy lacks, placed under a parent."""

    key: Key
    parent: Key | None = None
    name: Localized
    description: Localized = Field(default_factory=dict)
    #: For categories: the article that makes it special ("Art. 9" or "Art. 10").
    special: str | None = None


class Taxonomies(Strict):
    """Custom vocabulary added to the Fides taxonomy."""

    data_categories: list[CustomTaxonomyKey] = Field(default_factory=list)
    data_uses: list[CustomTaxonomyKey] = Field(default_factory=list)
    data_subjects: list[CustomTaxonomyKey] = Field(default_factory=list)


class Subject(Strict):
    """A kind of person the company holds data about."""

    key: Key
    name: Localized
    description: Localized = Field(default_factory=dict)


class Purpose(Strict):
    """Why data is processed, on which legal basis."""

    key: Key
    name: Localized
    description: Localized
    data_use: Key
    legal_basis: LegalBasis | None = None
    #: For consent: what exactly the subject agrees to (shown when asking and in the notice).
    consent: Localized | None = None
    #: For legitimate interests: the interest pursued (Art. 13(1)(d)).
    legitimate_interest: Localized | None = None
    #: For special categories (Art. 9/10): the condition that allows it.
    special_category_condition: SpecialCategoryCondition | None = None
    #: A legal obligation's reference (e.g. "bokføringsloven § 13").
    legal_reference: str | None = None
    #: Marketing to the company's existing customers without consent (markedsføringsloven
    #: § 15 second paragraph: own similar products, address got with a sale, opt-out
    #: offered then and in every message): a marketing decision for this purpose allows
    #: an existing customer by e-mail or SMS unless they opted out (personvern.domain.decisions).
    existing_customer_exception: bool = False


class Source(StrEnum):
    """Where a field's value comes from (Art. 14, Art. 20)."""

    PROVIDED = "provided"
    OBSERVED = "observed"
    DERIVED = "derived"
    THIRD_PARTY = "third_party"


class ErasureStrategy(StrEnum):
    """How a field is erased when its subject asks for erasure."""

    DELETE_ROW = "delete"
    SET_NULL = "null"
    MASK = "mask"
    PSEUDONYMISE = "pseudonymise"
    KEEP = "keep"


class IdentityKind(StrEnum):
    """How a subject can be found through a field."""

    EMAIL = "email"
    PHONE_NUMBER = "phone_number"
    CUSTOMER_ID = "customer_id"
    NATIONAL_ID = "national_id"
    EMPLOYEE_ID = "employee_id"
    PROSPECT_ID = "prospect_id"
    COOKIE_ID = "cookie_id"
    ACCOUNT_ID = "account_id"


class DataField(Strict):
    """One field (column, document key, sidecar key) of a dataset."""

    name: Identifier
    category: Key | None = None
    purposes: list[Key] = Field(default_factory=list)
    source: Source = Source.PROVIDED
    identity: IdentityKind | None = None
    #: The identity is stored in its canonical form only (an address lower-cased as
    #: personvern.domain.identities.email writes it), so a store is asked with a plain
    #: comparison a plain index serves, not one that ignores case.
    stored_normalised: bool = False
    #: "dataset.field" in the same system, or "system.dataset.field" in another.
    references: str | None = None
    primary_key: bool = False
    erasure: ErasureStrategy | None = None
    #: Free text that may mention people (searched and redacted, never deleted wholesale).
    free_text: bool = False
    #: The free text names its own sender (a web form signed "Name: … E-mail: …", a URL
    #: logged with the address typed): a record without an owner key whose text names
    #: the subject first is the subject's own (personvern.domain.requests.named_sender).
    names_sender: bool = False
    encrypted: bool = False
    #: Why this field is needed, required for national identity numbers (pol. § 12).
    need: Localized | None = None
    description: Localized = Field(default_factory=dict)
    #: What the subject reads for this field in an answer ("Kontaktperson", "Contact person");
    #: without it, the name of its data category.
    label: Localized | None = None
    #: Words for coded values in answers, e.g. ``{inbound: {nb: Innkommende, en: Incoming}}``.
    value_labels: dict[str, Localized] = Field(default_factory=dict)
    #: The field holds the subject's preferred language ("nb", "en"): answers use it.
    subject_language: bool = False
    #: The field holds the subject's country (ISO 3166-1 alpha-2): the controller in that
    #: country answers them.
    subject_country: bool = False

    @field_validator("references")
    @classmethod
    def _reference_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_]+){1,2}", value):
            msg = "references must be 'dataset.field' or 'system.dataset.field'"
            raise ValueError(msg)
        return value


class FileOwner(Strict):
    """Whom a file belongs to when no sidecar says so: its path, or a row naming it.

    Exactly one of the two (see personvern.domain.file_ownership, which checks it).
    """

    #: The file's path under the root with ``{field}`` placeholders, e.g.
    #: "id-documents/{customer_id}/{document_id}.pdf".
    path: str | None = None
    #: "system.dataset.field" of another system whose value is each file's path under the root.
    column: str | None = None


class FileSet(Strict):
    """Files belonging to a dataset in a file store, owned by a sidecar, their path or a row."""

    #: Glob relative to the store's root, e.g. "recordings/**/*.wav".
    pattern: str
    #: Suffix of the JSON sidecar file next to each file holding the dataset's fields
    #: (when ``owner`` is absent).
    sidecar: str = ".json"
    #: Whom each file belongs to without a sidecar (personvern.domain.file_ownership).
    owner: FileOwner | None = None
    #: The category of the file's content itself (e.g. a call recording).
    content_category: Key
    content_purposes: list[Key] = Field(default_factory=list)
    media_type: str = "application/octet-stream"


class RestrictionMark(StrEnum):
    """What a dataset's restriction field is set to when a subject's records are restricted."""

    #: The time of the restriction (a timestamp column, like a stop field's ``unsubscribed_at``).
    TIMESTAMP = "timestamp"
    #: ``true`` (a boolean flag column).
    FLAG = "flag"


class Restriction(Strict):
    """How the system marks a record restricted (Art. 18): kept, but not otherwise processed.

    personvern sets ``field`` on the subject's records (through the connector's rectify,
    for a webhook system its ``rectify`` operation); the system must then stop using
    records so marked for anything but storage.
    """

    field: Identifier
    mark: RestrictionMark = RestrictionMark.TIMESTAMP


class BelongsTo(Strict):
    """The persons of a dataset belong to a person of another (a business customer's contacts).

    Each of them is still a person who can make their own request; what the person
    they belong to may see of them, and whether they go when it is erased, is said here
    (personvern.domain.requests.belongs_to checks it and reads it).
    """

    #: The field referencing the person they belong to (e.g. ``customer_id``).
    field: Identifier
    #: Erasing that person erases these records too, as their own erasure would.
    erased_with_it: bool = False
    #: The fields that person's access answer shows of them (besides the key and ``field``);
    #: omitted, their names and job titles only.
    shown_to_it: list[Identifier] | None = None


class Dataset(Strict):
    """A table, collection or group of files within a system."""

    name: Identifier
    #: What the subject reads for this dataset in an answer ("Fakturaer", "Invoices").
    label: Localized | None = None
    description: Localized = Field(default_factory=dict)
    subjects: list[Key] = Field(min_length=1)
    fields: list[DataField] = Field(min_length=1)
    files: FileSet | None = None
    #: How a restriction request restricts the subject's records here; without it, a
    #: person does it by hand (the request lists a manual step).
    restriction: Restriction | None = None
    #: Each record is a person belonging to a person of another dataset (see BelongsTo).
    belongs_to: BelongsTo | None = None
    #: The field that moves whenever a record's free text may have changed: an
    #: updated-at column, or an increasing key for a table whose rows never change.
    #: personvern's mention index refreshes from it (personvern.domain.change_marker).
    change_marker: Identifier | None = None


class SystemKind(StrEnum):
    """How personvern reaches a system."""

    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    SQLITE = "sqlite"
    FILES = "files"
    WEBHOOK = "webhook"
    WEB = "web"
    APP = "app"

    @property
    def needs_connection(self) -> bool:
        """Web sites and apps are described for cookies only; stores need a connection."""
        return self not in {SystemKind.WEB, SystemKind.APP}


class CookieCategory(StrEnum):
    """Cookie classes of the consent banner (ekomloven § 3-15)."""

    STRICTLY_NECESSARY = "strictly_necessary"
    PREFERENCES = "preferences"
    ANALYTICS = "analytics"
    MARKETING = "marketing"


class Cookie(Strict):
    """A cookie or similar technology a web site or app sets or reads."""

    name: str
    provider: str
    category: CookieCategory
    purpose: Key | None = None
    duration: str
    description: Localized
    third_party: bool = False


class System(Strict):
    """A system of the company that holds or collects personal data."""

    key: Key
    name: str
    #: The system's name for a subject, per language ("Kunderegister"); else ``name``.
    label: Localized | None = None
    kind: SystemKind
    description: Localized
    #: NAME of the environment variable holding the connection URL; never the URL itself.
    connection_env: EnvVarName | None = None
    controller: Key | None = None
    hosting_country: CountryCode | None = None
    datasets: list[Dataset] = Field(default_factory=list)
    cookies: list[Cookie] = Field(default_factory=list)
    #: Told to the subject before collection (e.g. "this call is recorded").
    collection_notice: Localized | None = None
    #: When its retention rules are swept by themselves (cron, UTC); see docs/retention.md.
    schedule: Schedule | None = None


class RetentionTrigger(StrEnum):
    """The event from which a retention period runs."""

    COLLECTED = "collected"
    LAST_ACTIVITY = "last_activity"
    CONTRACT_END = "contract_end"
    FINANCIAL_YEAR_END = "financial_year_end"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PURPOSE_FULFILLED = "purpose_fulfilled"


class RetentionAction(StrEnum):
    """What happens when the period has run."""

    DELETE = "delete"
    ANONYMISE = "anonymise"
    #: Counts of the rows kept in a summary table, then the rows deleted.
    AGGREGATE = "aggregate"


class TriggerFormat(StrEnum):
    """How the trigger column stores time; omitted, the column's SQL type says."""

    #: An SQL DATE.
    DATE = "date"
    #: An SQL TIMESTAMP/DATETIME: with a time zone, or naive in UTC.
    TIMESTAMP = "timestamp"
    #: ISO 8601 text beginning with the date ("2024-03-01", "2024-03-01T10:00:00Z").
    ISO_TEXT = "iso_text"
    #: Seconds since 1970-01-01T00:00Z as an integer.
    EPOCH_SECONDS = "epoch_seconds"
    #: Milliseconds since 1970-01-01T00:00Z as an integer.
    EPOCH_MILLIS = "epoch_millis"
    #: A naive timestamp in local wall-clock time of the rule's ``timezone``.
    NAIVE_LOCAL = "naive_local"


class Anonymisation(StrEnum):
    """How one field of a kept record is made anonymous when its period has run."""

    NULL = "null"
    #: A date or timestamp generalised to 1 January of its year.
    YEAR = "year"
    #: An IPv4 address to its /24 network, an IPv6 address to its /48.
    TRUNCATE_IP = "truncate_ip"
    #: A keyed pseudonym (personvern.security.pseudonym), the same value for the same input.
    PSEUDONYM = "pseudonym"
    #: A fixed mask (the erasure strategy ``mask``).
    MASK = "mask"


ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")
_ISO_MESSAGE = "must be an ISO 8601 duration such as P5Y, P3Y6M, P18M, P30D"


class HoldStart(StrEnum):
    """When a statutory hold's period starts."""

    #: At the end of the financial year the trigger falls in (bokføringsloven § 13).
    FINANCIAL_YEAR_END = "financial_year_end"
    #: At the trigger itself.
    TRIGGER = "trigger"


class LegalHold(Strict):
    """A legal duty to keep data that overrides erasure (Art. 17(3)(b)).

    With a ``period`` the hold is enforced: no sweep removes a record before the hold
    has run from its start; without one it is stated in documents only.
    """

    reference: str
    description: Localized
    period: str | None = None
    starts: HoldStart = HoldStart.FINANCIAL_YEAR_END

    @field_validator("period")
    @classmethod
    def _iso_period(cls, value: str | None) -> str | None:
        if value is not None and not ISO_DURATION.match(value):
            raise ValueError(f"period {_ISO_MESSAGE}")
        return value


ConditionValue = Annotated[str, StringConstraints(max_length=200)] | int | bool


class RetentionCondition(Strict):
    """Which rows a rule applies to: one field compared with given values, never SQL.

    Exactly one of ``equals``, ``in`` or ``is_null``.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True
    )

    field: Identifier
    equals: ConditionValue | None = None
    in_: list[ConditionValue] | None = Field(default=None, alias="in", min_length=1, max_length=100)
    is_null: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> RetentionCondition:
        given = [name for name in ("equals", "in_", "is_null") if getattr(self, name) is not None]
        if len(given) != 1:
            msg = "a condition takes exactly one of equals:, in: or is_null:"
            raise ValueError(msg)
        return self


class RetentionAggregate(Strict):
    """What an ``aggregate`` rule keeps of the rows it deletes: their number per day.

    Counted per day of the trigger and per value of the ``by`` fields, into ``table`` of
    the same database (created when missing), in the transaction that deletes the rows.
    """

    #: The summary table, in the dataset's database.
    table: Identifier
    #: Fields of the dataset to count per, besides the day (a page path, a country).
    by: list[Identifier] = Field(default_factory=list, max_length=5)

    @field_validator("by")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            msg = "by: names a field twice"
            raise ValueError(msg)
        reserved = sorted(set(value) & set(AGGREGATE_COLUMNS))
        if reserved:
            msg = f"by: {reserved[0]} is the summary table's own column; rename the field"
            raise ValueError(msg)
        return value


#: The summary table's columns besides the ``by`` fields: the day and the number of rows.
AGGREGATE_COLUMNS = ("day", "row_count")


class RetentionRule(Strict):
    """How long data of a dataset or category is kept, from which trigger."""

    key: Key
    #: "system.dataset", or omitted when the rule is by category.
    dataset: str | None = None
    category: Key | None = None
    trigger: RetentionTrigger
    #: Field holding the trigger date, when the trigger is read from the data.
    trigger_field: Identifier | None = None
    #: How the trigger field stores time; omitted, the column's SQL type says.
    trigger_format: TriggerFormat | None = None
    #: IANA time zone the rule's days are counted in (and naive_local times are in).
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    #: A field of the dataset referencing another: ``trigger_field`` is then read in the
    #: referenced record (a payment follows its invoice).
    trigger_via: Identifier | None = None
    #: Only rows meeting this condition are governed by the rule.
    condition: RetentionCondition | None = None
    period: str
    action: RetentionAction = RetentionAction.DELETE
    #: For ``anonymise``: per field, how; omitted, each field's erasure strategy says.
    anonymise: dict[Identifier, Anonymisation] = Field(default_factory=dict)
    #: For ``aggregate``: the summary table and what the counts are kept per.
    aggregate: RetentionAggregate | None = None
    legal_hold: LegalHold | None = None
    #: When this rule is swept by itself (cron, in ``timezone``), apart from its system's.
    schedule: Schedule | None = None
    description: Localized

    @field_validator("period")
    @classmethod
    def _iso_period(cls, value: str) -> str:
        if not ISO_DURATION.match(value):
            raise ValueError(f"period {_ISO_MESSAGE}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}; use an IANA name such as Europe/Oslo"
            raise ValueError(msg) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RetentionRule:
        if self.trigger_format is TriggerFormat.NAIVE_LOCAL and self.timezone is None:
            msg = "trigger_format naive_local needs timezone: (e.g. Europe/Oslo)"
            raise ValueError(msg)
        if self.anonymise and self.action is not RetentionAction.ANONYMISE:
            msg = "anonymise: lists fields only for action: anonymise"
            raise ValueError(msg)
        if (self.aggregate is not None) is not (self.action is RetentionAction.AGGREGATE):
            msg = (
                "action: aggregate needs aggregate: {table: ..., by: [...]}"
                if self.aggregate is None
                else "aggregate: is only for action: aggregate"
            )
            raise ValueError(msg)
        if self.trigger_via is not None and self.trigger_field is None:
            msg = "trigger_via needs trigger_field: the field of the referenced record"
            raise ValueError(msg)
        return self


class RecipientRole(StrEnum):
    """The recipient's relation to the controller."""

    GROUP_ENTITY = "group_entity"
    PROCESSOR = "processor"
    INDEPENDENT_CONTROLLER = "independent_controller"


class Recipient(Strict):
    """Someone the company shares personal data with."""

    key: Key
    name: str
    role: RecipientRole
    country: CountryCode
    purposes: list[Key] = Field(min_length=1)
    categories: list[Key] = Field(min_length=1)
    transfer: TransferMechanism | None = None
    dpf_certified: bool = False
    #: For Art. 49: which derogation applies.
    derogation: str | None = None
    #: The recipient category as the notice names it ("IT service providers").
    recipient_category: Localized
    description: Localized = Field(default_factory=dict)


class DataMap(Strict):
    """The whole data map."""

    organization: Organization
    taxonomy: Taxonomies = Field(default_factory=Taxonomies)
    subjects: list[Subject] = Field(default_factory=list)
    purposes: list[Purpose] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    retention: list[RetentionRule] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)

    def purpose(self, key: str) -> Purpose | None:
        """The purpose with this key, if declared."""
        return next((p for p in self.purposes if p.key == key), None)

    def system(self, key: str) -> System | None:
        """The system with this key, if declared."""
        return next((s for s in self.systems if s.key == key), None)

    def subject(self, key: str) -> Subject | None:
        """The subject with this key, if declared."""
        return next((s for s in self.subjects if s.key == key), None)

    def controller(self, key: str) -> Controller | None:
        """The controller entity with this key, if declared."""
        return next((c for c in self.organization.controllers if c.key == key), None)
