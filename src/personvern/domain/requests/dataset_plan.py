"""One dataset's part of a request's plan, and what the search found there to plan from.

A request type's handler (personvern.domain.requests.handlers) turns what was found in
a dataset (:class:`FoundInDataset`) into that dataset's part of the plan
(:class:`DatasetPlan`); personvern.domain.requests.request_plan puts the parts together.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import asdict, dataclass, field
from typing import Any

from personvern.domain.datamap import DataField, DataMap, Dataset, ErasureStrategy
from personvern.domain.requests.legal_hold import LegalHold
from personvern.domain.requests.subject_graph import DatasetNode, MatchKind

#: The strategies that erase a field of a record that stays.
FIELD_STRATEGIES = frozenset(
    {ErasureStrategy.SET_NULL, ErasureStrategy.MASK, ErasureStrategy.PSEUDONYMISE}
)


@dataclass(frozen=True)
class DatasetPlan:
    """What happens to the subject's records in one dataset."""

    system: str
    dataset: str
    found: int = 0
    by_identity: int = 0
    by_reference: int = 0
    by_mention: int = 0
    #: Records whose text names the subject as their sender (``names_sender``).
    by_sender: int = 0
    has_files: bool = False
    #: Records handed over (access, portability).
    export: tuple[Any, ...] = ()
    delete: tuple[Any, ...] = ()
    #: Records kept whose personal fields are erased by ``strategies``.
    erase_fields: tuple[Any, ...] = ()
    strategies: Mapping[str, str] = field(default_factory=dict)
    redact: tuple[Any, ...] = ()
    redact_fields: tuple[str, ...] = ()
    keep: tuple[Any, ...] = ()
    keep_reason: str | None = None
    rectify: tuple[Any, ...] = ()
    rectify_changes: Mapping[str, Any] = field(default_factory=dict)
    stop_marketing: tuple[Any, ...] = ()
    stop_field: str | None = None
    #: Records to mark restricted (Art. 18) by setting ``restrict_field``; without a
    #: field (the data map declares none) a person restricts them by hand.
    restrict: tuple[Any, ...] = ()
    restrict_field: str | None = None
    #: What ``restrict_field`` is set to: "timestamp" (the time) or "flag" (true).
    restrict_mark: str | None = None

    @property
    def name(self) -> str:
        """The qualified name, "system.dataset"."""
        return f"{self.system}.{self.dataset}"

    @property
    def changes(self) -> bool:
        """Whether this dataset's part of the plan writes anything."""
        return bool(
            self.delete
            or self.erase_fields
            or self.redact
            or self.rectify
            or self.stop_marketing
            or (self.restrict and self.restrict_field)
        )


@dataclass(frozen=True)
class FoundInDataset:
    """What the search found in one dataset, sorted by whose it is: what a handler plans from."""

    node: DatasetNode
    dataset: Dataset
    records: Mapping[Any, tuple[Mapping[str, Any], MatchKind]]
    #: The keys found, in a stable order (the plan lists records in it).
    ordered: tuple[Any, ...]
    #: Records that only mention the subject in free text.
    mentions: Set[Any]
    #: Records of other people under the subject's record (never erased or corrected).
    others: Set[Any]
    #: Records that are the subject's own (not mentions, not others', naming nobody else).
    own: Set[Any]
    #: Every record found that is not a mere mention.
    subject_rows: Set[Any]
    #: The subject's records a legal hold keeps, and the hold.
    held: Set[Any]
    hold: LegalHold | None
    datamap: DataMap
    #: The request's details (corrections, purposes).
    details: Mapping[str, Any]

    @property
    def kept(self) -> tuple[Any, ...]:
        """The held records, in a stable order."""
        return tuple(sorted(self.held, key=str))

    @property
    def hold_reference(self) -> str | None:
        """The legal hold's reference when it keeps any of the subject's records here."""
        return self.hold.reference if self.hold is not None and self.held else None


def personal_field(field_: DataField) -> bool:
    """Whether a field holds personal data of its own (not a key, not a reference)."""
    return field_.category is not None and not field_.primary_key and not field_.references


def field_strategies(dataset: Dataset) -> dict[str, str]:
    """How each personal field of a record that stays is erased (``null`` unless it says)."""
    strategies: dict[str, str] = {}
    for f in dataset.fields:
        if personal_field(f) and f.erasure is not ErasureStrategy.KEEP:
            chosen = f.erasure if f.erasure in FIELD_STRATEGIES else ErasureStrategy.SET_NULL
            strategies[f.name] = ErasureStrategy(chosen).value
    return strategies


def with_changes(plan: DatasetPlan, **changes: Any) -> DatasetPlan:
    """``plan`` with ``changes`` (its mappings copied, so no two plans share one)."""
    data = asdict(plan)
    data.update(changes)
    return DatasetPlan(**data)
