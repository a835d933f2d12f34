"""Write the second test company into one database (SQLite, PostgreSQL or MariaDB) and a folder.

All five SQL systems share one database: their table names are unique, so every
system's connection variable holds the same URL (as the demo's
``targets_from_urls(home, company_db_url=...)`` does). There are no foreign keys across
systems, as there are none between real systems; within a system, contacts point at
customers and invoice lines at invoices.

The database must be able to hold undecodable text (tests/support/undecodable.py makes
one): after the rows are written, each :class:`~.generator.Unreadable` value is
overwritten with its readable start followed by a byte no driver decodes. The file
stores get their files under ``<folder>/<system>/`` and nothing else: no sidecars.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.support.second_company.datamap import CONNECTIONS, FILE_SYSTEMS
from tests.support.second_company.generator import SecondCompany
from tests.support.undecodable import spoil

metadata = sa.MetaData()

kunder = sa.Table(
    "kunder",
    metadata,
    sa.Column("kunde_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kundetype", sa.String(10), nullable=False),
    sa.Column("navn", sa.String(120)),
    sa.Column("firmanavn", sa.String(120)),
    sa.Column("orgnr", sa.String(9)),
    sa.Column("epost", sa.String(254), index=True),
    sa.Column("telefon", sa.String(30), index=True),
    sa.Column("fodselsnummer", sa.String(12), index=True),
    sa.Column("adresse", sa.String(200)),
    sa.Column("opprettet", sa.Date, nullable=False),
    sa.Column("sist_aktiv", sa.Date),
)
kontaktpersoner = sa.Table(
    "kontaktpersoner",
    metadata,
    sa.Column("kontakt_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kunde_id", sa.Integer, sa.ForeignKey("kunder.kunde_id"), nullable=False),
    sa.Column("navn", sa.String(120), nullable=False),
    sa.Column("stilling", sa.String(80)),
    sa.Column("epost", sa.String(254), index=True),
    sa.Column("telefon", sa.String(30), index=True),
    sa.Column("opprettet", sa.Date, nullable=False),
)
interessenter = sa.Table(
    "interessenter",
    metadata,
    sa.Column("interessent_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("navn", sa.String(120), nullable=False),
    sa.Column("epost", sa.String(254), index=True),
    sa.Column("telefon", sa.String(30), index=True),
    sa.Column("firma", sa.String(120)),
    sa.Column("notater", sa.Text),
    sa.Column("sist_kontaktet", sa.Date),
)
fakturaer = sa.Table(
    "fakturaer",
    metadata,
    sa.Column("faktura_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kunde_id", sa.Integer, nullable=False, index=True),
    sa.Column("fakturanr", sa.String(20), nullable=False),
    sa.Column("fakturadato", sa.Date, nullable=False),
    sa.Column("forfallsdato", sa.Date, nullable=False),
    sa.Column("belop_ore", sa.Integer, nullable=False),
    sa.Column("mottaker_navn", sa.String(160), nullable=False),
    sa.Column("faktura_epost", sa.String(254), index=True),
    sa.Column("fakturaadresse", sa.String(200)),
)
fakturalinjer = sa.Table(
    "fakturalinjer",
    metadata,
    sa.Column("linje_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "faktura_id", sa.Integer, sa.ForeignKey("fakturaer.faktura_id"), nullable=False, index=True
    ),
    sa.Column("beskrivelse", sa.String(200), nullable=False),
    sa.Column("antall", sa.Integer, nullable=False),
    sa.Column("belop_ore", sa.Integer, nullable=False),
)
henvendelser = sa.Table(
    "henvendelser",
    metadata,
    sa.Column("henvendelse_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kunde_id", sa.Integer, index=True),
    sa.Column("fra_epost", sa.String(254), index=True),
    sa.Column("emne", sa.String(200), nullable=False),
    sa.Column("tekst", sa.Text, nullable=False),
    sa.Column("opprettet", sa.DateTime, nullable=False),
    sa.Column("lukket", sa.DateTime),
)
skjema_henvendelser = sa.Table(
    "skjema_henvendelser",
    metadata,
    sa.Column("skjema_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("mottatt", sa.DateTime, nullable=False),
    sa.Column("emne", sa.String(200), nullable=False),
    sa.Column("melding", sa.Text, nullable=False),
)
sidevisninger = sa.Table(
    "sidevisninger",
    metadata,
    sa.Column("visning_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("besoks_id", sa.String(40), nullable=False, index=True),
    sa.Column("kunde_id", sa.Integer, index=True),
    sa.Column("tidspunkt", sa.DateTime, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("ip_adresse", sa.String(45)),
    sa.Column("nettleser", sa.String(300)),
)
samtaler = sa.Table(
    "samtaler",
    metadata,
    sa.Column("samtale_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kunde_id", sa.Integer, index=True),
    sa.Column("telefonnummer", sa.String(30), nullable=False, index=True),
    sa.Column("startet", sa.DateTime, nullable=False),
    sa.Column("varighet_sek", sa.Integer, nullable=False),
    sa.Column("retning", sa.String(3), nullable=False),
    sa.Column("opptak_sti", sa.String(200)),
)

#: Every table by "system.table", parents before children.
TABLES: dict[str, sa.Table] = {
    "crm.kunder": kunder,
    "crm.kontaktpersoner": kontaktpersoner,
    "crm.interessenter": interessenter,
    "faktura.fakturaer": fakturaer,
    "faktura.fakturalinjer": fakturalinjer,
    "kundeservice.henvendelser": henvendelser,
    "kundeservice.skjema_henvendelser": skjema_henvendelser,
    "nettlogg.sidevisninger": sidevisninger,
    "telefoni.samtaler": samtaler,
}


@dataclass(frozen=True)
class Seeded:
    """Where a seeded copy of the company lives, and how long seeding took."""

    url: str
    folder: Path
    seconds: float

    def environ(self) -> dict[str, str]:
        """The variables the data map's connection_env names, pointing at this copy."""
        return {
            variable: str(self.folder / system) if system in FILE_SYSTEMS else self.url
            for system, variable in CONNECTIONS.items()
        }


