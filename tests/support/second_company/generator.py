"""Nordavind Strøm AS: a second test company, unlike the demo wherever a request can trip.

The demo company (personvern.demo) was built beside the engine, so it holds its data
the way the engine reads it: English names, one spelling per identity, sidecars beside
every file. This generator builds an electricity supplier that keeps its data the way
real systems do, seeded and deterministic (Faker ``no_NO`` and one ``random.Random``):

* Norwegian tables and columns (``kunder``, ``kontaktpersoner``, ``interessenter``,
  ``fakturaer``, ``fakturalinjer``, ``henvendelser``, ``skjema_henvendelser``,
  ``sidevisninger``, ``samtaler``);
* phone numbers in six spellings (:class:`PhoneSpelling`), national identity numbers
  with a space and D-numbers, e-mail addresses in any case and URL-encoded in logged
  URLs;
* web-form tickets without a customer key, signed in the text ("Navn: … E-post: …");
* call recordings named by ``samtaler.opptak_sti`` and identity documents owned by
  their path (``id-dokumenter/{kunde_id}/{dokument_id}.pdf``), without sidecars;
* business customers with designated employees (``kontaktpersoner``), one of them a
  sole proprietorship whose owner is a subject;
* duplicate customer records of one person, differing in case or spelling;
* rows whose text no driver can decode (written by the seeder);
* decoys that must not match: a namesake, a phone number one digit off, two firms
  sharing an office address and switchboard, an address that is a prefix of another.

About sixty people, of whom 24 are request subjects. Every row a subject owns, and every
row that mentions them, is recorded as a :class:`Claim` when the row is made, with what
an erasure does to it and which of the features of issue 7 the engine needs to get it
right; the ``truth`` module beside this one turns the claims into expected answers. Nothing
here queries a database: the generator knows whose each row is because it wrote it.
"""

from __future__ import annotations

import io
import math
import random
import re
import unicodedata
import wave
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import quote

import phonenumbers
from faker import Faker
from stdnum.no import fodselsnummer

SEED = 20261125
#: The day requests are run on ("today" for legal holds and for the data's dates).
REFERENCE_DATE = date(2026, 11, 25)
#: The legal hold on invoices and their lines, as the data map names it.
BOOKKEEPING_HOLD = "bokføringsloven § 13"

Row = dict[str, Any]


class Feature(StrEnum):
    """A feature of issue 7 that expectations of this company depend on."""

    SPELLINGS = "spellings"
    FILES_BY_PATH = "files_by_path"
    FILES_BY_COLUMN = "files_by_column"
    BELONGS_TO = "belongs_to"
    NAMES_SENDER = "names_sender"
    DUPLICATES = "duplicates"
    STORED_NORMALISED = "stored_normalised"

    @property
    def description(self) -> str:
        """What the feature does, as a test's xfail reason names it."""
        return _FEATURES[self]

    @property
    def reason(self) -> str:
        """The xfail reason of an expectation that needs this feature."""
        return f"issue 7: {self.description} not built yet"


_FEATURES = {
    Feature.SPELLINGS: "identities as stored in every spelling ('0047 97320840', "
    "'(+47) 913 22 110', '971 55 337' or '40347783' on a record, 'DDMMYY NNNNN', "
    "addresses URL-encoded in logged URLs)",
    Feature.FILES_BY_PATH: "files owned by their path (files.owner.path), without sidecars",
    Feature.FILES_BY_COLUMN: "files owned by a SQL column naming them (files.owner.column)",
    Feature.BELONGS_TO: "contacts that belong to a business customer (belongs_to: erased "
    "with it, shown to it only as shown_to_it)",
    Feature.NAMES_SENDER: "free text that names its sender (names_sender: the sender's own "
    "record, not a mention)",
    Feature.DUPLICATES: "duplicate person records of one subject, differing only in case "
    "or spelling, merged without review",
    Feature.STORED_NORMALISED: "identity columns stored normalised (stored_normalised)",
}

#: The features of issue 7 that are built: their expectations are no longer xfail.
BUILT: frozenset[Feature] = frozenset(
    {
        Feature.SPELLINGS,
        Feature.FILES_BY_PATH,
        Feature.FILES_BY_COLUMN,
        Feature.STORED_NORMALISED,
        Feature.NAMES_SENDER,
        Feature.BELONGS_TO,
        Feature.DUPLICATES,
    }
)


class HardCase(StrEnum):
    """Something about a subject's data that a request can get wrong."""

    NAMESAKE = "another customer has the same name"
    PHONE_ONE_DIGIT_OFF = "another customer's phone number is one digit off"
    SHARED_OFFICE = "their firm shares office address and switchboard with another firm"
    EMAIL_PREFIX = "their address is a prefix of another person's address"
    EMAIL_CASE = "their address is stored in other letter cases"
    PHONE_SPELLING = "their phone number is stored in another spelling"
    NATIONAL_ID_SPACE = "their national identity number is stored with a space"
    D_NUMBER = "their national identity number is a D-number"
    URL_ENCODED_EMAIL = "their address is URL-encoded in a logged URL before sign-in"
    SIGNED_WEB_FORM = "they sent web-form tickets signed in the text, without a customer key"
    MENTIONED_BY_OTHERS = "other people's records mention them in free text"
    BUSINESS_CUSTOMER = "they are a business customer with designated employees"
    DESIGNATED_EMPLOYEE = "they are a business customer's designated employee"
    DUPLICATE_CASE = "they have two customer records differing in letter case"
    DUPLICATE_SPELLING = "they have two customer records differing in spelling"
    UNREADABLE_OWN_ROW = "one of their own rows cannot be decoded"
    FILES_BY_PATH = "they have identity documents owned by their path"
    FILES_BY_COLUMN = "they have call recordings named by a SQL column"
    LEGAL_HOLD = "some of their invoices are under the bookkeeping hold"
    COOKIE_BEFORE_SIGN_IN = "they browsed before signing in, on the same browser"
    PROSPECT = "they are a prospect, not a customer"
    PROSPECT_AND_CUSTOMER = "they are both a prospect and a customer"
    REQUEST_BY_CUSTOMER_NUMBER = "staff filed their request by customer number alone"
    WORK_AND_PRIVATE = "they are a private customer and a firm's designated employee"


class Treatment(StrEnum):
    """What an erasure does to one record."""

    #: The record is deleted (a file with its content).
    DELETE = "delete"
    #: The record stays and its personal fields are erased by the map's strategies.
    ERASE_FIELDS = "erase_fields"
    #: The record is someone else's; the mentions of the subject in its text go.
    REDACT = "redact"
    #: The record is kept as it is (a legal hold).
    KEEP = "keep"


class PhoneSpelling(StrEnum):
    """How a Norwegian phone number is written on a record (examples for 913 22 110)."""

    E164 = "+4791322110"
    INTERNATIONAL = "+47 913 22 110"
    GROUPED = "913 22 110"
    DIGITS = "91322110"
    PARENTHESISED = "(+47) 913 22 110"
    ZERO_ZERO = "0047 91322110"


def spell_phone(e164: str, spelling: PhoneSpelling) -> str:
    """A +47 number as ``spelling`` writes it (mobiles 3-2-3, landlines 2-2-2-2)."""
    digits = e164.removeprefix("+47")
    if digits[0] in "49":
        grouped = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    else:
        grouped = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return {
        PhoneSpelling.E164: e164,
        PhoneSpelling.INTERNATIONAL: f"+47 {grouped}",
        PhoneSpelling.GROUPED: grouped,
        PhoneSpelling.DIGITS: digits,
        PhoneSpelling.PARENTHESISED: f"(+47) {grouped}",
        PhoneSpelling.ZERO_ZERO: f"0047 {digits}",
    }[spelling]


def spaced_national_id(number: str) -> str:
    """A national identity number as people write it: 010180 12345."""
    return f"{number[:6]} {number[6:]}"


