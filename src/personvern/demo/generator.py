"""Realistic, deterministic data for the demo company, one customer at a time.

Everything is synthetic: names, companies and addresses come from Faker (its
Norwegian ``no_NO`` locale, which Faker's ``nb_NO`` alias does not exist for, and
``en_GB``), identifiers from :mod:`personvern.demo.identifiers`. The same seed,
customer count and reference date always give the same rows, so ground truth and
tests can rely on them.

Rows are produced as a stream of :class:`CustomerBundle` so that a million
customers never sit in memory at once; the seeder batches them into the databases.
"""

from __future__ import annotations

import io
import math
import random
import re
import unicodedata
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker
from stdnum.no import fodselsnummer as stdnum_fnr

from personvern.demo.identifiers import (
    random_fodselsnummer,
    random_mobile,
    random_orgnr,
    random_uk_company_number,
    written_forms,
)

#: Share of customers (and people generally) that are Norwegian; the rest are British.
NORWEGIAN_SHARE = 0.7
#: Prospects as a share of the customer count.
PROSPECT_SHARE = 0.2
#: Invoices reach this many years back from the reference date.
INVOICE_YEARS = 7
#: Share of customers whose contact or designated employees have e-mailed the company.
MAILBOX_SHARE = 0.3
#: The mailbox dataset, "system.dataset" as in the data map.
MAILBOX_DATASET = "email.messages"

Row = dict[str, Any]