def seed(company: SecondCompany, url: str, folder: Path) -> Seeded:
    """Write the company's rows into the empty database at ``url``, its files under ``folder``."""
    started = time.perf_counter()
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            for name, table in TABLES.items():
                rows = company.rows.get(name, ())
                if rows:
                    conn.execute(table.insert(), [dict(row) for row in rows])
    finally:
        engine.dispose()
    for bad in company.unreadable:
        spoil(
            url,
            TABLES[bad.dataset].name,
            bad.column,
            company.keys[bad.dataset],
            bad.key,
            bad.prefix,
        )
    for system, files in company.files.items():
        root = folder / system
        root.mkdir(parents=True, exist_ok=True)
        for path, content in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return Seeded(url, folder, time.perf_counter() - started)


def read_rows(
    url: str, dataset: str, key_column: str, unreadable: Collection[int] = ()
) -> dict[str, dict[str, Any]]:
    """Every row of a table by key (as text), plain SQL; unreadable rows as their key alone.

    A row whose text cannot be decoded is not read (the read would fail); it is listed
    with its key only, so a test still sees whether it is there.
    """
    table = TABLES[dataset]
    key = table.c[key_column]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.select(table)
            if unreadable:
                query = query.where(key.not_in(list(unreadable)))
            rows = {
                str(row._mapping[key_column]): dict(row._mapping) for row in conn.execute(query)
            }
            if unreadable:
                present = conn.execute(sa.select(key).where(key.in_(list(unreadable)))).scalars()
                rows.update({str(k): {key_column: k} for k in present})
            return rows
    finally:
        engine.dispose()


def read_files(folder: Path, system: str) -> dict[str, bytes]:
    """Every file of a file store, by its path under the store's root."""
    root = folder / system
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def unreadable_keys(company: SecondCompany) -> Mapping[str, set[int]]:
    """The keys of the rows whose text cannot be decoded, per "system.table"."""
    keys: dict[str, set[int]] = {}
    for bad in company.unreadable:
        keys.setdefault(bad.dataset, set()).add(bad.key)
    return keys
