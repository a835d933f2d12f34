"""The demo company in PostgreSQL or MariaDB at benchmark scale, generated inside the database.

personvern's own generator (personvern.demo) writes about 27k rows/s from Python, an
hour for a million customers. Here every row is a pure function of its id, computed by
one ``INSERT ... SELECT`` per table and chunk over ``generate_series`` (PostgreSQL) or
the SEQUENCE engine's ``seq_1_to_N`` (MariaDB). The expressions are written once with
SQLAlchemy Core and compiled for each server, so both databases hold the same rows.

The tables are the demo's own (``personvern.demo.schema``) with the DDL that
``MetaData.create_all`` emits for the server, indexes included; only the order
differs: tables first, then the rows, then the indexes, which is much faster to build
than to maintain row by row. So the data map in examples/workspace-company applies
unchanged.

Shape per customer: 2 designated employees, 3 invoices with 1-2 lines each (1.5 on
average), 1 security card, 1-2 tickets (1.5), 0-1 newsletter subscription (0.5) and
10 web events on two cookies, two of them before sign-in (the customer's cookie, no
customer_id); plus one prospect per five customers, one in twenty of them a customer
who was a prospect first (same e-mail and phone). That is 12.5 related rows and
about 24 rows in all per customer. Invoices spread over up to eight years back
from the reference date, so an erasure deletes old ones and keeps those under the
bookkeeping hold. About a third of the tickets mention their requester's e-mail or
phone number in the text, 3 % another customer's, a few a national identity number.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from personvern.demo import schema

#: Bump when the generated rows change: a database seeded by another version is rebuilt.
SEED_VERSION = 1
#: Customers per INSERT statement: bounds each transaction (MariaDB's undo log) while
#: keeping the statements few.
CHUNK = 100_000
#: Where the marker of a complete seeding lives (not a table of the data map).
META_TABLE = "pv_bench_meta"

EMPLOYEES = 2  # per customer
INVOICES = 3  # per customer
LINE_SLOTS = 2  # per invoice; the second slot is used by every other invoice
TICKET_SLOTS = 2  # per customer; the second slot is used by every other customer
EVENTS = 10  # web events per customer, on two cookies
PROSPECT_EVERY = 5  # one prospect per five customers
INVOICE_DAYS = 8 * 365  # invoices reach back at most this far
EVENT_SECONDS = 460 * 86_400  # web events reach back 15 months

Int = sa.ColumnElement[Any]
Text = sa.ColumnElement[Any]

# -- word lists: (as written, as in an e-mail address) -------------------------------------

FIRST_NO = (
    *(("Kari", "kari"), ("Ola", "ola"), ("Ingrid", "ingrid"), ("Lars", "lars")),
    *(("Sigrid", "sigrid"), ("Bjørn", "bjorn"), ("Marit", "marit"), ("Håkon", "hakon")),
    *(("Silje", "silje"), ("Eirik", "eirik"), ("Ane", "ane"), ("Jørgen", "jorgen")),
    *(("Tone", "tone"), ("Øystein", "oystein"), ("Hanne", "hanne"), ("Magnus", "magnus")),
    *(("Liv", "liv"), ("Espen", "espen"), ("Nora", "nora"), ("Sindre", "sindre")),
)
FIRST_GB = (
    *(("Oliver", "oliver"), ("Amelia", "amelia"), ("George", "george"), ("Isla", "isla")),
    *(("Harry", "harry"), ("Ava", "ava"), ("Jack", "jack"), ("Mia", "mia")),
    *(("Charlie", "charlie"), ("Grace", "grace"), ("Thomas", "thomas"), ("Emily", "emily")),
    *(("James", "james"), ("Sophie", "sophie"), ("William", "william"), ("Lily", "lily")),
    *(("Noah", "noah"), ("Freya", "freya"), ("Arthur", "arthur"), ("Poppy", "poppy")),
)
LAST_NO = (
    *(("Hansen", "hansen"), ("Johansen", "johansen"), ("Olsen", "olsen"), ("Larsen", "larsen")),
    *(("Andersen", "andersen"), ("Pedersen", "pedersen"), ("Nilsen", "nilsen")),
    *(("Kristiansen", "kristiansen"), ("Jensen", "jensen"), ("Karlsen", "karlsen")),
    *(("Johnsen", "johnsen"), ("Pettersen", "pettersen"), ("Eriksen", "eriksen")),
    *(("Berg", "berg"), ("Haugen", "haugen"), ("Hagen", "hagen"), ("Dahl", "dahl")),
    *(("Jørgensen", "jorgensen"), ("Halvorsen", "halvorsen"), ("Strand", "strand")),
    *(("Sæther", "saether"), ("Lie", "lie"), ("Bakken", "bakken"), ("Moen", "moen")),
    *(("Solberg", "solberg"), ("Ødegård", "odegard"), ("Aas", "aas"), ("Lund", "lund")),
    *(("Brekke", "brekke"), ("Nygård", "nygard")),
)
LAST_GB = (
    *(("Smith", "smith"), ("Jones", "jones"), ("Taylor", "taylor"), ("Brown", "brown")),
    *(("Williams", "williams"), ("Wilson", "wilson"), ("Johnson", "johnson")),
    *(("Davies", "davies"), ("Patel", "patel"), ("Wright", "wright"), ("Robinson", "robinson")),
    *(("Thompson", "thompson"), ("Evans", "evans"), ("Walker", "walker"), ("White", "white")),
    *(("Roberts", "roberts"), ("Green", "green"), ("Hall", "hall"), ("Wood", "wood")),
    *(("Clarke", "clarke"), ("Jackson", "jackson"), ("Hughes", "hughes"), ("Edwards", "edwards")),
    *(("Turner", "turner"), ("Hill", "hill"), ("Moore", "moore"), ("Cooper", "cooper")),
    *(("Ward", "ward"), ("Morris", "morris"), ("King", "king")),
)
COMPANY_NO = ("AS", "Eiendom AS", "Consulting AS", "Regnskap AS")
COMPANY_GB = ("Ltd", "& Co Ltd", "Consulting Ltd", "Holdings Ltd")
CENTRES_NO = ("Oslo Aker Brygge", "Oslo Bjørvika", "Bergen Bryggen", "Trondheim Solsiden")
CENTRES_GB = ("London Finsbury", "London Canary Wharf", "Manchester Spinningfields", "Leeds Dock")
STREETS_NO = ("Storgata", "Kirkegata", "Dronningens gate", "Bygdøy allé", "Strandveien")
STREETS_GB = ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane")
CITIES_NO = (("0155", "Oslo"), ("5003", "Bergen"), ("7010", "Trondheim"), ("4006", "Stavanger"))
CITIES_GB = (("EC2A 4NE", "London"), ("M3 3EB", "Manchester"), ("LS1 4AP", "Leeds"))
JOBS_NO = ("Daglig leder", "Økonomisjef", "Kontorleder", "Rådgiver", "IT-ansvarlig", "Selger")
JOBS_GB = ("Managing Director", "Finance Manager", "Office Manager", "Consultant", "IT Lead")
MONTHS_NO = (
    *("januar", "februar", "mars", "april", "mai", "juni"),
    *("juli", "august", "september", "oktober", "november", "desember"),
)
MONTHS_GB = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
# (description before the centre, after it, unit price in NOK); GBP is NOK / 13.
PRODUCTS_NO = (
    ("Kontorplass, ", ", ", 6500),
    ("Møterom, ", ", 4 timer, ", 1800),
    ("Virtuelt kontor med postmottak, ", ", ", 950),
    ("Forretningsadresse, ", ", ", 750),
)
PRODUCTS_GB = (
    ("Office space, ", ", ", 6500),
    ("Meeting room, ", ", 4 hours, ", 1800),
    ("Virtual office with mail handling, ", ", ", 950),
    ("Registered business address, ", ", ", 750),
)
# Support tickets: (subject, body text before the centre or invoice number, after it).
TOPICS_NO = (
    ("Adgangskortet virker ikke", "Kortet mitt åpner ikke lenger døren på ", "."),
    ("Spørsmål om faktura", "Beløpet på faktura ", " ser feil ut. Kan dere sjekke det?"),
    ("Booking av møterom", "Vi trenger et møterom på ", " neste tirsdag fra klokken ti."),
    ("Trådløst nett", "Det trådløse nettet på ", " faller ut flere ganger om dagen."),
    ("Post og pakker", "Har det kommet en pakke til oss på ", " i dag?"),
)
TOPICS_GB = (
    ("Security card not working", "My card no longer opens the door at ", "."),
    ("Question about an invoice", "The amount on invoice ", " looks wrong. Could you check it?"),
    ("Meeting room booking", "We need a meeting room at ", " next Tuesday from ten o'clock."),
    ("Wi-Fi", "The Wi-Fi at ", " keeps dropping several times a day."),
    ("Mail and parcels", "Has a parcel arrived for us at ", " today?"),
)
PATHS_NO = ("/nb/kontorer/oslo", "/nb/moterom", "/nb/virtuelt-kontor", "/nb/min-side/fakturaer")
PATHS_GB = ("/en/offices/london", "/en/meeting-rooms", "/en/virtual-office", "/en/my-account")
QUERIES = ("", "", "?page=2", "?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://www.linkedin.com/")
IP_NO = ("84.210", "85.164", "92.220", "109.247", "193.69")
IP_GB = ("81.2", "86.128", "90.196", "212.56")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
APPS = (
    "NordicWorkspace/3.4.0 (iPhone; iOS 17.4; Scale/3.00)",
    "NordicWorkspace/3.4.0 (Android 14)",
)
EVENT_TYPES = ("page_view", "page_view", "page_view", "click", "form_submit")
CONSENT_NO = (
    "Ja, jeg vil motta nyhetsbrev og tilbud fra Nordic Workspace på e-post. "
    "Jeg kan når som helst trekke samtykket tilbake."
)
CONSENT_GB = (
    "Yes, I want to receive newsletters and offers from Nordic Workspace by e-mail. "
    "I can withdraw my consent at any time."
)
# Norwegian mobile series the employees' numbers are spread over (+47 40, 41, 46, 47
# xx xx xx are all valid mobile ranges); +47 48 is the prospects'.
EMPLOYEE_SERIES_NO = ("0", "1", "6", "7")
# fødselsnummer check-digit weights (Skatteetaten's rule until 2032).
K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


# -- the two servers ------------------------------------------------------------------------


class Dialect:
    """What differs between PostgreSQL and MariaDB in the generating SQL."""

    def __init__(self, name: str, reference: date) -> None:
        self.name = name
        self.postgres = name == "postgresql"
        self.reference = reference

    def series(self, first: int, last: int) -> tuple[sa.FromClause, Int]:
        """A FROM item of the integers first..last and its column."""
        if self.postgres:
            # bigint: ids times the mixing primes below overflow 32 bits at a million.
            table = (
                sa.func.generate_series(sa.cast(first, sa.BigInteger), sa.cast(last, sa.BigInteger))
                .table_valued(sa.column("i", sa.BigInteger))
                .render_derived(name="g")
            )
            return table, table.c.i
        sequence = sa.table(f"seq_{first}_to_{last}", sa.column("seq", sa.BigInteger))
        # seq is BIGINT UNSIGNED, and a negative intermediate result would be an error.
        derived = sa.select(sa.cast(sequence.c.seq, sa.BigInteger).label("i")).subquery("g")
        return derived, derived.c.i

    def day(self, days_before: Int) -> sa.ColumnElement[Any]:
        """The date ``days_before`` days before the reference date."""
        return self.day_after(self.reference, -days_before)

    def day_after(self, base: date, days: Int) -> sa.ColumnElement[Any]:
        """The date ``days`` days after ``base``."""
        literal = sa.literal_column(f"DATE '{base.isoformat()}'", sa.Date)
        if self.postgres:
            # date + integer exists, date + bigint does not.
            return sa.cast(literal + sa.cast(days, sa.Integer), sa.Date)
        return sa.func.from_days(sa.func.to_days(literal) + days)

    def moment(self, seconds_before: Int) -> sa.ColumnElement[Any]:
        """The timestamp ``seconds_before`` seconds before noon of the reference date."""
        noon = f"'{self.reference.isoformat()} 12:00:00'"
        if self.postgres:
            return sa.literal_column(f"TIMESTAMP {noon}", sa.DateTime) - sa.literal_column(
                "INTERVAL '1 second'"
            ) * (seconds_before)
        return sa.func.timestampadd(
            sa.literal_column("SECOND"), -seconds_before, sa.literal_column(f"TIMESTAMP {noon}")
        )

    def text(self, value: Int, width: int = 0) -> Text:
        """An integer as text, zero-padded to ``width``."""
        as_text = sa.cast(value, sa.String)
        return sa.func.lpad(as_text, width, "0") if width else as_text


def pick(options: Sequence[Any], index: Int) -> sa.ColumnElement[Any]:
    """``options[index]`` (index taken modulo the number of options)."""
    return sa.case(dict(enumerate(options)), value=index % len(options))


def mix(value: Int, salt: int = 0) -> Int:
    """A well-spread pseudo-random number 0..1,000,002 from an id (multiplicative hashing).

    Conditions on ``id % 100`` of related rows (a ticket and its customer) would be
    correlated; a hash of the id is not.
    """
    return (value * 2_654_435_761 + salt * 40_503) % 1_000_003


def concat(*parts: Any) -> Text:
    """Text concatenation (no part may be NULL: MariaDB's CONCAT would give NULL)."""
    return sa.func.concat(*parts)


def by_country(norwegian: Int, no: Any, gb: Any) -> sa.ColumnElement[Any]:
    """``no`` for Norwegian customers, ``gb`` for British ones."""
    return sa.case((norwegian, no), else_=gb)


# -- the people, as functions of their ids --------------------------------------------------


class Company:
    """Column expressions for customer ``c`` (an integer expression), reusable for any id."""

    def __init__(self, sql: Dialect, customers: int) -> None:
        self.sql = sql
        self.customers = customers

    def norwegian(self, c: Int) -> Int:
        """Seven customers in ten are Norwegian (the generator's share)."""
        return c % 10 < 7

    def first(self, c: Int, index: Int, slug: bool = False) -> Text:
        """A first name for the customer's country from the list position ``index``."""
        part = 1 if slug else 0
        return by_country(
            self.norwegian(c),
            pick([n[part] for n in FIRST_NO], index),
            pick([n[part] for n in FIRST_GB], index),
        )

    def last(self, c: Int, index: Int, slug: bool = False) -> Text:
        """A last name for the customer's country from the list position ``index``."""
        part = 1 if slug else 0
        return by_country(
            self.norwegian(c),
            pick([n[part] for n in LAST_NO], index),
            pick([n[part] for n in LAST_GB], index),
        )

    def contact_name(self, c: Int) -> Text:
        """The contact person's full name."""
        return concat(self.first(c, c * 7), " ", self.last(c, c * 13))

    def company_name(self, c: Int) -> Text:
        """The customer company's name."""
        return concat(
            self.last(c, c * 11),
            " ",
            by_country(self.norwegian(c), pick(COMPANY_NO, c // 3), pick(COMPANY_GB, c // 3)),
        )

    def domain(self, c: Int) -> Text:
        """The company's own mail domain, unique per customer."""
        tld = by_country(self.norwegian(c), ".no", ".co.uk")
        return concat(self.last(c, c * 11, slug=True), self.sql.text(c), tld)

    def free_mail(self, c: Int) -> Int:
        """One contact in five uses a free mail address rather than the company's domain."""
        return c % 5 == 3

    def email(self, c: Int) -> Text:
        """The contact's e-mail address (unique: the domain or the number is the customer's)."""
        local = concat(self.first(c, c * 7, slug=True), ".", self.last(c, c * 13, slug=True))
        free = concat(
            local,
            self.sql.text(c),
            "@",
            by_country(self.norwegian(c), "online.no", "gmail.com"),
        )
        return sa.case((self.free_mail(c), free), else_=concat(local, "@", self.domain(c)))

    def has_phone(self, c: Int) -> Int:
        """One contact in twenty gave no phone number."""
        return c % 20 != 7

    def phone_digits(self, c: Int) -> Text:
        """The national significant number: 9xxxxxxx (NO) or 73xxxxxxxx (GB mobile)."""
        return by_country(
            self.norwegian(c),
            concat("9", self.sql.text(c, 7)),
            concat("73", self.sql.text(c, 8)),
        )

    def phone(self, c: Int) -> Text:
        """The contact's number in E.164, or NULL."""
        e164 = concat(by_country(self.norwegian(c), "+47", "+44"), self.phone_digits(c))
        return sa.case((self.has_phone(c), e164), else_=sa.null())

    def phone_written(self, c: Int, international: Int) -> Text:
        """The number as people write it: 912 34 567 / +47 912 34 567, 07312 345678."""
        d = self.phone_digits(c)
        no = concat(
            sa.case((international, "+47 "), else_=""),
            sa.func.substr(d, 1, 3),
            " ",
            sa.func.substr(d, 4, 2),
            " ",
            sa.func.substr(d, 6, 3),
        )
        gb = sa.case(
            (international, concat("+44 ", sa.func.substr(d, 1, 4), " ", sa.func.substr(d, 5, 6))),
            else_=concat("0", sa.func.substr(d, 1, 4), " ", sa.func.substr(d, 5, 6)),
        )
        return by_country(self.norwegian(c), no, gb)

    def has_national_id(self, c: Int) -> Int:
        """A quarter of the customers, all Norwegian, have a valid fødselsnummer."""
        return sa.and_(c % 10 < 3, self._check(c, 1) < 10, self._check(c, 2) < 10)

    def _birth(self, c: Int) -> sa.ColumnElement[Any]:
        return self.sql.day_after(date(1950, 1, 1), c % 18_000)

    def _digits(self, c: Int) -> list[Int]:
        birth = self._birth(c)
        day, month = (sa.cast(sa.extract(part, birth), sa.Integer) for part in ("day", "month"))
        year = sa.cast(sa.extract("year", birth), sa.Integer) % 100
        # The individual number (000-499 for births 1940-1999); with the birth date
        # it is unique per customer up to 9 million customers.
        individual = (c // 18_000) % 500
        return [
            *(day // 10, day % 10, month // 10, month % 10, year // 10, year % 10),
            *(individual // 100, (individual // 10) % 10, individual % 10),
        ]

    def _check(self, c: Int, which: int) -> Int:
        digits = self._digits(c)
        weights: tuple[int, ...] = K1_WEIGHTS
        if which == 2:
            digits = [*digits, self._check(c, 1)]
            weights = K2_WEIGHTS
        total = sum((w * d for w, d in zip(weights, digits, strict=True)), sa.literal(0))
        return (11 - total % 11) % 11

    def national_id(self, c: Int) -> Text:
        """A fødselsnummer with valid mod-11 check digits, or NULL."""
        number = concat(*(self.sql.text(d) for d in self._digits(c)))
        number = concat(number, self.sql.text(self._check(c, 1)), self.sql.text(self._check(c, 2)))
        return sa.case((self.has_national_id(c), number), else_=sa.null())

    def national_id_written(self, c: Int) -> Text:
        """The fødselsnummer as written with a space: 150186 95088."""
        number = self.national_id(c)
        return concat(sa.func.substr(number, 1, 6), " ", sa.func.substr(number, 7, 5))

    def contract_days(self, c: Int) -> Int:
        """Days from the contract's start to the reference date (30 to about 8 years)."""
        # The later of two draws: older customers are more common than in a uniform
        # spread, so about half have an invoice older than the bookkeeping hold.
        span = INVOICE_DAYS - 30
        return 30 + sa.func.greatest(mix(c, 1) % span, mix(c, 3) % span)

    def ended_days(self, c: Int) -> Int:
        """Days since the contract ended (<= 0: still running); a quarter have ended."""
        ended = self.contract_days(c) - 180 - c % 365
        return sa.case((c % 4 == 1, ended), else_=sa.literal(0))

    def centre(self, c: Int, index: Int) -> Text:
        """One of the centres in the customer's country."""
        return by_country(self.norwegian(c), pick(CENTRES_NO, index), pick(CENTRES_GB, index))

    def employee_id(self, c: Int, slot: int) -> Int:
        """The id of the customer's designated employee number ``slot``."""
        return (c - 1) * EMPLOYEES + 1 + slot

    def employee_first_index(self, c: Int, slot: Int | int) -> Int:
        """Never the contact's first name, nor the other employee's: addresses stay unique."""
        return (c * 7) % 20 + 1 + slot

    def employee_name(self, c: Int, slot: Int | int) -> Text:
        """The designated employee's full name."""
        index = self.employee_first_index(c, slot)
        return concat(self.first(c, index), " ", self.last(c, c * 17 + slot * 5))

    def employee_email(self, c: Int, slot: Int | int) -> Text:
        """The designated employee's address at the company's domain."""
        index = self.employee_first_index(c, slot)
        local = concat(
            self.first(c, index, slug=True), ".", self.last(c, c * 17 + slot * 5, slug=True)
        )
        return concat(local, "@", self.domain(c))

    def employee_phone(self, c: Int, e: Int) -> Text:
        """A mobile number per employee (+47 40/41/46/47 xx xx xx, +44 74xx xxxxxx), or NULL."""
        no = concat(
            "+474",
            pick(EMPLOYEE_SERIES_NO, e // 1_000_000),
            self.sql.text(e % 1_000_000, 6),
        )
        gb = concat("+4474", self.sql.text(e, 8))
        return sa.case((e % 7 == 3, sa.null()), else_=by_country(self.norwegian(c), no, gb))

    def invoice_days(self, v: Int, c: Int) -> Int:
        """Days before the reference date invoice ``v`` was issued.

        The first invoice soon after the contract began, the last in its final third:
        a long-standing customer has invoices both past and under the bookkeeping hold.
        """
        slot = (v - 1) % INVOICES
        share = self.contract_days(c) * (INVOICES - slot) // INVOICES
        return share - mix(v, 4) % (self.contract_days(c) // 10)

    def invoice_number(self, v: Int, c: Int) -> Text:
        """2024-0001234: the year of issue and the invoice id."""
        year = sa.cast(sa.extract("year", self.sql.day(self.invoice_days(v, c))), sa.Integer)
        return concat(self.sql.text(year), "-", self.sql.text(v, 7))

    def line_amount(self, j: Int, c: Int) -> sa.ColumnElement[Any]:
        """The amount of invoice line ``j``: quantity times unit price, in the currency."""
        price = pick([p[2] for p in PRODUCTS_NO], j)
        nok = (1 + j % 5) * price
        return by_country(
            self.norwegian(c), nok, sa.func.round(sa.cast(nok, sa.Numeric(12, 2)) / 13, 2)
        )

    def address(self, c: Int) -> Text:
        """A postal address in the customer's country."""
        no = concat(
            pick(STREETS_NO, c),
            " ",
            self.sql.text(c % 120 + 1),
            ", ",
            pick([p for p, _ in CITIES_NO], c // 7),
            " ",
            pick([city for _, city in CITIES_NO], c // 7),
        )
        gb = concat(
            self.sql.text(c % 200 + 1),
            " ",
            pick(STREETS_GB, c),
            ", ",
            pick([city for _, city in CITIES_GB], c // 7),
            " ",
            pick([p for p, _ in CITIES_GB], c // 7),
        )
        return by_country(self.norwegian(c), no, gb)

    def other(self, c: Int) -> Int:
        """Another customer than ``c`` (for texts that mention someone else)."""
        offset = self.customers // 3 + 1
        return (c - 1 + offset) % self.customers + 1


# -- the INSERT ... SELECT statements -------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """The customers first..last (inclusive) and the prospects that belong with them."""

    first: int
    last: int


def chunks(customers: int, size: int = CHUNK) -> Iterator[Chunk]:
    """The customer ranges seeded one statement per table at a time."""
    for first in range(1, customers + 1, size):
        yield Chunk(first, min(customers, first + size - 1))


def _insert(
    table: sa.Table, values: dict[str, Any], source: sa.FromClause, where: Any = None
) -> sa.Insert:
    select = sa.select(*values.values()).select_from(source)
    if where is not None:
        select = select.where(where)
    return table.insert().from_select(list(values), select)


def _customers(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, c = sql.series(chunk.first, chunk.last)
    start = co.contract_days(c)
    ended = co.ended_days(c)
    no = co.norwegian(c)
    values = {
        "id": c,
        "company_name": co.company_name(c),
        "organization_number": by_country(
            no, concat("9", sql.text(c, 8)), sql.text(c * 13 % 16_000_000, 8)
        ),
        "contact_name": co.contact_name(c),
        "email": co.email(c),
        "phone": co.phone(c),
        "address": co.address(c),
        "preferred_language": by_country(no, "nb", "en"),
        "country": by_country(no, "NO", "GB"),
        "national_id": co.national_id(c),
        "contract_start": sql.day(start),
        "contract_end": sa.case((ended > 0, sql.day(ended)), else_=sa.null()),
        "last_contact_at": sql.moment(sa.func.greatest(ended, 0) * 86_400 + c % 86_400),
        "created_at": sql.moment((start + 1 + c % 29) * 86_400),
    }
    return _insert(schema.customers, values, source)


def _designated_employees(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, e = sql.series((chunk.first - 1) * EMPLOYEES + 1, chunk.last * EMPLOYEES)
    c = (e - 1) // EMPLOYEES + 1
    slot = (e - 1) % EMPLOYEES
    values = {
        "id": e,
        "customer_id": c,
        "name": co.employee_name(c, slot),
        "email": co.employee_email(c, slot),
        "phone": co.employee_phone(c, e),
        "job_title": by_country(co.norwegian(c), pick(JOBS_NO, e), pick(JOBS_GB, e)),
        "created_at": sql.moment(mix(e, 5) % co.contract_days(c) * 86_400),
    }
    return _insert(schema.designated_employees, values, source)


def _prospects(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert | None:
    first = (chunk.first - 1) // PROSPECT_EVERY + 1
    last = chunk.last // PROSPECT_EVERY
    if last < first:
        return None
    source, p = sql.series(first, last)
    # One in twenty prospects became the customer 5p: same person, same e-mail and phone.
    converted = p % 20 == 0
    customer = p * PROSPECT_EVERY
    no = p % 10 < 7

    def name(
        names_no: Sequence[tuple[str, str]],
        names_gb: Sequence[tuple[str, str]],
        index: Int,
        part: int,
    ) -> Text:
        return by_country(
            no, pick([n[part] for n in names_no], index), pick([n[part] for n in names_gb], index)
        )

    own_email = concat(
        name(FIRST_NO, FIRST_GB, p * 3, 1),
        name(LAST_NO, LAST_GB, p * 7, 1),
        sql.text(p),
        "@",
        by_country(no, "hotmail.com", "outlook.com"),
    )
    email = sa.case((converted, co.email(customer)), else_=own_email)
    own_phone = by_country(no, concat("+4748", sql.text(p, 6)), concat("+4475", sql.text(p, 8)))
    interest = by_country(
        no,
        pick(("Interessert i virtuelt kontor.", "Ber om tilbud på kontorplass for seks."), p),
        pick(("Wants a quote for a virtual office.", "Looking for desks for a team of six."), p),
    )
    # Three notes in ten give the prospect's own address again, in the text.
    reply = by_country(no, " Svar gjerne til ", " Please reply to ")
    days = 1 + mix(p, 6) % (4 * 365)
    values = {
        "id": p,
        "name": sa.case(
            (converted, co.contact_name(customer)),
            else_=concat(name(FIRST_NO, FIRST_GB, p * 3, 0), " ", name(LAST_NO, LAST_GB, p * 7, 0)),
        ),
        "email": email,
        "phone": sa.case((converted, co.phone(customer)), (p % 3 == 0, sa.null()), else_=own_phone),
        "company_name": sa.case((p % 5 == 0, sa.null()), else_=co.company_name(p * 3 + 1)),
        "notes": sa.case(
            (p % 10 < 3, concat(interest, reply, email, ".")),
            (p % 10 < 6, interest),
            else_=sa.null(),
        ),
        "created_at": sql.moment(days * 86_400),
        "last_contact_at": sql.moment(days // 2 * 86_400),
    }
    return _insert(schema.prospects, values, source)


def _invoices(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, v = sql.series((chunk.first - 1) * INVOICES + 1, chunk.last * INVOICES)
    c = (v - 1) // INVOICES + 1
    no = co.norwegian(c)
    days = co.invoice_days(v, c)
    first_line = (v - 1) * LINE_SLOTS + 1
    amount = co.line_amount(first_line, c) + sa.case(
        (v % 2 == 0, co.line_amount(first_line + 1, c)), else_=0
    )
    # One customer in five has invoices sent to an accounts address of its own.
    billing_email = sa.case(
        (c % 5 == 4, concat(by_country(no, "faktura", "accounts"), "@", co.domain(c))),
        else_=co.email(c),
    )
    values = {
        "id": v,
        "customer_id": c,
        "invoice_number": co.invoice_number(v, c),
        "issued_on": sql.day(days),
        "due_on": sql.day(days - by_country(no, 14, 30)),
        "amount": amount,
        "currency": by_country(no, "NOK", "GBP"),
        "billing_name": co.contact_name(c),
        "billing_email": billing_email,
        "billing_address": co.address(c),
        "paid_on": sa.case((days > 40, sql.day(days - 10 - v % 20)), else_=sa.null()),
    }
    return _insert(schema.invoices, values, source)


def _invoice_lines(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    per_customer = INVOICES * LINE_SLOTS
    source, j = sql.series((chunk.first - 1) * per_customer + 1, chunk.last * per_customer)
    v = (j - 1) // LINE_SLOTS + 1
    c = (v - 1) // INVOICES + 1
    issued = sql.day(co.invoice_days(v, c))
    month = sa.cast(sa.extract("month", issued), sa.Integer) - 1
    year = sql.text(sa.cast(sa.extract("year", issued), sa.Integer))

    def description(products: Sequence[tuple[str, str, int]], months: Sequence[str]) -> Text:
        return concat(
            pick([p[0] for p in products], j),
            co.centre(c, c),
            pick([p[1] for p in products], j),
            pick(months, month),
            " ",
            year,
        )

    values = {
        "id": j,
        "invoice_id": v,
        "description": by_country(
            co.norwegian(c),
            description(PRODUCTS_NO, MONTHS_NO),
            description(PRODUCTS_GB, MONTHS_GB),
        ),
        "quantity": 1 + j % 5,
        "amount": co.line_amount(j, c),
    }
    # The first slot of every invoice, the second of even ones: 1.5 lines on average.
    return _insert(
        schema.invoice_lines, values, source, sa.or_((j - 1) % LINE_SLOTS == 0, v % 2 == 0)
    )


def _security_cards(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, c = sql.series(chunk.first, chunk.last)
    # Held by the first designated employee (three in five) or by the contact.
    employee = c % 5 < 3
    ended = co.ended_days(c)
    values = {
        "id": c,
        "customer_id": c,
        "employee_id": sa.case((employee, co.employee_id(c, 0)), else_=sa.null()),
        "holder_name": sa.case((employee, co.employee_name(c, 0)), else_=co.contact_name(c)),
        "card_number": concat("04", sql.text(c * 7919, 12)),
        "centre": co.centre(c, c),
        "issued_on": sql.day(co.contract_days(c) - c % 20),
        "revoked_on": sa.case((ended > 0, sql.day(ended - c % 5)), else_=sa.null()),
    }
    return _insert(schema.security_cards, values, source)


def _ticket_mention(
    co: Company, c: Int, roll: Int, by_employee: Int, requester_email: Text
) -> Text:
    """What a ticket says about people: its requester (35 %), another customer (3 %), ..."""
    no = co.norwegian(c)
    other = co.other(c)
    own_phone = sa.and_(co.has_phone(c), sa.not_(by_employee), roll % 2 == 0)
    own = sa.case((own_phone, co.phone_written(c, roll % 4 == 0)), else_=requester_email)
    other_email = co.email(other)
    someone = sa.case(
        (sa.and_(co.has_phone(other), roll % 2 == 0), co.phone_written(other, roll % 4 == 0)),
        # Typed with a capital first letter: the search must ignore case.
        (
            roll % 3 == 0,
            concat(
                sa.func.upper(sa.func.substr(other_email, 1, 1)), sa.func.substr(other_email, 2)
            ),
        ),
        else_=other_email,
    )
    return sa.case(
        (
            roll < 35,
            by_country(
                no,
                concat("Ring meg gjerne på eller skriv til ", own, ".\n\n"),
                concat("Feel free to call or write to me at ", own, ".\n\n"),
            ),
        ),
        (
            roll < 38,
            by_country(
                no,
                concat(
                    "Kan dere også gi ",
                    co.contact_name(other),
                    " (",
                    someone,
                    ") tilgang? Hen begynner hos oss neste uke.\n\n",
                ),
                concat(
                    "Could you also give ",
                    co.contact_name(other),
                    " (",
                    someone,
                    ") access? They start next week.\n\n",
                ),
            ),
        ),
        (
            sa.and_(roll < 40, co.has_national_id(c), sa.not_(by_employee)),
            concat(
                "Fødselsnummeret mitt er ",
                co.national_id_written(c),
                ", hvis dere trenger det for postmottaket.\n\n",
            ),
        ),
        else_="",
    )


def _tickets(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, t = sql.series((chunk.first - 1) * TICKET_SLOTS + 1, chunk.last * TICKET_SLOTS)
    c = (t - 1) // TICKET_SLOTS + 1
    by_employee = t % 5 == 2
    requester_email = sa.case((by_employee, co.employee_email(c, 0)), else_=co.email(c))
    requester_name = sa.case((by_employee, co.employee_name(c, 0)), else_=co.contact_name(c))
    topic = t % 5
    detail = sa.case(
        (topic == 1, co.invoice_number((c - 1) * INVOICES + 1, c)), else_=co.centre(c, t)
    )
    mention = _ticket_mention(co, c, mix(t, 2) % 100, by_employee, requester_email)

    def body(topics: Sequence[tuple[str, str, str]], greeting: str, closing: str) -> Text:
        return concat(
            greeting,
            pick([x[1] for x in topics], topic),
            detail,
            pick([x[2] for x in topics], topic),
            "\n\n",
            mention,
            closing,
            requester_name,
        )

    no = co.norwegian(c)
    seconds = mix(t, 7) * 97 % (3 * 365 * 86_400)
    values = {
        "id": t,
        "customer_id": c,
        "requester_email": requester_email,
        "subject": by_country(
            no, pick([x[0] for x in TOPICS_NO], topic), pick([x[0] for x in TOPICS_GB], topic)
        ),
        "body": by_country(
            no,
            body(TOPICS_NO, "Hei,\n\n", "Hilsen\n"),
            body(TOPICS_GB, "Hello,\n\n", "Kind regards,\n"),
        ),
        "created_at": sql.moment(seconds),
        "closed_at": sa.case(
            (seconds > 3 * 86_400, sql.moment(seconds - 3_600 - t % 86_400)), else_=sa.null()
        ),
    }
    # The first slot of every customer, the second of even ones: 1.5 tickets on average.
    return _insert(schema.tickets, values, source, sa.or_((t - 1) % TICKET_SLOTS == 0, c % 2 == 0))


def _web_events(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, w = sql.series((chunk.first - 1) * EVENTS + 1, chunk.last * EVENTS)
    c = (w - 1) // EVENTS + 1
    # Two cookies (sessions) of five events each; the first event of a session comes
    # before sign-in: the customer's cookie, no customer id.
    session = (w - 1) % EVENTS // 5
    step = (w - 1) % 5
    app = c % 4 == 0
    no = co.norwegian(c)
    host = sa.case(
        (app, "https://app.nordicworkspace.example"), else_="https://www.nordicworkspace.example"
    )
    start = (mix(c, 8) * 7919 + session * 104_729) % EVENT_SECONDS + 3_600
    ipv6 = concat("2a01:", sql.text(c % 9_000 + 1_000), ":", sql.text(w % 9_000 + 1_000), "::")
    ipv4 = concat(by_country(no, pick(IP_NO, c), pick(IP_GB, c)), ".", sql.text(c % 256), ".0")
    values = {
        "id": w,
        "cookie_id": sa.func.md5(concat("pv-bench-cookie-", sql.text(c), "-", sql.text(session))),
        "customer_id": sa.case((step == 0, sa.null()), else_=c),
        "occurred_at": sql.moment(start - step * 97),
        "ip_address": sa.case((w % 10 == 0, ipv6), else_=ipv4),
        "user_agent": sa.case((app, pick(APPS, c)), else_=pick(BROWSERS, c)),
        "url": concat(host, by_country(no, pick(PATHS_NO, w), pick(PATHS_GB, w)), pick(QUERIES, w)),
        "referrer": sa.case((sa.or_(app, step > 0), sa.null()), else_=pick(REFERRERS, c)),
        "event_type": sa.case((step == 1, "login"), else_=pick(EVENT_TYPES, w)),
        "channel": sa.case((app, "app"), else_="web"),
    }
    return _insert(schema.web_events, values, source)


def _newsletter_subscriptions(sql: Dialect, co: Company, chunk: Chunk) -> sa.Insert:
    source, c = sql.series(chunk.first, chunk.last)
    consent = c % 5 >= 3
    subscribed = mix(c, 9) % co.contract_days(c)
    values = {
        "id": c,
        "email": co.email(c),
        "customer_id": c,
        "basis": sa.case((consent, "consent"), else_="existing_customer"),
        "consent_text": sa.case(
            (consent, by_country(co.norwegian(c), CONSENT_NO, CONSENT_GB)), else_=sa.null()
        ),
        "subscribed_at": sql.moment(subscribed * 86_400 + c % 86_400),
        "unsubscribed_at": sa.case(
            (c % 7 == 0, sql.moment(subscribed // 2 * 86_400)), else_=sa.null()
        ),
    }
    # Every other customer subscribes.
    return _insert(schema.newsletter_subscriptions, values, source, c % 2 == 1)


Builder = Callable[[Dialect, Company, Chunk], sa.Insert | None]

#: One builder per demo table, parents before children.
BUILDERS: dict[str, Builder] = {
    "customers": _customers,
    "designated_employees": _designated_employees,
    "prospects": _prospects,
    "invoices": _invoices,
    "invoice_lines": _invoice_lines,
    "security_cards": _security_cards,
    "tickets": _tickets,
    "web_events": _web_events,
    "newsletter_subscriptions": _newsletter_subscriptions,
}


def statements(sql: Dialect, customers: int, chunk: Chunk) -> list[tuple[str, sa.Insert]]:
    """(table, INSERT ... SELECT) for every table, parents first, for one chunk."""
    company = Company(sql, customers)
    out = []
    for table, build in BUILDERS.items():
        statement = build(sql, company, chunk)
        if statement is not None:
            out.append((table, statement))
    return out


# -- the database, its marker, and seeding ---------------------------------------------------


def database_name(kind: str, customers: int) -> str:
    """The bench database of one server kind and size: pv_bench_pg_10000, pv_bench_mariadb_..."""
    return f"pv_bench_{'pg' if kind == 'postgresql' else 'mariadb'}_{customers}"


def kind_of(url: str) -> str:
    """postgresql or mariadb, from a SQLAlchemy URL."""
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return "postgresql"
    if backend in {"mysql", "mariadb"}:
        return "mariadb"
    raise ValueError(f"the bench seeds PostgreSQL and MariaDB, not {backend}")


def company_ddl(dialect: sa.Dialect) -> tuple[list[str], list[str]]:
    """What ``MetaData.create_all`` emits for the demo's systems: (CREATE TABLE, CREATE INDEX)."""
    emitted: list[str] = []

    def capture(element: Any, *_args: object, **_kwargs: object) -> None:
        emitted.append(str(element.compile(dialect=dialect)).strip())

    mock = sa.create_mock_engine(sa.engine.URL.create(dialect.name), capture)
    for metadata in schema.SYSTEMS.values():
        metadata.create_all(mock, checkfirst=False)
    tables = [s for s in emitted if s.startswith("CREATE TABLE")]
    indexes = [s for s in emitted if not s.startswith("CREATE TABLE")]
    return tables, indexes


@dataclass(frozen=True)
class Seeded:
    """A bench database: where it is, what it holds, and whether this run built it."""

    url: str
    kind: str
    customers: int
    reference_date: date
    rows: dict[str, int]
    reused: bool
    seconds: float

    @property
    def total_rows(self) -> int:
        """Rows in every table together."""
        return sum(self.rows.values())


def _admin_engine(admin_url: str) -> Engine:
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")


def _exists(admin: Engine, kind: str, name: str) -> bool:
    with admin.connect() as conn:
        if kind == "postgresql":
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        else:
            query = sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name")
        return conn.execute(query, {"name": name}).first() is not None


def _read_marker(url: str, customers: int) -> dict[str, Any] | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(META_TABLE):
                return None
            row = conn.execute(sa.text(f"SELECT payload FROM {META_TABLE}")).first()
    finally:
        engine.dispose()
    if row is None:
        return None
    payload: dict[str, Any] = json.loads(row[0])
    if payload.get("version") != SEED_VERSION or payload.get("customers") != customers:
        return None
    return payload


def _recreate(admin: Engine, kind: str, name: str) -> None:
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(
                sa.text(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                )
            )


def drop_database(admin_url: str, kind: str, name: str) -> None:
    """Drop a bench database if it exists."""
    admin = _admin_engine(admin_url)
    try:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


Progress = Callable[[str], None]


def seed(
    admin_url: str,
    customers: int,
    *,
    name: str | None = None,
    reference: date | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
) -> Seeded:
    """The bench database for ``customers`` on the server of ``admin_url``, reused or built."""
    kind = kind_of(admin_url)
    name = name or database_name(kind, customers)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    say = progress or (lambda _message: None)
    admin = _admin_engine(admin_url)
    try:
        if _exists(admin, kind, name):
            marker = _read_marker(url, customers)
            if marker is not None:
                return Seeded(
                    url=url,
                    kind=kind,
                    customers=customers,
                    reference_date=date.fromisoformat(marker["reference_date"]),
                    rows={k: int(v) for k, v in marker["rows"].items()},
                    reused=True,
                    seconds=float(marker["seconds"]),
                )
        _recreate(admin, kind, name)
    finally:
        admin.dispose()
    reference = reference or datetime.now(UTC).date()
    started = time.perf_counter()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        rows = _fill(engine, kind, customers, reference, say, chunk_size)
        seconds = time.perf_counter() - started
        payload = {
            "version": SEED_VERSION,
            "customers": customers,
            "reference_date": reference.isoformat(),
            "rows": rows,
            "seconds": round(seconds, 1),
            "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with engine.connect() as conn:
            # Written last: a database without it was interrupted and is rebuilt.
            conn.execute(sa.text(f"CREATE TABLE {META_TABLE} (payload TEXT NOT NULL)"))
            conn.execute(
                sa.text(f"INSERT INTO {META_TABLE} (payload) VALUES (:p)"),
                {"p": json.dumps(payload)},
            )
    finally:
        engine.dispose()
    return Seeded(url, kind, customers, reference, rows, reused=False, seconds=seconds)


def _session_settings(conn: Connection, kind: str) -> None:
    if kind == "postgresql":
        # Index builds sort in memory rather than on disk; a lost commit on a crash only
        # means seeding again (the marker is written last).
        conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        conn.execute(sa.text("SET synchronous_commit = off"))
    else:
        # The rows are generated consistent; checking each key row by row only slows
        # the load (the constraints still exist and hold afterwards).
        conn.execute(sa.text("SET SESSION foreign_key_checks = 0, unique_checks = 0"))


def _fill(
    engine: Engine,
    kind: str,
    customers: int,
    reference: date,
    say: Progress,
    chunk_size: int,
) -> dict[str, int]:
    tables, indexes = company_ddl(engine.dialect)
    sql = Dialect(kind, reference)
    rows: dict[str, int] = {}
    with engine.connect() as conn:
        _session_settings(conn, kind)
        for ddl in tables:
            conn.execute(sa.text(ddl))
        for chunk in chunks(customers, chunk_size):
            started = time.perf_counter()
            for table, statement in statements(sql, customers, chunk):
                conn.execute(statement)
                rows.setdefault(table, 0)
            say(
                f"  customers {chunk.first:,}-{chunk.last:,} "
                f"in {time.perf_counter() - started:.1f} s"
            )
        # Counted once at the end: INSERT ... SELECT reports no row count through
        # SQLAlchemy here (-1), and a count of a fresh table is a quick scan.
        for table in rows:
            rows[table] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        started = time.perf_counter()
        for ddl in indexes:
            conn.execute(sa.text(ddl))
        say(f"  {len(indexes)} indexes in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for table in rows:
            if kind == "postgresql":
                # Statistics for the planner and the visibility map for index-only
                # scans, as autovacuum leaves a long-lived database.
                conn.execute(sa.text(f"VACUUM (ANALYZE) {table}"))
            else:
                conn.execute(sa.text(f"ANALYZE TABLE {table}")).all()
        say(f"  statistics in {time.perf_counter() - started:.1f} s")
    return {f"{_system_of(table)}.{table}": count for table, count in rows.items()}


def _system_of(table: str) -> str:
    return next(f.split(".")[0] for f in schema.TABLES if f.split(".")[1] == table)