@dataclass(frozen=True)
class Person:
    """Someone the company holds data about (or a firm's generic contact details)."""

    slug: str
    name: str
    email: str | None
    #: E.164; records may spell it otherwise.
    phone: str | None
    national_id: str | None = None
    #: "subject", "decoy" or "other".
    role: str = "other"
    #: Whose decoy this person is (the subject's slug).
    decoy_of: str | None = None
    #: Other addresses and numbers (E.164) written on their records (a work address).
    also: tuple[str, ...] = ()

    @property
    def identities(self) -> tuple[str, ...]:
        """Every e-mail address, phone number (E.164) and national id they have."""
        given = (self.email, self.phone, self.national_id, *self.also)
        return tuple(value for value in given if value)


@dataclass(frozen=True)
class Mention:
    """A person's identity written into a free text, and what reading it takes."""

    who: str
    written: str
    #: Features needed to find the text by this mention.
    find: frozenset[Feature] = frozenset()
    #: Features needed to redact this mention whole.
    redact: frozenset[Feature] = frozenset()


@dataclass(frozen=True)
class Text:
    """A free text made of plain parts and mentions, so it can be redacted for anyone."""

    parts: tuple[str | Mention, ...]

    def render(self) -> str:
        """The text as stored."""
        return "".join(p if isinstance(p, str) else p.written for p in self.parts)

    def redacted_for(self, who: str, marker: str) -> str:
        """The text with every mention of ``who`` replaced by ``marker``."""
        return "".join(
            p if isinstance(p, str) else (marker if p.who == who else p.written) for p in self.parts
        )

    def mentions(self) -> tuple[Mention, ...]:
        """The mentions in the text, in order."""
        return tuple(p for p in self.parts if isinstance(p, Mention))


#: What redaction puts in place of a mention (personvern.connectors.port.Redaction).
REDACTED = "[…]"


@dataclass(frozen=True)
class Claim:
    """One record a subject's requests must find, and what an erasure does to it."""

    #: "system.dataset" as the data map names it.
    dataset: str
    #: The record's key as text.
    key: str
    erasure: Treatment
    #: Why the record is the subject's (for messages).
    why: str
    keep_reason: str | None = None
    #: For REDACT: each free-text field's text after the subject's mentions are redacted.
    redacted: Mapping[str, str] = field(default_factory=dict)
    #: Features the engine needs to find the record.
    find: frozenset[Feature] = frozenset()
    #: Features the engine needs to treat the record right on erasure.
    act: frozenset[Feature] = frozenset()
    #: For files: where the export zip holds the file (files/<system>/<name>).
    export_path: str | None = None
    #: For files: the file's path under its store's root.
    stored_at: str | None = None

    @property
    def is_own(self) -> bool:
        """Whether the record is the subject's (not only a mention of them)."""
        return self.erasure is not Treatment.REDACT


@dataclass(frozen=True)
class Review:
    """Why a subject's requests must stop for review: an own row that cannot be read."""

    dataset: str
    key: str

    @property
    def message(self) -> str:
        """The start of the message the request must stop with."""
        return f"{self.dataset}: the record with key {self.key} cannot be read"


@dataclass(frozen=True)
class Subject:
    """A person whose access and erasure requests the tests run."""

    #: The test id: the person's name as a slug (unique among subjects).
    name: str
    full_name: str
    #: What the scenario exercises, stable across Faker versions (names may change).
    scenario: str
    hard_cases: tuple[HardCase, ...]
    #: What staff filed the request with: (kind, value) as typed.
    identities: tuple[tuple[str, str], ...]
    claims: tuple[Claim, ...]
    review: Review | None = None
    #: Features without which no part of the subject's requests can be right.
    request_needs: frozenset[Feature] = frozenset()
    #: Features a run needs to complete (the plan can be right without them).
    run_needs: frozenset[Feature] = frozenset()


@dataclass(frozen=True)
class Unreadable:
    """A text value the seeder spoils with bytes no driver can decode."""

    dataset: str
    column: str
    key: int
    #: The readable start of the value (ASCII); the bad byte follows it.
    prefix: str
    #: The person the row is about.
    owner: str


@dataclass(frozen=True)
class TextCell:
    """One free-text value the generator wrote, with whom it mentions."""

    dataset: str
    key: str
    column: str
    text: Text
    #: Whose record it is (the sender of a signed web form), if anyone's in particular.
    sender: str | None = None


@dataclass(frozen=True)
class SecondCompany:
    """Everything the generator made: rows, files, people, subjects and their claims."""

    seed: int
    reference_date: date
    #: "system.table" -> rows, each a dict of column -> value.
    rows: Mapping[str, tuple[Row, ...]]
    #: file store (system key) -> path under its root -> content.
    files: Mapping[str, Mapping[str, bytes]]
    people: tuple[Person, ...]
    subjects: tuple[Subject, ...]
    unreadable: tuple[Unreadable, ...]
    texts: tuple[TextCell, ...]
    #: "system.table" -> its key column.
    keys: Mapping[str, str]

    def subject(self, name: str) -> Subject:
        """The subject with this name (slug)."""
        return next(s for s in self.subjects if s.name == name)

    def person(self, slug: str) -> Person:
        """The person with this slug."""
        return next(p for p in self.people if p.slug == slug)

    def row(self, dataset: str, key: str) -> Row:
        """The row of ``dataset`` with this key (as text)."""
        column = self.keys[dataset]
        return next(r for r in self.rows[dataset] if str(r[column]) == key)


#: Key column of every table, by "system.table".
KEYS = {
    "crm.kunder": "kunde_id",
    "crm.kontaktpersoner": "kontakt_id",
    "crm.interessenter": "interessent_id",
    "faktura.fakturaer": "faktura_id",
    "faktura.fakturalinjer": "linje_id",
    "kundeservice.henvendelser": "henvendelse_id",
    "kundeservice.skjema_henvendelser": "skjema_id",
    "nettlogg.sidevisninger": "visning_id",
    "telefoni.samtaler": "samtale_id",
}
#: The file datasets, "system.dataset", and the store (system) holding their files.
RECORDINGS = "opptak.samtaleopptak"
ID_DOCUMENTS = "id_dokumenter.legitimasjon"

# Where each table's keys start: distinct ranges, so a key in a message names its table.
_FIRST_KEY = {
    "crm.kunder": 100_001,
    "crm.kontaktpersoner": 5_001,
    "crm.interessenter": 7_001,
    "faktura.fakturaer": 200_001,
    "faktura.fakturalinjer": 1,
    "kundeservice.henvendelser": 30_001,
    "kundeservice.skjema_henvendelser": 90_001,
    "nettlogg.sidevisninger": 1,
    "telefoni.samtaler": 600_001,
    "documents": 1,
}
_SITE = "https://www.nordavind.no"
_FREE_MAIL = ("epost.no", "online.no", "gmail.com", "hotmail.no", "icloud.com", "altibox.no")
_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:132.0) Gecko/20100101 Firefox/132.0",
)
_PAGES = (
    "/privat/stromavtaler",
    "/privat/spotpris",
    "/privat/fastpris",
    "/min-side",
    "/min-side/fakturaer",
    "/min-side/malerstand",
    "/kundeservice/stromstans",
)
_TICKETS = (
    ("Spørsmål om faktura", "Hei! Fakturaen for {month} ser altfor høy ut. Kan dere sjekke den?"),
    ("Målerstand", "Målerstanden {day} var {kwh} kWh. Vennlig hilsen {first}"),
    ("Flytting", "Jeg flytter {day} og vil ta med strømavtalen til ny adresse."),
    ("Strømstans", "Strømmen har gått flere ganger denne uka. Er det feil i nettet?"),
    ("Bytte avtale", "Jeg vil bytte fra spotpris til fastpris fra neste måned."),
)
_JOBS = ("Daglig leder", "Økonomiansvarlig", "Driftsleder", "Innkjøper", "Kontorleder")
_MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
_K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR = (3, 2, 7, 6, 5, 4, 3, 2)


