"""How many files of each files dataset no owner rule attributes to anyone.

:func:`unattributed_files` is what ``personvern check --connect`` counts, and what a
request covering a files dataset asks (personvern.domain.requests.file_coverage says
which datasets a request covers). Files with a sidecar or owned by their path are
counted by the files connector alone. Files owned by a column need the rows' system
too, since a file no row names is nobody's: the rows' dataset is asked which of the
files' paths its column holds, :data:`PATHS_PER_QUERY` paths per query, each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from personvern.connectors.port import Connector, Criteria, FileInventory, Key
from personvern.domain.datamap import DataMap
from personvern.domain.file_ownership import owner_column

#: Paths asked of the rows' dataset in one query (well below every database's limit).
PATHS_PER_QUERY = 1000


def unattributed_files(
    datamap: DataMap,
    connectors: Mapping[str, Connector],
    datasets: Iterable[str] | None = None,
) -> dict[str, int]:
    """Per files dataset ("system.dataset"), how many of its files nobody owns.

    ``datasets`` limits the count to those named. A dataset is left out when it cannot
    be told: its system is not among ``connectors`` or cannot list its files (a webhook),
    or, for files owned by a column, the rows' system is not among ``connectors``.
    """
    wanted = set(datasets) if datasets is not None else None
    counts: dict[str, int] = {}
    for system in datamap.systems:
        connector = connectors.get(system.key)
        if not isinstance(connector, FileInventory):
            continue
        for dataset in system.datasets:
            name = f"{system.key}.{dataset.name}"
            if dataset.files is None or (wanted is not None and name not in wanted):
                continue
            column = owner_column(dataset.files)
            if column is None:
                counts[name] = connector.unattributed(dataset.name)
                continue
            rows, field = column
            rows_system, _, rows_dataset = rows.partition(".")
            owner = connectors.get(rows_system)
            if owner is None:
                continue
            unnamed = _unnamed(owner, rows_dataset, field, connector.keys(dataset.name))
            counts[name] = connector.unattributed(dataset.name) + unnamed
    return counts


def _unnamed(owner: Connector, dataset: str, field: str, paths: Sequence[Key]) -> int:
    """How many of ``paths`` no record of the owner's ``dataset`` names in ``field``."""
    ordered = sorted({str(path) for path in paths})
    named: set[str] = set()
    for start in range(0, len(ordered), PATHS_PER_QUERY):
        chunk = frozenset(ordered[start : start + PATHS_PER_QUERY])
        for record in owner.locate(dataset, Criteria(exact={field: chunk})):
            value = record.values.get(field)
            if value is not None:
                named.add(str(value))
    return sum(1 for path in ordered if path not in named)