_FREE_MAIL = {"NO": ("online.no", "gmail.com", "hotmail.com"), "GB": ("gmail.com", "outlook.com")}
_CENTRES = {
    "NO": ("Oslo Aker Brygge", "Oslo Bjørvika", "Bergen Bryggen", "Trondheim Solsiden"),
    "GB": ("London Finsbury", "London Canary Wharf", "Manchester Spinningfields"),
}
_JOB_TITLES = {
    "nb": ("Daglig leder", "Økonomisjef", "Kontorleder", "Rådgiver", "IT-ansvarlig", "Selger"),
    "en": ("Managing Director", "Finance Manager", "Office Manager", "Consultant", "IT Lead"),
}
# Products with unit prices in NOK; GBP prices are these divided by 13.
_PRODUCTS = {
    "nb": (
        ("Kontorplass, {centre}, {month}", 6500),
        ("Møterom, {centre}, 4 timer", 1800),
        ("Virtuelt kontor med postmottak, {month}", 950),
        ("Forretningsadresse, {month}", 750),
        ("Servering og kaffe", 420),
        ("Ekstra adgangskort", 250),
    ),
    "en": (
        ("Office space, {centre}, {month}", 6500),
        ("Meeting room, {centre}, 4 hours", 1800),
        ("Virtual office with mail handling, {month}", 950),
        ("Registered business address, {month}", 750),
        ("Catering and coffee", 420),
        ("Additional security card", 250),
    ),
}
_PATHS = {
    "nb": (
        "/nb/kontorer/{city}",
        "/nb/moterom",
        "/nb/virtuelt-kontor",
        "/nb/kontakt",
        "/nb/min-side/fakturaer",
        "/nb/min-side/booking",
    ),
    "en": (
        "/en/offices/{city}",
        "/en/meeting-rooms",
        "/en/virtual-office",
        "/en/contact",
        "/en/my-account/invoices",
        "/en/my-account/bookings",
    ),
}
_QUERIES = (
    "",
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    "?centre={city}&date={day}",
    "?page=2",
)
_REFERRERS = (
    None,
    None,
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.linkedin.com/",
    "https://www.nordicworkspace.example/",
)
_IP_PREFIXES = {
    "NO": ("84.210", "85.164", "92.220", "109.247", "193.69"),
    "GB": ("81.2", "86.128", "90.196", "212.56"),
}
_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{m} Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Mobile Safari/537.36",
)
_APPS = (
    "NordicWorkspace/3.{m}.0 (iPhone; iOS 17.{m}; Scale/3.00)",
    "NordicWorkspace/3.{m}.0 (Android 14; Pixel 8)",
)
_CONSENT_TEXT = {
    "nb": "Ja, jeg vil motta nyhetsbrev og tilbud fra Nordic Workspace på e-post. "
    "Jeg kan når som helst trekke samtykket tilbake.",
    "en": "Yes, I want to receive newsletters and offers from Nordic Workspace by e-mail. "
    "I can withdraw my consent at any time.",
}
# The company's own addresses that customers write to.
_COMPANY_MAILBOXES = (
    "support@nordicworkspace.example",
    "booking@nordicworkspace.example",
    "billing@nordicworkspace.example",
)
# Suppliers that write about customers now and then (never a customer themselves).
_SUPPLIERS = (
    "post@renholdspartner.example",
    "noreply@kontorrekvisita.example",
    "orders@officecatering.example",
)
_MAIL_TEXT = {
    "nb": (
        "Vi ønsker å forlenge avtalen for kontorplassene på {centre}.",
        "Kan vi booke det store møterommet på {centre} på fredag?",
        "Fakturaen for {month} har feil beløp, kan dere se på den?",
        "Vi flytter ut av {centre} ved månedsskiftet.",
        "Har det kommet post til oss denne uken?",
    ),
    "en": (
        "We would like to extend the agreement for our desks at {centre}.",
        "Could we book the large meeting room at {centre} on Friday?",
        "The invoice for {month} has the wrong amount, could you look at it?",
        "We are moving out of {centre} at the end of the month.",
        "Has any post arrived for us this week?",
    ),
}
_SUPPLIER_TEXT = {
    "nb": "Hei,\n\nVi har fått en henvendelse fra {email} om levering på {centre}. "
    "Stemmer det at de er kunde hos dere?\n\nHilsen\nKundeservice",
    "en": "Hello,\n\nWe have had an enquiry from {email} about a delivery at {centre}. "
    "Are they a customer of yours?\n\nKind regards,\nCustomer service",
}
_MONTHS = {
    "nb": (
        *("januar", "februar", "mars", "april", "mai", "juni"),
        *("juli", "august", "september", "oktober", "november", "desember"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ),
}


@dataclass(frozen=True)
class Person:
    """A synthetic person as the demo's systems know them."""

    name: str
    email: str
    phone: str | None
    country: str
    language: str
    national_id: str | None = None


@dataclass(frozen=True)
class CallRecording:
    """A recorded call: where its WAV file goes, its sidecar, and the tone to write."""

    relative_path: str
    metadata: dict[str, Any]
    tone_hz: int


@dataclass(frozen=True)
class IdentityDocument:
    """A copy of an identity document: where it goes, its sidecar, and its clear content."""

    relative_path: str
    metadata: dict[str, Any]
    content: bytes


@dataclass
class CustomerBundle:
    """Everything generated for one customer (or one prospect), ready to be written."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    recordings: list[CallRecording] = field(default_factory=list)
    documents: list[IdentityDocument] = field(default_factory=list)

    def add(self, dataset: str, row: Row) -> None:
        """Append a row for ``dataset`` ("system.table")."""
        self.rows.setdefault(dataset, []).append(row)


def wav_tone(frequency_hz: int, seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A short 8-bit mono sine tone as WAV bytes (a stand-in for a call recording)."""
    frames = int(rate * seconds)
    # 8-bit WAV samples are unsigned, centred on 128.
    samples = bytes(
        128 + int(60 * math.sin(2 * math.pi * frequency_hz * n / rate)) for n in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def ascii_slug(text: str, sep: str = ".") -> str:
    """Lower-case ASCII form of a name for e-mail addresses and domains: Bjørn Ås -> bjorn.as."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, text).strip(sep)


def mixed_case(email: str, rng: random.Random) -> str:
    """The address as people type it in a message: Kari.Nordmann@Firma.NO and the like."""
    local, domain = email.split("@", 1)
    style = rng.randrange(3)
    if style == 0:
        local = ".".join(part.capitalize() for part in local.split("."))
    elif style == 1:
        domain = domain.upper()
    else:
        local = local.upper()
    return f"{local}@{domain}"


def national_id_forms(national_id: str) -> list[str]:
    """Ways a fødselsnummer is written: 15108695088 and 151086 95088."""
    return [national_id, stdnum_fnr.format(national_id)]


class DemoCompanyGenerator:
    """Generates the demo company's data deterministically from a seed."""

    def __init__(self, customers: int, seed: int, reference_date: date) -> None:
        self.customers = customers
        self.prospects = round(customers * PROSPECT_SHARE)
        self.seed = seed
        self.today = reference_date
        self.now = datetime.combine(reference_date, time(12, 0))
        # Reproducible synthetic data, not secrets: a seeded PRNG is what we want here.
        self.rng = random.Random(seed)  # noqa: S311
        self.fakers = {"NO": Faker("no_NO"), "GB": Faker("en_GB")}
        for offset, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + offset)
        self._emails: set[str] = set()
        self._phones: set[str] = set()
        self._domains: set[str] = set()
        self._cards: set[str] = set()
        # Contacts met so far, so that a ticket can mention someone else who really exists.
        self._known: list[Person] = []
        self._ids: dict[str, int] = {}
        # The mailbox draws from a stream of its own: adding it left every other table's
        # rows exactly as they were for the same seed.
        self.mail_rng = random.Random(f"mailbox-{seed}")  # noqa: S311

    @property
    def total_subjects(self) -> int:
        """How many bundles :meth:`bundles` yields (customers plus prospects)."""
        return self.customers + self.prospects

    def bundles(self) -> Iterator[CustomerBundle]:
        """Yield one bundle per customer, then one per prospect."""
        for customer_id in range(1, self.customers + 1):
            yield self._customer(customer_id)
        for _ in range(self.prospects):
            yield self._prospect()

    # -- identities ------------------------------------------------------------------

    def _next_id(self, dataset: str) -> int:
        self._ids[dataset] = self._ids.get(dataset, 0) + 1
        return self._ids[dataset]

    def _country(self) -> str:
        return "NO" if self.rng.random() < NORWEGIAN_SHARE else "GB"

    def _unique_email(self, local: str, domain: str) -> str:
        candidate = f"{local}@{domain}"
        n = 1
        while candidate in self._emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self._emails.add(candidate)
        return candidate

    def _unique_phone(self, country: str) -> str:
        while True:
            phone = random_mobile(self.rng, country)
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def _company_domain(self, company: str, country: str) -> str:
        base = ascii_slug(company, "-")[:40].strip("-") or "firma"
        tld = "no" if country == "NO" else "co.uk"
        domain, n = f"{base}.{tld}", 1
        while domain in self._domains:
            n += 1
            domain = f"{base}{n}.{tld}"
        self._domains.add(domain)
        return domain

    def _person(
        self, country: str, domain: str | None, *, phone_share: float = 0.9, language: str = ""
    ) -> Person:
        faker = self.fakers[country]
        first, last = faker.first_name(), faker.last_name()
        if domain is None:
            domain = self.rng.choice(_FREE_MAIL[country])
        email = self._unique_email(ascii_slug(f"{first} {last}"), domain)
        phone = self._unique_phone(country) if self.rng.random() < phone_share else None
        language = language or ("nb" if country == "NO" else "en")
        return Person(f"{first} {last}", email, phone, country, language)

    def _national_id(self, country: str) -> str | None:
        # Norwegian customers: some have given a fødselsnummer for services that need
        # reliable identification; a few British customers living in Norway have a D-number.
        share, d_number = (0.3, False) if country == "NO" else (0.05, True)
        if self.rng.random() >= share:
            return None
        age_days = self.rng.randrange(22 * 365, 75 * 365)
        birth = self.today - timedelta(days=age_days)
        number = random_fodselsnummer(self.rng, birth, d_number=d_number)
        if not stdnum_fnr.is_valid(number):  # never store a number real systems would reject
            msg = f"generated an invalid fødselsnummer for {birth}"
            raise AssertionError(msg)
        return number

    def _between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def _moment(self, day: date) -> datetime:
        return datetime.combine(day, time(self.rng.randrange(7, 22), self.rng.randrange(60)))

    # -- customers -------------------------------------------------------------------

    def _customer(self, customer_id: int) -> CustomerBundle:
        bundle = CustomerBundle()
        rng = self.rng
        country = self._country()
        faker = self.fakers[country]
        company = faker.company()
        domain = self._company_domain(company, country)
        contact = self._person(country, domain if rng.random() < 0.8 else None, phone_share=0.95)
        contact = Person(
            contact.name,
            contact.email,
            contact.phone,
            country,
            contact.language,
            self._national_id(country),
        )
        start = self.today - timedelta(days=rng.randrange(30, INVOICE_YEARS * 365))
        end = None
        earliest_end = start + timedelta(days=180)
        if rng.random() < 0.25 and earliest_end < self.today:
            end = self._between(earliest_end, self.today - timedelta(days=1))
        active_until = end or self.today
        bundle.add(
            "crm.customers",
            {
                "id": customer_id,
                "company_name": company,
                "organization_number": random_orgnr(rng)
                if country == "NO"
                else random_uk_company_number(rng),
                "contact_name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "address": faker.address().replace("\n", ", "),
                "country": country,
                "preferred_language": contact.language,
                "national_id": contact.national_id,
                "contract_start": start,
                "contract_end": end,
                "last_contact_at": self._moment(self._between(start, active_until)),
                "created_at": self._moment(start - timedelta(days=rng.randrange(1, 30))),
                # Nobody has asked for restriction yet; a restriction request sets it.
                "restricted_at": None,
            },
        )
        employees = self._employees(bundle, customer_id, country, domain, start, contact.language)
        invoice_numbers = self._invoices(bundle, customer_id, contact, domain, start, active_until)
        self._security_cards(bundle, customer_id, contact, employees, start, end)
        self._tickets(bundle, customer_id, contact, employees, invoice_numbers, active_until)
        self._web_events(bundle, customer_id, contact, start, active_until)
        self._newsletter(bundle, customer_id, contact, start)
        self._recordings(bundle, customer_id, contact, employees)
        self._documents(bundle, customer_id, contact, faker)
        self._messages(bundle, contact, employees, start, active_until)
        self._known.append(contact)
        return bundle

    def _employees(
        self,
        bundle: CustomerBundle,
        customer_id: int,
        country: str,
        domain: str,
        start: date,
        language: str,
    ) -> list[tuple[int, Person]]:
        employees = []
        for _ in range(self.rng.randrange(5)):
            person = self._person(country, domain, phone_share=0.85, language=language)
            employee_id = self._next_id("crm.designated_employees")
            bundle.add(
                "crm.designated_employees",
                {
                    "id": employee_id,
                    "customer_id": customer_id,
                    "name": person.name,
                    "email": person.email,
                    "phone": person.phone,
                    "job_title": self.rng.choice(_JOB_TITLES[language]),
                    "created_at": self._moment(self._between(start, self.today)),
                },
            )
            employees.append((employee_id, person))
        return employees

    def _invoices(
        self,
        bundle: CustomerBundle,
        customer_id: int,
        contact: Person,
        domain: str,
        start: date,
        until: date,
    ) -> list[str]:
        rng = self.rng
        currency, divisor = ("NOK", 1) if contact.country == "NO" else ("GBP", 13)
        accounts = None
        if rng.random() < 0.2:
            local = "faktura" if contact.country == "NO" else "accounts"
            accounts = self._unique_email(local, domain)
        address = self.fakers[contact.country].address().replace("\n", ", ")
        numbers = []
        issued_days = sorted(self._between(start, until) for _ in range(rng.randint(2, 8)))
        for issued in issued_days:
            invoice_id = self._next_id("billing.invoices")
            number = f"{issued.year}-{invoice_id:07d}"
            numbers.append(number)
            total = Decimal(0)
            for _ in range(rng.randint(1, 4)):
                template, price = rng.choice(_PRODUCTS[contact.language])
                description = template.format(
                    centre=rng.choice(_CENTRES[contact.country]),
                    month=f"{_MONTHS[contact.language][issued.month - 1]} {issued.year}",
                )
                quantity = rng.randint(1, 5)
                amount = (Decimal(price * quantity) / divisor).quantize(Decimal("0.01"))
                total += amount
                bundle.add(
                    "billing.invoice_lines",
                    {
                        "id": self._next_id("billing.invoice_lines"),
                        "invoice_id": invoice_id,
                        "description": description,
                        "quantity": quantity,
                        "amount": amount,
                    },
                )
            due = issued + timedelta(days=14 if contact.country == "NO" else 30)
            paid = None
            if due < self.today - timedelta(days=10) and rng.random() < 0.96:
                paid = due - timedelta(days=rng.randrange(-20, 14))
            bundle.add(
                "billing.invoices",
                {
                    "id": invoice_id,
                    "customer_id": customer_id,
                    "invoice_number": number,
                    "issued_on": issued,
                    "due_on": due,
                    "amount": total,
                    "currency": currency,
                    "billing_name": contact.name,
                    "billing_email": accounts or contact.email,
                    "billing_address": address,
                    "paid_on": paid,
                },
            )
        return numbers

    def _card_number(self) -> str:
        while True:
            # 7-byte MIFARE-style UIDs start with the manufacturer byte 04 (NXP).
            number = f"04{self.rng.getrandbits(48):012X}"
            if number not in self._cards:
                self._cards.add(number)
                return number

    def _security_cards(
        self,
        bundle: CustomerBundle,
        customer_id: int,
        contact: Person,
        employees: list[tuple[int, Person]],
        start: date,
        end: date | None,
    ) -> None:
        rng = self.rng
        holders: list[tuple[int | None, Person]] = [
            (employee_id, person) for employee_id, person in employees if rng.random() < 0.8
        ]
        if rng.random() < 0.4:
            holders.append((None, contact))
        for employee_id, person in holders:
            issued = self._between(start, end or self.today)
            revoked = None
            if end is not None:
                revoked = min(end + timedelta(days=rng.randrange(0, 5)), self.today)
            elif rng.random() < 0.1:
                revoked = self._between(issued, self.today)
            bundle.add(
                "access_control.security_cards",
                {
                    "id": self._next_id("access_control.security_cards"),
                    "customer_id": customer_id,
                    "employee_id": employee_id,
                    "holder_name": person.name,
                    "card_number": self._card_number(),
                    "centre": rng.choice(_CENTRES[contact.country]),
                    "issued_on": issued,
                    "revoked_on": revoked,
                },
            )

    # -- free text -------------------------------------------------------------------

    def _someone_else(self, country: str) -> Person:
        # Mostly a real contact of another customer (so redaction has someone to
        # protect), sometimes a person who is in none of the company's systems.
        if self._known and self.rng.random() < 0.7:
            return self.rng.choice(self._known)
        return self._person(country, None, phone_share=1.0)

    def _mention(self, person: Person, lang: str, *, own: bool) -> str:
        rng = self.rng
        phone = rng.choice(written_forms(person.phone)) if person.phone else None
        email = mixed_case(person.email, rng) if rng.random() < 0.5 else person.email
        if own:
            if person.national_id and rng.random() < 0.1:
                nid = rng.choice(national_id_forms(person.national_id))
                return (
                    f"Fødselsnummeret mitt er {nid}, hvis dere trenger det for postmottaket."
                    if lang == "nb"
                    else f"My national identity number is {nid}, if you need it for the mail."
                )
            if phone and rng.random() < 0.5:
                return (
                    f"Ring meg gjerne på {phone}."
                    if lang == "nb"
                    else f"Feel free to call me on {phone}."
                )
            return f"Svar gjerne til {email}." if lang == "nb" else f"Please reply to {email}."
        detail = phone if phone and rng.random() < 0.4 else email
        return (
            f"Kan dere også gi {person.name} ({detail}) tilgang? Hen begynner hos oss neste uke."
            if lang == "nb"
            else f"Could you also give {person.name} ({detail}) access? They start next week."
        )

    def _ticket_text(
        self, lang: str, name: str, invoice_numbers: list[str], country: str
    ) -> tuple[str, str]:
        rng = self.rng
        centre = rng.choice(_CENTRES[country])
        invoice = rng.choice(invoice_numbers) if invoice_numbers else "2024-0000001"
        choices_nb = (
            ("Adgangskortet virker ikke", f"Kortet mitt slutter ikke lenger opp på {centre}."),
            (f"Spørsmål om faktura {invoice}", f"Beløpet på faktura {invoice} ser feil ut."),
            ("Booking av møterom", f"Vi trenger et møterom på {centre} neste tirsdag."),
            ("Trådløst nett", f"Det trådløse nettet på {centre} faller ut hele tiden."),
            ("Post og pakker", "Har det kommet en pakke til oss i dag?"),
        )
        choices_en = (
            ("Security card not working", f"My card no longer opens the door at {centre}."),
            (f"Question about invoice {invoice}", f"The amount on invoice {invoice} looks wrong."),
            ("Meeting room booking", f"We need a meeting room at {centre} next Tuesday."),
            ("Wi-Fi", f"The Wi-Fi at {centre} keeps dropping."),
            ("Mail and parcels", "Has a parcel arrived for us today?"),
        )
        subject, text = rng.choice(choices_nb if lang == "nb" else choices_en)
        greeting, closing = ("Hei,", "Hilsen") if lang == "nb" else ("Hello,", "Kind regards,")
        return subject, f"{greeting}\n\n{text}\n\n{{mentions}}{closing}\n{name}"

    def _tickets(
        self,
        bundle: CustomerBundle,
        customer_id: int | None,
        contact: Person,
        employees: list[tuple[int, Person]],
        invoice_numbers: list[str],
        until: date,
    ) -> None:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]
        for _ in range(count):
            requester = contact
            if employees and rng.random() < 0.4:
                requester = rng.choice(employees)[1]
            lang = contact.language
            subject, body = self._ticket_text(
                lang, requester.name, invoice_numbers, contact.country
            )
            mentions = []
            if rng.random() < 0.35:
                mentions.append(self._mention(requester, lang, own=True))
            if rng.random() < 0.12:
                mentions.append(self._mention(self._someone_else(contact.country), lang, own=False))
            body = body.replace("{mentions}", "".join(f"{m}\n\n" for m in mentions))
            created = self._moment(self._between(until - timedelta(days=3 * 365), until))
            closed = None
            if created < self.now - timedelta(days=3) and rng.random() < 0.9:
                closed = created + timedelta(hours=rng.randrange(1, 24 * 10))
            bundle.add(
                "support.tickets",
                {
                    "id": self._next_id("support.tickets"),
                    "customer_id": customer_id,
                    "requester_email": requester.email,
                    "subject": subject,
                    "body": body,
                    "created_at": created,
                    "closed_at": closed,
                },
            )

    # -- observed data ---------------------------------------------------------------

    def _cookie(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def _ip(self, country: str) -> str:
        rng = self.rng
        if rng.random() < 0.1:
            # IPv6 kept to its /48 prefix, the collector's truncation rule.
            return f"2a01:{rng.randrange(0x10000):x}:{rng.randrange(0x10000):x}::"
        prefix = rng.choice(_IP_PREFIXES[country])
        return f"{prefix}.{rng.randrange(256)}.0"

    def _event(
        self, cookie: str, customer_id: int | None, lang: str, country: str, when: datetime
    ) -> Row:
        rng = self.rng
        city = ascii_slug(rng.choice(_CENTRES[country]).split()[0], "-")
        channel = "app" if rng.random() < 0.25 else "web"
        host = "app.nordicworkspace.example" if channel == "app" else "www.nordicworkspace.example"
        path = rng.choice(_PATHS[lang]).format(city=city)
        query = rng.choice(_QUERIES).format(city=city, day=when.date().isoformat())
        return {
            "id": self._next_id("analytics.web_events"),
            "cookie_id": cookie,
            "customer_id": customer_id,
            "occurred_at": when,
            "ip_address": self._ip(country),
            "user_agent": rng.choice(_APPS if channel == "app" else _BROWSERS).format(
                v=rng.randint(118, 131), m=rng.randint(0, 6)
            ),
            "url": f"https://{host}{path}{query}",
            "referrer": rng.choice(_REFERRERS) if channel == "web" else None,
            "event_type": rng.choices(
                ("page_view", "click", "form_submit", "booking"), weights=(14, 4, 1, 1)
            )[0],
            "channel": channel,
        }

    def _web_events(
        self, bundle: CustomerBundle, customer_id: int, contact: Person, start: date, until: date
    ) -> None:
        rng = self.rng
        # Events reach back 15 months so the 13-month retention rule has work to do.
        window_start = max(start, self.today - timedelta(days=460))
        for _ in range(rng.choice((1, 1, 2))):
            cookie = self._cookie()
            when = self._moment(self._between(window_start, until))
            # Some browsing happens before the visitor logs in: same cookie, no customer
            # id yet. A request that finds the cookie through the customer reaches them.
            anonymous = rng.randrange(3)
            for n in range(rng.randint(3, 9)):
                signed_in = n >= anonymous
                if n == anonymous:
                    row = self._event(cookie, customer_id, contact.language, contact.country, when)
                    row["event_type"] = "login"
                else:
                    owner = customer_id if signed_in else None
                    row = self._event(cookie, owner, contact.language, contact.country, when)
                bundle.add("analytics.web_events", row)
                when += timedelta(seconds=rng.randrange(5, 600))
        for _ in range(rng.randrange(4)):
            # Visitors who never sign in: their own cookie and no customer id.
            cookie, country = self._cookie(), self._country()
            when = self._moment(self._between(self.today - timedelta(days=460), self.today))
            bundle.add("analytics.web_events", self._event(cookie, None, "nb", country, when))

    def _newsletter(
        self, bundle: CustomerBundle, customer_id: int | None, person: Person, since: date
    ) -> None:
        rng = self.rng
        if rng.random() >= (0.45 if customer_id else 0.3):
            return
        basis = "existing_customer" if customer_id and rng.random() < 0.6 else "consent"
        subscribed = self._moment(self._between(since, self.today))
        unsubscribed = None
        if rng.random() < 0.15:
            unsubscribed = self._moment(self._between(subscribed.date(), self.today))
        bundle.add(
            "marketing.newsletter_subscriptions",
            {
                "id": self._next_id("marketing.newsletter_subscriptions"),
                "email": person.email,
                "customer_id": customer_id,
                "basis": basis,
                "consent_text": _CONSENT_TEXT[person.language] if basis == "consent" else None,
                "subscribed_at": subscribed,
                "unsubscribed_at": unsubscribed,
            },
        )

    def _recording(self, bundle: CustomerBundle, customer_id: int | None, phone: str) -> None:
        rng = self.rng
        call_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        # Calls from the last four months: the 90-day retention rule has some to delete.
        started = self.now - timedelta(minutes=rng.randrange(120 * 24 * 60))
        bundle.recordings.append(
            CallRecording(
                relative_path=f"recordings/{started:%Y}/{started:%m}/{call_id}.wav",
                metadata={
                    "call_id": call_id,
                    "customer_id": customer_id,
                    "phone_number": phone,
                    "started_at": started.isoformat(),
                    "duration_seconds": rng.randrange(30, 1800),
                    "agent": f"agent-{rng.randrange(1, 60):03d}",
                    "direction": rng.choice(("inbound", "inbound", "outbound")),
                },
                tone_hz=rng.choice((350, 440, 523, 660)),
            )
        )

    def _recordings(
        self,
        bundle: CustomerBundle,
        customer_id: int,
        contact: Person,
        employees: list[tuple[int, Person]],
    ) -> None:
        if self.rng.random() >= 0.2:
            return
        callers = [p for p in [contact, *(e[1] for e in employees)] if p.phone]
        for _ in range(self.rng.randint(1, 3) if callers else 0):
            caller = contact if contact.phone and self.rng.random() < 0.85 else None
            phone = (caller or self.rng.choice(callers)).phone
            assert phone is not None
            self._recording(bundle, customer_id, phone)

    def _documents(
        self, bundle: CustomerBundle, customer_id: int, contact: Person, faker: Faker
    ) -> None:
        rng = self.rng
        if rng.random() >= 0.05:
            return
        for _ in range(rng.choice((1, 1, 1, 2))):
            document_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
            document_type = rng.choice(("passport", "national_id_card", "driving_licence"))
            collected = self.now - timedelta(minutes=rng.randrange(60 * 24 * 60))
            birth = faker.date_of_birth(minimum_age=22, maximum_age=75)
            expires = self.today + timedelta(days=rng.randrange(200, 3650))
            # The "scan": a small structured stand-in for the document image.
            content = "\n".join(
                (
                    f"DOCUMENT: {document_type.upper()}",
                    f"ISSUER: {contact.country}",
                    f"NAME: {contact.name}",
                    f"DATE OF BIRTH: {birth.isoformat()}",
                    f"NUMBER: {rng.randrange(10**8, 10**9)}",
                    f"EXPIRES: {expires.isoformat()}",
                )
            )
            bundle.documents.append(
                IdentityDocument(
                    relative_path=f"identity-documents/{collected:%Y}/{document_id}.bin",
                    metadata={
                        "document_id": document_id,
                        "customer_id": customer_id,
                        "document_type": document_type,
                        "jurisdiction": contact.country,
                        "collected_at": collected.isoformat(),
                    },
                    content=content.encode(),
                )
            )

    # -- e-mail ----------------------------------------------------------------------

    def _message_row(self, sender: str, body: str, day: date, recipients: str) -> Row:
        rng = self.mail_rng
        sent = datetime.combine(day, time(rng.randrange(7, 22), rng.randrange(60)))
        return {
            "message_id": f"m-{self._next_id(MAILBOX_DATASET):07d}",
            "sender": sender,
            "recipients": recipients,
            "body": body,
            "sent_at": sent,
        }

    def _mail_day(self, start: date, until: date) -> date:
        # Mostly within the three years the retention rule keeps e-mail, some older.
        start = max(start, until - timedelta(days=4 * 365))
        if until <= start:
            return start
        return start + timedelta(days=self.mail_rng.randrange((until - start).days + 1))

    def _messages(
        self,
        bundle: CustomerBundle,
        contact: Person,
        employees: list[tuple[int, Person]],
        start: date,
        until: date,
    ) -> None:
        """E-mail from the customer's contact and designated employees (own random stream)."""
        rng = self.mail_rng
        lang, country = contact.language, contact.country
        if rng.random() < MAILBOX_SHARE:
            for _ in range(rng.randint(1, 4)):
                writer = contact
                if employees and rng.random() < 0.25:
                    writer = rng.choice(employees)[1]
                day = self._mail_day(start, until)
                text = rng.choice(_MAIL_TEXT[lang]).format(
                    centre=rng.choice(_CENTRES[country]),
                    month=f"{_MONTHS[lang][day.month - 1]} {day.year}",
                )
                lines = [text]
                roll = rng.random()
                if writer.phone and roll < 0.3:
                    phone = rng.choice(written_forms(writer.phone))
                    lines.append(
                        f"Ring meg på {phone}." if lang == "nb" else f"Call me on {phone}."
                    )
                elif writer.national_id and roll < 0.4:
                    nid = rng.choice(national_id_forms(writer.national_id))
                    lines.append(
                        f"Fødselsnummeret mitt er {nid}."
                        if lang == "nb"
                        else f"My national identity number is {nid}."
                    )
                if writer is not contact and rng.random() < 0.3:
                    # A colleague writing on the contact's behalf names them.
                    address = (
                        mixed_case(contact.email, rng) if rng.random() < 0.5 else contact.email
                    )
                    lines.append(
                        f"Kopi til {contact.name} ({address})."
                        if lang == "nb"
                        else f"Copying {contact.name} ({address})."
                    )
                if self._known and rng.random() < 0.1:
                    other = rng.choice(self._known)
                    lines.append(
                        f"{other.name} ({other.email}) vil også ha et kort."
                        if lang == "nb"
                        else f"{other.name} ({other.email}) would like a card too."
                    )
                greeting, closing = ("Hei,", "Hilsen") if lang == "nb" else ("Hello,", "Regards,")
                body = f"{greeting}\n\n{' '.join(lines)}\n\n{closing}\n{writer.name}"
                # Mail clients keep the address as the sender typed it: Kari.Nordmann@Firma.NO.
                sender = mixed_case(writer.email, rng) if rng.random() < 0.3 else writer.email
                bundle.add(
                    MAILBOX_DATASET,
                    self._message_row(sender, body, day, rng.choice(_COMPANY_MAILBOXES)),
                )
        if self._known and rng.random() < 0.03:
            # A supplier asks about another customer: that customer is only mentioned.
            other = rng.choice(self._known)
            address = mixed_case(other.email, rng) if rng.random() < 0.5 else other.email
            body = _SUPPLIER_TEXT[lang].format(email=address, centre=rng.choice(_CENTRES[country]))
            day = self._mail_day(start, until)
            bundle.add(
                MAILBOX_DATASET,
                self._message_row(rng.choice(_SUPPLIERS), body, day, _COMPANY_MAILBOXES[0]),
            )

    # -- prospects -------------------------------------------------------------------

    def _prospect(self) -> CustomerBundle:
        bundle = CustomerBundle()
        rng = self.rng
        country = self._country()
        faker = self.fakers[country]
        company = faker.company() if rng.random() < 0.8 else None
        domain = self._company_domain(company, country) if company else None
        person = self._person(country, domain, phone_share=0.7)
        created = self._moment(self.today - timedelta(days=rng.randrange(1, 4 * 365)))
        last_contact = self._moment(self._between(created.date(), self.today))
        notes = None
        if rng.random() < 0.6:
            interests = (
                ("Interessert i virtuelt kontor.", "Ber om tilbud på kontorplass for seks."),
                ("Wants a quote for a virtual office.", "Looking for desks for a team of six."),
            )
            lines = [rng.choice(interests[0] if person.language == "nb" else interests[1])]
            if rng.random() < 0.3:
                lines.append(self._mention(person, person.language, own=True))
            if rng.random() < 0.1:
                lines.append(self._mention(self._someone_else(country), person.language, own=False))
            notes = " ".join(lines)
        bundle.add(
            "crm.prospects",
            {
                "id": self._next_id("crm.prospects"),
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "company_name": company,
                "notes": notes,
                "created_at": created,
                "last_contact_at": last_contact,
            },
        )
        if rng.random() < 0.1:
            self._tickets(bundle, None, person, [], [], self.today)
        self._newsletter(bundle, None, person, created.date())
        if person.phone and rng.random() < 0.1:
            self._recording(bundle, None, person.phone)
        return bundle