def ascii_slug(text: str, sep: str = ".") -> str:
    """Lower-case ASCII of a name, for addresses and ids: Bjørn Ås -> bjorn.as."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, text).strip(sep)


def _mod11(digits: str, weights: tuple[int, ...]) -> int:
    return (11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11) % 11


def wav_bytes(frequency_hz: int, seconds: float = 0.2, rate: int = 8000) -> bytes:
    """A short 8-bit mono tone as WAV bytes: a stand-in for a call recording."""
    samples = bytes(
        128 + int(50 * math.sin(2 * math.pi * frequency_hz * n / rate))
        for n in range(int(rate * seconds))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def pdf_bytes(title: str) -> bytes:
    """A one-page PDF naming the document: a stand-in for a scanned identity document."""
    text = title.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


@dataclass
class _Draft:
    person: Person
    scenario: str
    hard_cases: tuple[HardCase, ...]
    identities: tuple[tuple[str, str], ...]
    claims: list[Claim] = field(default_factory=list)
    review: Review | None = None
    request_needs: frozenset[Feature] = frozenset()
    run_needs: frozenset[Feature] = frozenset()


class _Builder:
    """Makes the company row by row, recording each subject's claims as it goes."""

    def __init__(self, seed: int, today: date) -> None:
        # Reproducible synthetic data, not secrets: a seeded PRNG is what is wanted here.
        self.rng = random.Random(seed)
        self.faker = Faker("no_NO")
        self.faker.seed_instance(seed)
        self.seed = seed
        self.today = today
        self.rows: dict[str, list[Row]] = defaultdict(list)
        self.files: dict[str, dict[str, bytes]] = {"opptak": {}, "id_dokumenter": {}}
        self.people: list[Person] = []
        self.drafts: dict[str, _Draft] = {}
        self.unreadable: list[Unreadable] = []
        self.texts: list[TextCell] = []
        self._next = dict(_FIRST_KEY)
        self._slugs: set[str] = set()
        self._emails: set[str] = set()
        self._phones: set[str] = set()
        self._cookies: set[str] = set()

    # -- identities --------------------------------------------------------------------

    def _id(self, table: str) -> int:
        key = self._next[table]
        self._next[table] += 1
        return key

    def name(self) -> tuple[str, str]:
        """A first and last name no one has yet (namesakes are made on purpose)."""
        while True:
            first, last = self.faker.first_name(), self.faker.last_name()
            if ascii_slug(f"{first} {last}", "-") not in self._slugs:
                return first, last

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        """A new address from a name, at a free-mail domain unless one is given."""
        domain = domain or self.rng.choice(_FREE_MAIL)
        local = f"{ascii_slug(first)}.{ascii_slug(last)}"
        address, n = f"{local}@{domain}", 1
        while address in self._emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self._emails.add(address)
        return address

    def mobile(self) -> str:
        """A new valid Norwegian mobile number, E.164."""
        while True:
            candidate = f"+47{self.rng.choice('49')}{self.rng.randrange(10**7):07d}"
            parsed = phonenumbers.parse(candidate)
            if candidate not in self._phones and phonenumbers.is_valid_number(parsed):
                self._phones.add(candidate)
                return candidate

    def landline(self) -> str:
        """A new valid Oslo landline (a switchboard), E.164."""
        while True:
            candidate = f"+4722{self.rng.randrange(10**6):06d}"
            parsed = phonenumbers.parse(candidate)
            if candidate not in self._phones and phonenumbers.is_valid_number(parsed):
                self._phones.add(candidate)
                return candidate

    def national_id(self, *, d_number: bool = False) -> str:
        """A valid fødselsnummer (or D-number) of someone born 1950-1999."""
        while True:
            born = date(1950, 1, 1) + timedelta(days=self.rng.randrange(365 * 50))
            day = born.day + (40 if d_number else 0)
            base = f"{day:02d}{born.month:02d}{born.year % 100:02d}{self.rng.randrange(500):03d}"
            k1 = _mod11(base, _K1)
            if k1 == 10:
                # The number plan skips individual numbers whose check digit would be 10.
                continue
            k2 = _mod11(f"{base}{k1}", _K2)
            number = f"{base}{k1}{k2}"
            if k2 < 10 and fodselsnummer.is_valid(number):
                return number

    def orgnr(self) -> str:
        """A valid organisation number."""
        while True:
            base = f"9{self.rng.randrange(10**7):07d}"
            check = _mod11(base, _ORGNR)
            if check < 10:
                return f"{base}{check}"

    def cookie(self) -> str:
        """A new browser id."""
        while True:
            value = f"{self.rng.getrandbits(64):016x}"
            if value not in self._cookies:
                self._cookies.add(value)
                return value

    def address(self) -> str:
        """A Norwegian street address."""
        return f"{self.faker.street_address()}, {self.faker.postcode()} {self.faker.city()}"

    def person(
        self,
        role: str = "other",
        *,
        first_last: tuple[str, str] | None = None,
        email: str | None = None,
        domain: str | None = None,
        phone: str | None = None,
        national_id: str | None = None,
        decoy_of: str | None = None,
    ) -> Person:
        """A new person; their slug is their name, with a number for a namesake."""
        first, last = first_last or self.name()
        name = f"{first} {last}"
        slug, n = ascii_slug(name, "-"), 1
        while slug in self._slugs:
            n += 1
            slug = f"{ascii_slug(name, '-')}-{n}"
        self._slugs.add(slug)
        person = Person(
            slug=slug,
            name=name,
            email=email or self.email(first, last, domain),
            phone=phone or self.mobile(),
            national_id=national_id,
            role=role,
            decoy_of=decoy_of,
        )
        self.people.append(person)
        return person

    def widen(self, person: Person, *also: str) -> Person:
        """The person with more identities of their own (a work address and phone)."""
        wider = replace(person, also=person.also + also)
        self.people[self.people.index(person)] = wider
        if person.slug in self.drafts:
            self.drafts[person.slug].person = wider
        return wider

    def subject(
        self,
        scenario: str,
        hard_cases: Iterable[HardCase],
        identities: Iterable[tuple[str, str]] = (),
        *,
        person: Person | None = None,
        national_id: str | None = None,
        domain: str | None = None,
    ) -> Person:
        """A new subject (a person whose requests are tested); identities default to e-mail."""
        person = person or self.person("subject", national_id=national_id, domain=domain)
        given = tuple(identities) or (("email", person.email or ""),)
        self.drafts[person.slug] = _Draft(person, scenario, tuple(hard_cases), given)
        return person

    # -- moments -----------------------------------------------------------------------

    def day_within(self, days: int, *, before: date | None = None) -> date:
        """A day within ``days`` before ``before`` (today)."""
        return (before or self.today) - timedelta(days=self.rng.randrange(1, days))

    def moment(self, day: date) -> datetime:
        """A moment in office hours on ``day``, to the second."""
        return datetime.combine(day, time(self.rng.randrange(7, 22), self.rng.randrange(60)))

    def day_in(self, year: int) -> date:
        """A day in ``year``, not after today."""
        last = min(date(year, 12, 31), self.today - timedelta(days=1))
        return date(year, 1, 1) + timedelta(days=self.rng.randrange((last - date(year, 1, 1)).days))

    # -- claims ------------------------------------------------------------------------

    def claim(self, owner: Person | None, dataset: str, key: object, **claim: Any) -> None:
        """Record that ``owner``'s requests must find the record (if they are a subject)."""
        if owner is not None and owner.slug in self.drafts:
            self.drafts[owner.slug].claims.append(Claim(dataset=dataset, key=str(key), **claim))

    def texts_of(
        self, dataset: str, key: int, cells: Mapping[str, Text], *, sender: Person | None = None
    ) -> None:
        """Record the texts of a row, and a redaction claim for each subject they mention."""
        owner = sender.slug if sender else None
        for column, text in cells.items():
            self.texts.append(TextCell(dataset, str(key), column, text, owner))
        mentioned: dict[str, list[Mention]] = defaultdict(list)
        for text in cells.values():
            for mention in text.mentions():
                if mention.who != owner:
                    mentioned[mention.who].append(mention)
        for who, mentions in mentioned.items():
            if who not in self.drafts:
                continue
            # Found when any mention is found; redacted right only when all of them are.
            find = frozenset.intersection(*(m.find for m in mentions))
            act = frozenset().union(*(m.redact for m in mentions))
            redacted = {
                column: text.redacted_for(who, REDACTED)
                for column, text in cells.items()
                if any(m.who == who for m in text.mentions())
            }
            self.claim(
                self.drafts[who].person,
                dataset,
                key,
                erasure=Treatment.REDACT,
                why="someone else's record that mentions them",
                redacted=redacted,
                find=find,
                act=act,
            )

    # -- records -----------------------------------------------------------------------

    def customer(
        self,
        person: Person | None,
        *,
        navn: str | None = None,
        epost: str | None = None,
        telefon: str | None = None,
        fodselsnummer: str | None = None,
        adresse: str | None = None,
        firmanavn: str | None = None,
        orgnr: str | None = None,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A row of crm.kunder: a private customer, or a firm when ``firmanavn`` is given."""
        key = self._id("crm.kunder")
        created = self.day_within(3000)
        self.rows["crm.kunder"].append(
            {
                "kunde_id": key,
                "kundetype": "bedrift" if firmanavn else "privat",
                "navn": navn,
                "firmanavn": firmanavn,
                "orgnr": orgnr,
                "epost": epost,
                "telefon": telefon,
                "fodselsnummer": fodselsnummer,
                "adresse": adresse or self.address(),
                "opprettet": created,
                "sist_aktiv": self.day_within(200),
            }
        )
        self.claim(
            person,
            "crm.kunder",
            key,
            erasure=Treatment.ERASE_FIELDS,
            why="their customer record",
            find=find,
        )
        return key

    def invoices(
        self,
        owner: Person | None,
        kunde_id: int,
        years: Iterable[int],
        *,
        mottaker: str,
        epost: str | None,
        adresse: str,
        find: frozenset[Feature] = frozenset(),
    ) -> None:
        """One invoice per year, with its lines; recent ones under the bookkeeping hold."""
        for year in years:
            issued = self.day_in(year)
            key = self._id("faktura.fakturaer")
            # Bokføringsloven § 13: kept for five years after the end of the financial year.
            held = self.today <= date(issued.year + 5, 12, 31)
            treatment = Treatment.KEEP if held else Treatment.DELETE
            reason = BOOKKEEPING_HOLD if held else None
            lines = [
                (f"Strøm {_MONTHS[issued.month - 1]} {year}", self.rng.randrange(300, 2500)),
                ("Fastbeløp", 1),
            ]
            if self.rng.random() < 0.5:
                lines.append(("Påslag", self.rng.randrange(300, 2500)))
            total = 0
            for description, quantity in lines:
                amount = quantity * self.rng.randrange(40, 160) if quantity > 1 else 3900
                total += amount
                line = self._id("faktura.fakturalinjer")
                self.rows["faktura.fakturalinjer"].append(
                    {
                        "linje_id": line,
                        "faktura_id": key,
                        "beskrivelse": description,
                        "antall": quantity,
                        "belop_ore": amount,
                    }
                )
                self.claim(
                    owner,
                    "faktura.fakturalinjer",
                    line,
                    erasure=treatment,
                    keep_reason=reason,
                    why=f"a line of their invoice of {year}",
                    find=find,
                )
            self.rows["faktura.fakturaer"].append(
                {
                    "faktura_id": key,
                    "kunde_id": kunde_id,
                    "fakturanr": f"{year}-{key}",
                    "fakturadato": issued,
                    "forfallsdato": issued + timedelta(days=14),
                    "belop_ore": total,
                    "mottaker_navn": mottaker,
                    "faktura_epost": epost,
                    "fakturaadresse": adresse,
                }
            )
            self.claim(
                owner,
                "faktura.fakturaer",
                key,
                erasure=treatment,
                keep_reason=reason,
                why=f"their invoice of {year}",
                find=find,
            )

    def ticket(
        self,
        owner: Person | None,
        kunde_id: int | None,
        fra_epost: str | None,
        tekst: Text | None = None,
        *,
        emne: str | None = None,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A support ticket (kundeservice.henvendelser) under a customer or from an address."""
        key = self._id("kundeservice.henvendelser")
        subject, body = self.rng.choice(_TICKETS)
        opened = self.moment(self.day_within(600))
        first = owner.name.split()[0] if owner else "Kari"
        text = tekst or Text(
            (
                body.format(
                    month=self.rng.choice(_MONTHS),
                    day=f"{self.rng.randrange(1, 28)}. {self.rng.choice(_MONTHS)}",
                    kwh=self.rng.randrange(10_000, 99_999),
                    first=first,
                ),
            )
        )
        title = Text((emne or subject,))
        self.rows["kundeservice.henvendelser"].append(
            {
                "henvendelse_id": key,
                "kunde_id": kunde_id,
                "fra_epost": fra_epost,
                "emne": title.render(),
                "tekst": text.render(),
                "opprettet": opened,
                "lukket": opened + timedelta(days=self.rng.randrange(1, 9)),
            }
        )
        self.claim(
            owner,
            "kundeservice.henvendelser",
            key,
            erasure=Treatment.DELETE,
            why="a ticket they filed",
            find=find,
        )
        self.texts_of(
            "kundeservice.henvendelser", key, {"emne": title, "tekst": text}, sender=owner
        )
        return key

    def web_form(
        self,
        sender: Person,
        body: Iterable[str | Mention],
        *,
        emne: str,
        email_as_written: str | None = None,
        phone: PhoneSpelling | None = PhoneSpelling.GROUPED,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A web-form ticket: no customer key, signed in the text by its sender."""
        assert sender.email is not None
        assert sender.phone is not None
        key = self._id("kundeservice.skjema_henvendelser")
        parts: list[str | Mention] = [
            f"Navn: {sender.name}\nE-post: ",
            Mention(sender.slug, email_as_written or sender.email),
        ]
        if phone is not None:
            parts += ["\nTelefon: ", Mention(sender.slug, spell_phone(sender.phone, phone))]
        parts += ["\n\n", *body]
        text = Text(tuple(parts))
        self.rows["kundeservice.skjema_henvendelser"].append(
            {
                "skjema_id": key,
                "mottatt": self.moment(self.day_within(300)),
                "emne": emne,
                "melding": text.render(),
            }
        )
        self.claim(
            sender,
            "kundeservice.skjema_henvendelser",
            key,
            erasure=Treatment.DELETE,
            why="a web form they sent and signed",
            find=find,
            act=frozenset({Feature.NAMES_SENDER}),
        )
        self.texts_of(
            "kundeservice.skjema_henvendelser",
            key,
            {"emne": Text((emne,)), "melding": text},
            sender=sender,
        )
        return key

    def page_views(
        self,
        owner: Person | None,
        cookie: str,
        kunde_id: int | None,
        paths: Iterable[str | Text],
        *,
        find: frozenset[Feature] = frozenset(),
        act: frozenset[Feature] = frozenset(),
    ) -> None:
        """Page views of one browser, signed in when ``kunde_id`` is given."""
        browser = self.rng.choice(_BROWSERS)
        ip = (
            f"84.{self.rng.randrange(200, 216)}.{self.rng.randrange(256)}.{self.rng.randrange(256)}"
        )
        start = self.moment(self.day_within(380))
        for n, path in enumerate(paths):
            key = self._id("nettlogg.sidevisninger")
            url = path if isinstance(path, Text) else Text((f"{_SITE}{path}",))
            self.rows["nettlogg.sidevisninger"].append(
                {
                    "visning_id": key,
                    "besoks_id": cookie,
                    "kunde_id": kunde_id,
                    "tidspunkt": start + timedelta(minutes=n),
                    "url": url.render(),
                    "ip_adresse": ip,
                    "nettleser": browser,
                }
            )
            self.claim(
                owner,
                "nettlogg.sidevisninger",
                key,
                erasure=Treatment.DELETE,
                why="a page they viewed",
                find=find,
                act=act,
            )
            self.texts_of("nettlogg.sidevisninger", key, {"url": url}, sender=owner)

    def call(
        self,
        owner: Person | None,
        kunde_id: int | None,
        phone_as_written: str,
        *,
        recorded: bool,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A call (telefoni.samtaler) and, if recorded, its .wav named by opptak_sti."""
        key = self._id("telefoni.samtaler")
        started = self.moment(self.day_within(85))
        path = f"samtaler/{started:%Y/%m}/samtale-{key}.wav" if recorded else None
        self.rows["telefoni.samtaler"].append(
            {
                "samtale_id": key,
                "kunde_id": kunde_id,
                "telefonnummer": phone_as_written,
                "startet": started,
                "varighet_sek": self.rng.randrange(40, 900),
                "retning": self.rng.choice(("inn", "inn", "ut")),
                "opptak_sti": path,
            }
        )
        self.claim(
            owner,
            "telefoni.samtaler",
            key,
            erasure=Treatment.DELETE,
            why="a call with them",
            find=find,
        )
        if path is not None:
            self.files["opptak"][path] = wav_bytes(300 + key % 500)
            self.claim(
                owner,
                RECORDINGS,
                path,
                erasure=Treatment.DELETE,
                why="the recording of a call with them",
                find=find | {Feature.FILES_BY_COLUMN},
                export_path=f"files/opptak/samtale-{key}.wav",
                stored_at=path,
            )
        return key

    def id_document(self, owner: Person, kunde_id: int, kind: str) -> str:
        """A scanned identity document, owned by its path alone (no sidecar)."""
        document = f"dok-{self._id('documents'):05d}"
        path = f"id-dokumenter/{kunde_id}/{document}.pdf"
        self.files["id_dokumenter"][path] = pdf_bytes(f"{kind} {document}")
        self.claim(
            owner,
            ID_DOCUMENTS,
            document,
            erasure=Treatment.DELETE,
            why="a copy of their identity document",
            find=frozenset({Feature.FILES_BY_PATH}),
            export_path=f"files/id_dokumenter/{document}.pdf",
            stored_at=path,
        )
        return document

    def contact(
        self,
        person: Person,
        kunde_id: int,
        *,
        epost: str | None = None,
        telefon: str | None = None,
        firm_owner: Person | None = None,
    ) -> int:
        """A designated employee of a business customer (crm.kontaktpersoner)."""
        key = self._id("crm.kontaktpersoner")
        self.rows["crm.kontaktpersoner"].append(
            {
                "kontakt_id": key,
                "kunde_id": kunde_id,
                "navn": person.name,
                "stilling": self.rng.choice(_JOBS),
                # Stored normalised, as the overlay's stored_normalised says.
                "epost": epost or person.email,
                "telefon": telefon or person.phone,
                "opprettet": self.day_within(2000),
            }
        )
        self.claim(
            person,
            "crm.kontaktpersoner",
            key,
            erasure=Treatment.DELETE,
            why="their record as a designated employee",
        )
        # A sole proprietor sees their employees in their own answer, and their contacts
        # go when the business customer does (belongs_to: erased_with_it).
        self.claim(
            firm_owner,
            "crm.kontaktpersoner",
            key,
            erasure=Treatment.DELETE,
            why="a designated employee of their business",
            act=frozenset({Feature.BELONGS_TO}),
        )
        return key

    def prospect(
        self,
        person: Person,
        *,
        epost: str | None,
        telefon: str | None,
        notater: Text,
        firma: str | None = None,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A prospect (crm.interessenter) with a salesperson's notes."""
        key = self._id("crm.interessenter")
        self.rows["crm.interessenter"].append(
            {
                "interessent_id": key,
                "navn": person.name,
                "epost": epost,
                "telefon": telefon,
                "firma": firma,
                "notater": notater.render(),
                "sist_kontaktet": self.day_within(500),
            }
        )
        self.claim(
            person,
            "crm.interessenter",
            key,
            erasure=Treatment.DELETE,
            why="their record as a prospect",
            find=find,
        )
        self.texts_of("crm.interessenter", key, {"notater": notater}, sender=person)
        return key

    def private_customer(
        self,
        person: Person,
        *,
        years: Iterable[int] = (2020, 2023),
        tickets: int = 1,
        telefon: str | None = None,
        epost: str | None = None,
        invoice_epost: str | None = None,
        fodselsnummer: str | None = None,
        adresse: str | None = None,
        browsing: bool = True,
        find: frozenset[Feature] = frozenset(),
    ) -> int:
        """A private customer with invoices, tickets and a browser of their own."""
        assert person.email is not None
        address = adresse or self.address()
        kunde_id = self.customer(
            person,
            navn=person.name,
            epost=epost or person.email,
            telefon=telefon if telefon is not None else person.phone,
            fodselsnummer=fodselsnummer if fodselsnummer is not None else person.national_id,
            adresse=address,
            find=find,
        )
        self.invoices(
            person,
            kunde_id,
            years,
            mottaker=person.name,
            epost=invoice_epost or person.email,
            adresse=address,
            find=find,
        )
        for _ in range(tickets):
            self.ticket(person, kunde_id, person.email, find=find)
        if browsing:
            cookie = self.cookie()
            pages = self.rng.sample(_PAGES, 3)
            self.page_views(person, cookie, None, pages[:1], find=find)
            self.page_views(person, cookie, kunde_id, pages[1:], find=find)
        return kunde_id

    def spoil(self, dataset: str, column: str, key: int, owner: Person, prefix: str) -> None:
        """Mark a value to be written with bytes no driver can decode (by the seeder)."""
        row = next(r for r in self.rows[dataset] if r[KEYS[dataset]] == key)
        row[column] = prefix
        self.unreadable.append(Unreadable(dataset, column, key, prefix, owner.slug))

    def build(self) -> SecondCompany:
        """Freeze what was made."""
        subjects = tuple(
            Subject(
                name=draft.person.slug,
                full_name=draft.person.name,
                scenario=draft.scenario,
                hard_cases=draft.hard_cases,
                identities=draft.identities,
                claims=tuple(draft.claims),
                review=draft.review,
                request_needs=draft.request_needs,
                run_needs=draft.run_needs,
            )
            for draft in self.drafts.values()
        )
        return SecondCompany(
            seed=self.seed,
            reference_date=self.today,
            rows={name: tuple(rows) for name, rows in sorted(self.rows.items())},
            files={store: dict(sorted(files.items())) for store, files in self.files.items()},
            people=tuple(self.people),
            subjects=subjects,
            unreadable=tuple(self.unreadable),
            texts=tuple(self.texts),
            keys=dict(KEYS),
        )


def _email_mention(person: Person, written: str | None = None) -> Mention:
    assert person.email is not None
    return Mention(person.slug, written or person.email)


def _url_encoded(path: str, person: Person, query: str) -> Text:
    """A logged URL carrying ``person``'s address URL-encoded (before they signed in)."""
    assert person.email is not None
    return Text(
        (
            f"{_SITE}{path}?epost=",
            Mention(
                person.slug,
                quote(person.email, safe=""),
                find=frozenset({Feature.SPELLINGS}),
                redact=frozenset({Feature.SPELLINGS}),
            ),
            query,
        )
    )


def _firms(b: _Builder) -> dict[str, Any]:
    """Three business customers; A and B share an office address and its switchboard."""
    office = f"Fjordalléen {b.rng.randrange(2, 40)}, 0250 Oslo"
    switchboard = b.landline()
    firms: dict[str, Any] = {"office": office, "switchboard": switchboard}
    for label in ("a", "b", "c"):
        name = f"{b.faker.last_name()} {b.rng.choice(('Eiendom', 'Bygg', 'Regnskap'))} AS"
        domain = f"{ascii_slug(name, '')}.no"
        shared = label in {"a", "b"}
        kunde_id = b.customer(
            None,
            firmanavn=name,
            orgnr=b.orgnr(),
            epost=f"post@{domain}",
            telefon=spell_phone(switchboard, PhoneSpelling.INTERNATIONAL)
            if shared
            else b.landline(),
            adresse=office if shared else None,
        )
        b.invoices(
            None,
            kunde_id,
            (2021, 2024, 2025),
            mottaker=name,
            epost=f"faktura@{domain}",
            adresse=office if shared else b.address(),
        )
        firms[label] = (kunde_id, name, domain)
    for label in ("a", "b"):
        # Calls from the shared switchboard, logged under each firm: nobody's personally.
        kunde_id = firms[label][0]
        b.call(None, kunde_id, spell_phone(switchboard, PhoneSpelling.E164), recorded=False)
    return firms


def _scenarios(b: _Builder, firms: Mapping[str, Any]) -> dict[str, Person]:
    """The subjects, each with the records their hard cases are made of."""
    made: dict[str, Person] = {}

    # A namesake must not match: same name, other addresses; e-mail in other cases.
    kari = b.subject(
        "namesake",
        (
            HardCase.NAMESAKE,
            HardCase.EMAIL_CASE,
            HardCase.LEGAL_HOLD,
            HardCase.COOKIE_BEFORE_SIGN_IN,
        ),
        national_id=b.national_id(),
    )
    assert kari.email is not None
    local, _, domain = kari.email.partition("@")
    stored = f"{local.title()}@{domain.capitalize()}"
    kari_id = b.private_customer(
        kari,
        years=(2019, 2020, 2022, 2025),
        tickets=2,
        epost=stored,
        invoice_epost=kari.email.upper(),
        browsing=False,
    )
    b.drafts[kari.slug].identities = (("email", kari.email.swapcase()),)
    cookie = b.cookie()
    b.page_views(
        kari,
        cookie,
        None,
        ["/privat/spotpris", _url_encoded("/logg-inn", kari, "&retur=%2Fmin-side")],
    )
    b.page_views(kari, cookie, kari_id, ["/min-side", "/min-side/fakturaer"])
    made["namesake"] = kari

    # One digit off: the decoy's number differs from the subject's in the last digit.
    subject = b.subject("phone-one-digit-off", (HardCase.PHONE_ONE_DIGIT_OFF,))
    assert subject.phone is not None
    b.drafts[subject.slug].identities = (
        ("phone_number", spell_phone(subject.phone, PhoneSpelling.PARENTHESISED)),
    )
    kunde_id = b.private_customer(subject, years=(2024,))
    b.call(subject, kunde_id, subject.phone, recorded=False)
    b.call(subject, None, spell_phone(subject.phone, PhoneSpelling.INTERNATIONAL), recorded=False)
    made["phone-one-digit-off"] = subject

    # A prospect whose number is stored "(+47) 913 22 110", asked for by phone.
    prospect = b.subject("prospect-phone-in-parentheses", (HardCase.PROSPECT,))
    assert prospect.phone is not None
    b.drafts[prospect.slug].hard_cases += (HardCase.PHONE_SPELLING,)
    b.drafts[prospect.slug].identities = (("phone_number", prospect.phone),)
    b.drafts[prospect.slug].request_needs = frozenset({Feature.SPELLINGS})
    b.prospect(
        prospect,
        epost=prospect.email,
        telefon=spell_phone(prospect.phone, PhoneSpelling.PARENTHESISED),
        notater=Text(("Ringte om fastpris for hytta. Ønsker tilbud i januar.",)),
    )
    made["prospect-phone-in-parentheses"] = prospect

    # A customer record spelling the phone "971 55 337": everything hangs on reading it.
    grouped = b.subject("phone-grouped", (HardCase.PHONE_SPELLING,))
    assert grouped.phone is not None
    b.drafts[grouped.slug].request_needs = frozenset({Feature.SPELLINGS})
    b.private_customer(
        grouped, years=(2021,), telefon=spell_phone(grouped.phone, PhoneSpelling.GROUPED)
    )
    b.call(grouped, None, grouped.phone, recorded=False)
    made["phone-grouped"] = grouped

    # A designated employee whose number is stored as eight digits.
    firm_c = firms["c"]
    digits = b.subject(
        "contact-phone-digits",
        (HardCase.DESIGNATED_EMPLOYEE, HardCase.PHONE_SPELLING),
        domain=firm_c[2],
    )
    assert digits.phone is not None
    b.drafts[digits.slug].request_needs = frozenset({Feature.SPELLINGS})
    b.contact(digits, firm_c[0], telefon=spell_phone(digits.phone, PhoneSpelling.DIGITS))
    b.ticket(digits, firm_c[0], digits.email)
    made["contact-phone-digits"] = digits

    # A national identity number stored "DDMMYY NNNNN", asked for by the number alone.
    spaced = b.subject(
        "national-id-with-space",
        (HardCase.NATIONAL_ID_SPACE, HardCase.MENTIONED_BY_OTHERS),
        national_id=b.national_id(),
    )
    assert spaced.national_id is not None
    b.drafts[spaced.slug].identities = (("national_id", spaced.national_id),)
    b.drafts[spaced.slug].request_needs = frozenset({Feature.SPELLINGS})
    b.private_customer(
        spaced, years=(2020, 2024), fodselsnummer=spaced_national_id(spaced.national_id)
    )
    made["national-id-with-space"] = spaced

    # A visitor who filled in the moving form on a borrowed device: the confirmation page
    # logged their address URL-encoded, on a browser id seen nowhere else.
    visitor = b.subject(
        "url-encoded-address", (HardCase.URL_ENCODED_EMAIL, HardCase.SIGNED_WEB_FORM)
    )
    b.web_form(
        visitor,
        ("Jeg flytter inn i ny leilighet 1. desember og vil ha strøm fra samme dag.",),
        emne="Flytting",
    )
    b.page_views(
        visitor,
        b.cookie(),
        None,
        [_url_encoded("/flytting/kvittering", visitor, "&skjema=flytting")],
        find=frozenset({Feature.SPELLINGS}),
        act=frozenset({Feature.NAMES_SENDER}),
    )
    made["url-encoded-address"] = visitor

    # An address that is a prefix of another's: per@x.no and per@x.nord.no.
    prefix = b.subject(
        "email-prefix", (HardCase.EMAIL_PREFIX, HardCase.MENTIONED_BY_OTHERS), domain="fjordnett.no"
    )
    b.private_customer(prefix, years=(2023,))
    made["email-prefix"] = prefix

    # A web-form sender who is no customer; one of the forms mentions a neighbour.
    sender = b.subject("web-form-sender", (HardCase.SIGNED_WEB_FORM,))
    made["web-form-sender"] = sender

    # A customer others mention: in a web form and in a prospect's notes.
    mentioned = b.subject("mentioned-by-others", (HardCase.MENTIONED_BY_OTHERS,))
    b.private_customer(mentioned, years=(2022,))
    made["mentioned-by-others"] = mentioned
    b.web_form(
        sender,
        (
            "Strømmen går hele tiden. Naboen min har samme problem, hun kan nås på ",
            _email_mention(mentioned),
            ".",
        ),
        emne="Strømstans",
    )
    b.web_form(
        sender,
        ("Hvordan melder jeg fra om målerstand uten å være kunde?",),
        emne="Målerstand",
        phone=PhoneSpelling.DIGITS,
    )

    # Duplicates in case: two customer records, the address and name in other cases.
    twin = b.subject("duplicate-in-case", (HardCase.DUPLICATE_CASE, HardCase.EMAIL_CASE))
    assert twin.email is not None
    b.drafts[twin.slug].run_needs = frozenset({Feature.DUPLICATES})
    address = b.address()
    b.private_customer(twin, years=(2020, 2023), adresse=address, browsing=False)
    local, _, domain = twin.email.partition("@")
    upper = b.customer(
        twin,
        navn=twin.name.upper(),
        epost=f"{local.title()}@{domain.title()}",
        telefon=twin.phone,
        adresse=address.upper(),
    )
    b.invoices(twin, upper, (2024,), mottaker=twin.name.upper(), epost=None, adresse=address)
    made["duplicate-in-case"] = twin

    # Duplicates in spelling: the second record has no address and the phone in E.164.
    spelled = b.subject("duplicate-in-spelling", (HardCase.DUPLICATE_SPELLING,))
    assert spelled.phone is not None
    b.drafts[spelled.slug].hard_cases += (HardCase.PHONE_SPELLING,)
    b.drafts[spelled.slug].run_needs = frozenset({Feature.DUPLICATES})
    address = b.address()
    b.private_customer(
        spelled,
        years=(2022,),
        telefon=spell_phone(spelled.phone, PhoneSpelling.INTERNATIONAL),
        adresse=address,
        browsing=False,
    )
    other = b.customer(spelled, navn=spelled.name.upper(), telefon=spelled.phone, adresse=address)
    b.invoices(
        spelled,
        other,
        (2020, 2025),
        mottaker=spelled.name.upper(),
        epost=None,
        adresse=address,
        # Reached only through the duplicate, which today's engine finds but does not own.
        find=frozenset({Feature.DUPLICATES}),
    )
    made["duplicate-in-spelling"] = spelled

    # A sole proprietorship: the owner is the business customer, with two employees.
    owner = b.subject("business-customer", (HardCase.BUSINESS_CUSTOMER, HardCase.LEGAL_HOLD))
    firm = f"{owner.name.split()[-1]} Elektro"
    address = b.address()
    enk = b.customer(
        owner,
        navn=owner.name,
        firmanavn=firm,
        orgnr=b.orgnr(),
        epost=owner.email,
        telefon=owner.phone,
        adresse=address,
    )
    b.invoices(owner, enk, (2020, 2024), mottaker=firm, epost=owner.email, adresse=address)
    b.ticket(owner, enk, owner.email)
    enk_domain = f"{ascii_slug(firm, '')}.no"
    employee = b.subject("designated-employee", (HardCase.DESIGNATED_EMPLOYEE,), domain=enk_domain)
    b.contact(employee, enk, firm_owner=owner)
    b.contact(b.person(domain=enk_domain), enk, firm_owner=owner)
    made["business-customer"] = owner
    made["designated-employee"] = employee

    # Two firms in one office: each subject is an employee of one of them.
    firm_a, firm_b = firms["a"], firms["b"]
    office_a = b.subject(
        "shared-office-calls-under-firm",
        (HardCase.SHARED_OFFICE, HardCase.DESIGNATED_EMPLOYEE),
        domain=firm_a[2],
    )
    assert office_a.phone is not None
    b.contact(office_a, firm_a[0])
    b.ticket(office_a, firm_a[0], office_a.email)
    b.ticket(office_a, firm_a[0], office_a.email)
    b.call(office_a, firm_a[0], office_a.phone, recorded=False)
    b.call(office_a, firm_a[0], office_a.phone, recorded=False)
    office_b = b.subject(
        "shared-office",
        (HardCase.SHARED_OFFICE, HardCase.DESIGNATED_EMPLOYEE),
        domain=firm_b[2],
    )
    assert office_b.phone is not None
    assert office_b.email is not None
    b.drafts[office_b.slug].identities = (
        ("email", office_b.email),
        ("phone_number", spell_phone(office_b.phone, PhoneSpelling.GROUPED)),
    )
    b.contact(office_b, firm_b[0])
    b.ticket(office_b, firm_b[0], office_b.email)
    b.call(
        office_b,
        firm_b[0],
        spell_phone(office_b.phone, PhoneSpelling.INTERNATIONAL),
        recorded=False,
    )
    made["shared-office-calls-under-firm"] = office_a
    made["shared-office"] = office_b

    # One of the subject's own tickets cannot be decoded: the request stops for review.
    broken = b.subject("unreadable-own-row", (HardCase.UNREADABLE_OWN_ROW,))
    kunde_id = b.private_customer(broken, years=(2023,), tickets=1)
    bad = b.ticket(broken, kunde_id, broken.email)
    b.spoil("kundeservice.henvendelser", "tekst", bad, broken, "Hei, jeg har fortsatt ikke f")
    b.drafts[broken.slug].review = Review("kundeservice.henvendelser", str(bad))
    made["unreadable-own-row"] = broken

    # Identity documents owned by their path, no sidecars.
    documents = b.subject("identity-documents", (HardCase.FILES_BY_PATH,))
    kunde_id = b.private_customer(documents, years=(2024,), tickets=0)
    b.id_document(documents, kunde_id, "Pass")
    b.id_document(documents, kunde_id, "Førerkort")
    made["identity-documents"] = documents

    # Call recordings named by samtaler.opptak_sti, no sidecars.
    recorded = b.subject("recorded-calls", (HardCase.FILES_BY_COLUMN,))
    assert recorded.phone is not None
    kunde_id = b.private_customer(recorded, years=(2025,), tickets=0)
    b.call(recorded, kunde_id, recorded.phone, recorded=True)
    b.call(
        recorded, kunde_id, spell_phone(recorded.phone, PhoneSpelling.INTERNATIONAL), recorded=True
    )
    made["recorded-calls"] = recorded

    # A call from their number not linked to their account, logged "0047 97320840".
    unlinked = b.subject(
        "unlinked-call-0047", (HardCase.PHONE_SPELLING, HardCase.MENTIONED_BY_OTHERS)
    )
    assert unlinked.phone is not None
    b.private_customer(unlinked, years=(2023,))
    b.call(
        unlinked,
        None,
        spell_phone(unlinked.phone, PhoneSpelling.ZERO_ZERO),
        recorded=False,
        find=frozenset({Feature.SPELLINGS}),
    )
    made["unlinked-call-0047"] = unlinked

    # A prospect first (address in capitals), a customer later.
    convert = b.subject(
        "prospect-then-customer", (HardCase.PROSPECT_AND_CUSTOMER, HardCase.EMAIL_CASE)
    )
    assert convert.email is not None
    b.prospect(
        convert,
        epost=convert.email.upper(),
        telefon=convert.phone,
        notater=Text(("Vil ha tilbud på fastpris. Ringes opp etter nyttår.",)),
    )
    b.private_customer(convert, years=(2025,))
    made["prospect-then-customer"] = convert

    # A D-number, asked for as typed with a space.
    foreign = b.subject(
        "d-number",
        (HardCase.D_NUMBER, HardCase.MENTIONED_BY_OTHERS),
        national_id=b.national_id(d_number=True),
    )
    assert foreign.national_id is not None
    b.drafts[foreign.slug].identities = (("national_id", spaced_national_id(foreign.national_id)),)
    b.private_customer(foreign, years=(2024,), fodselsnummer=foreign.national_id)
    made["d-number"] = foreign

    # Staff file a request by customer number alone.
    plain = b.subject(
        "customer-number",
        (HardCase.REQUEST_BY_CUSTOMER_NUMBER, HardCase.LEGAL_HOLD, HardCase.COOKIE_BEFORE_SIGN_IN),
    )
    plain_id = b.private_customer(plain, years=(2019, 2021, 2026), tickets=2)
    b.drafts[plain.slug].identities = (("customer_id", str(plain_id)),)
    made["customer-number"] = plain

    # A private customer who is also a firm's designated employee, asking with both addresses.
    both = b.subject("work-and-private", (HardCase.WORK_AND_PRIVATE, HardCase.DESIGNATED_EMPLOYEE))
    assert both.email is not None
    first, last = both.name.split(" ", 1)
    work, work_phone = b.email(first, last, firm_c[2]), b.mobile()
    both = b.widen(both, work, work_phone)
    b.private_customer(both, years=(2022,))
    b.contact(both, firm_c[0], epost=work, telefon=work_phone)
    b.drafts[both.slug].identities = (("email", both.email or ""), ("email", work))
    made["work-and-private"] = both
    return made


def _decoys(b: _Builder, made: Mapping[str, Person]) -> None:
    """People who look like subjects and must never be found for them."""
    kari = made["namesake"]
    first, last = kari.name.split(" ", 1)
    namesake = b.person("decoy", first_last=(first, last), decoy_of=kari.slug)
    kunde_id = b.private_customer(namesake, years=(2024,))
    b.web_form(namesake, ("Jeg har fått to fakturaer for oktober.",), emne="Dobbel faktura")
    b.call(None, kunde_id, namesake.phone or "", recorded=True)

    near = made["phone-one-digit-off"]
    assert near.phone is not None
    last_digit = (int(near.phone[-1]) + 1) % 10
    off = f"{near.phone[:-1]}{last_digit}"
    assert off not in b._phones
    assert phonenumbers.is_valid_number(phonenumbers.parse(off))
    b._phones.add(off)
    decoy = b.person("decoy", phone=off, decoy_of=near.slug)
    kunde_id = b.private_customer(
        decoy, years=(2023,), telefon=spell_phone(off, PhoneSpelling.GROUPED)
    )
    b.call(None, kunde_id, off, recorded=False)
    b.call(None, None, spell_phone(off, PhoneSpelling.DIGITS), recorded=False)
    b.ticket(
        decoy,
        kunde_id,
        decoy.email,
        Text(
            (
                "Ring meg gjerne på ",
                Mention(decoy.slug, spell_phone(off, PhoneSpelling.GROUPED)),
                ".",
            )
        ),
        emne="Ring meg",
    )

    prefix = made["email-prefix"]
    assert prefix.email is not None
    longer = prefix.email.replace("@fjordnett.no", "@fjordnett.nord.no")
    assert longer not in b._emails
    b._emails.add(longer)
    lookalike = b.person("decoy", email=longer, decoy_of=prefix.slug)
    b.private_customer(lookalike, years=(2024,), browsing=False)
    b.web_form(lookalike, ("Kan jeg få faktura på e-post?",), emne="Faktura på e-post")
    b.page_views(lookalike, b.cookie(), None, [_url_encoded("/nyhetsbrev/bekreft", lookalike, "")])
    # A ticket from someone else naming both addresses: only the subject's is redacted.
    writer = b.person()
    kunde_id = b.private_customer(writer, years=(2025,), tickets=0, browsing=False)
    b.ticket(
        writer,
        kunde_id,
        writer.email,
        Text(
            (
                "Fakturaen til svogeren min gikk til ",
                Mention(lookalike.slug, longer),
                ", men riktig adresse er ",
                _email_mention(prefix),
                ".",
            )
        ),
        emne="Feil e-postadresse",
    )


def _population(b: _Builder, firms: Mapping[str, Any], made: Mapping[str, Person]) -> None:
    """Everyone else: customers, the firms' employees, prospects and visitors."""
    spellings = list(PhoneSpelling)
    customers = []
    for n in range(16):
        person = b.person(national_id=b.national_id() if n % 3 == 0 else None)
        assert person.phone is not None
        # Every spelling occurs somewhere; none of these people is a subject.
        spelling = spellings[n % len(spellings)]
        fnr = person.national_id
        kunde_id = b.private_customer(
            person,
            years=sorted(b.rng.sample(range(2019, 2027), 2)),
            tickets=n % 3,
            telefon=spell_phone(person.phone, spelling),
            fodselsnummer=spaced_national_id(fnr) if fnr and n % 2 else fnr,
        )
        if n % 4 == 0:
            b.id_document(person, kunde_id, "Pass")
        b.call(
            person, kunde_id, spell_phone(person.phone, spellings[(n + 1) % 6]), recorded=n % 2 == 0
        )
        customers.append((person, kunde_id))

    # The firms' other employees file tickets and call from their own phones.
    colleague_tickets = []
    for label in ("a", "b", "c"):
        kunde_id, _name, domain = firms[label]
        for _ in range(2):
            colleague = b.person(domain=domain)
            assert colleague.phone is not None
            b.contact(colleague, kunde_id)
            colleague_tickets.append((colleague, b.ticket(colleague, kunde_id, colleague.email)))
            b.call(colleague, kunde_id, colleague.phone, recorded=label == "c")

    # Texts of others that mention subjects, in the spellings people write.
    spaced = made["national-id-with-space"]
    foreign = made["d-number"]
    unlinked = made["unlinked-call-0047"]
    assert spaced.national_id
    assert foreign.national_id
    assert unlinked.phone
    (mother_helper, helper_id), (landlord, landlord_id), (neighbour, neighbour_id) = customers[:3]
    b.ticket(
        mother_helper,
        helper_id,
        mother_helper.email,
        Text(
            (
                "Jeg ordner strømavtalen for min mor. Fødselsnummeret hennes er ",
                Mention(spaced.slug, spaced.national_id),
                ".",
            )
        ),
        emne="Avtale for min mor",
    )
    b.ticket(
        landlord,
        landlord_id,
        landlord.email,
        Text(
            (
                "Ny leietaker i sokkelen har D-nummer ",
                Mention(foreign.slug, spaced_national_id(foreign.national_id)),
                ". Kan strømmen overføres til henne?",
            )
        ),
        emne="Ny leietaker",
    )
    b.ticket(
        neighbour,
        neighbour_id,
        neighbour.email,
        Text(
            (
                "En nabo ringte fra ",
                Mention(
                    unlinked.slug,
                    spell_phone(unlinked.phone, PhoneSpelling.ZERO_ZERO),
                    redact=frozenset({Feature.SPELLINGS}),
                ),
                " om feil på måleren i oppgangen.",
            )
        ),
        emne="Feil på måler",
    )

    # Prospects; one salesperson's note names a customer's phone number.
    mentioned = made["mentioned-by-others"]
    assert mentioned.phone is not None
    for n in range(4):
        person = b.person()
        assert person.phone is not None
        note: tuple[str | Mention, ...] = ("Interessert i spotpris for borettslaget.",)
        if n == 0:
            note = (
                "Tips fra eksisterende kunde (",
                Mention(mentioned.slug, spell_phone(mentioned.phone, PhoneSpelling.INTERNATIONAL)),
                ").",
            )
        b.prospect(
            person,
            epost=person.email,
            telefon=spell_phone(person.phone, spellings[n]),
            firma=f"{b.faker.last_name()} borettslag" if n else None,
            notater=Text(note),
        )

    # Visitors who only wrote through the web form.
    for _ in range(3):
        b.web_form(b.person(), ("Når kommer fakturaen for oktober?",), emne="Faktura")

    # Rows of others that cannot be decoded: no request may be held up by them.
    stranger, stranger_id = customers[4]
    b.spoil("crm.kunder", "adresse", stranger_id, stranger, "Storgata 1, 0155 Oslo ")
    visitor = b.person()
    form = b.web_form(visitor, ("Gammel melding fra forrige system.",), emne="Import")
    b.spoil("kundeservice.skjema_henvendelser", "melding", form, visitor, "Navn: ukjent ")
    # A ticket of a colleague of a subject, under the firm they share (firm A).
    colleague, ticket = colleague_tickets[0]
    b.spoil("kundeservice.henvendelser", "tekst", ticket, colleague, "Importert sak ")


@cache
def generate(seed: int = SEED, reference_date: date = REFERENCE_DATE) -> SecondCompany:
    """The second test company; the same arguments always give the same company."""
    builder = _Builder(seed, reference_date)
    firms = _firms(builder)
    made = _scenarios(builder, firms)
    _decoys(builder, made)
    _population(builder, firms, made)
    return builder.build()
