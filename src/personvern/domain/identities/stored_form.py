"""Identity columns the data map says are stored in canonical form (``stored_normalised``).

A store may keep an e-mail address as people typed it (``Kari@Example.no``), so a
SQL system is asked in a way that ignores case (``lower(col) IN (...)`` on
PostgreSQL, which only an index on ``lower(col)`` serves). A column that holds every
address in its canonical form (personvern.domain.identities.email: lower-case where
the rules lower-case) says ``stored_normalised: true``, and is asked with a plain
``col IN (...)`` that the column's own index serves. What the store answers is still
confirmed by the canonical comparison, so the flag can make a search miss rows stored
otherwise, never find another person's.

Only identity fields have a canonical form; the flag elsewhere is an error. Only SQL
systems are asked differently; elsewhere it is a warning that it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from personvern.domain.datamap import DataMap, SystemKind
from personvern.domain.findings import DocPath, Finding, Severity

#: Kinds of system whose search the flag changes.
SQL_KINDS = frozenset({SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE})


def stored_normalised_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with ``stored_normalised`` declarations, located at the flag."""
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            for fi, field in enumerate(dataset.fields):
                if not field.stored_normalised:
                    continue
                path: DocPath = (
                    "systems",
                    si,
                    "datasets",
                    di,
                    "fields",
                    fi,
                    "stored_normalised",
                )
                name = f"{system.key}.{dataset.name}.{field.name}"
                if field.identity is None:
                    yield Finding(
                        path,
                        f"{name} says stored_normalised, but it is no identity field: only "
                        "identities (e-mail, phone, ...) have a canonical form to store",
                        hint="remove stored_normalised, or give the field its identity kind",
                    )
                elif system.kind not in SQL_KINDS:
                    yield Finding(
                        path,
                        f"{name} says stored_normalised, which changes nothing in a "
                        f"{system.kind.value} system: only SQL systems are searched by it",
                        hint="remove stored_normalised",
                        severity=Severity.WARNING,
                    )
