"""Erasure (Art. 17): the subject's records deleted or their personal fields erased."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from personvern.domain.datamap import Dataset, ErasureStrategy
from personvern.domain.requests.dataset_plan import (
    FIELD_STRATEGIES,
    DatasetPlan,
    FoundInDataset,
    field_strategies,
    with_changes,
)
from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.lifecycle import RequestType

#: Why records of other people found under the subject's record are not erased.
ABOUT_ANOTHER_PERSON = "about another person (erased on that person's own request)"


class ErasureHandler(RequestHandler):
    """Erasure: rows deleted (or fields erased where the dataset keeps its rows), mentions
    redacted, rows under a legal hold and other people's rows kept."""

    request_type = RequestType.ERASURE
    article = "Art. 17"
    writes: ClassVar[RunWrite | None] = RunWrite.ERASE
    covers_files = True
    four_eyes = True
    tells_recipients = True
    names: ClassVar[Mapping[str, str]] = {"nb": "sletting", "en": "erasure"}
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Vi har slettet personopplysningene dine",
        "en": "We have erased your personal data",
    }
    by_hand_in_system = "erase the subject's records in {system}"
    by_hand_left_out = "erase it if it is the subject's"
    files_by_hand = "erase those that are the subject's"

    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """The subject's rows erased, mentions redacted, held and other people's rows kept."""
        strategies = _strategies(found.dataset)
        erasable = tuple(
            k
            for k in found.ordered
            if k in found.subject_rows and k not in found.held and k not in found.others
        )
        kept_for_others = tuple(
            k for k in found.ordered if k in found.others and k not in found.held
        )
        reason = found.hold_reference
        if kept_for_others:
            reason = "; ".join(filter(None, [reason, ABOUT_ANOTHER_PERSON]))
        return with_changes(
            plan,
            delete=erasable if strategies is None else (),
            erase_fields=erasable if strategies is not None else (),
            strategies=strategies or {},
            redact=tuple(k for k in found.ordered if k in found.mentions),
            redact_fields=found.node.free_text if found.mentions else (),
            keep=tuple(sorted(set(found.kept) | set(kept_for_others), key=str)),
            keep_reason=reason,
        )

    def approval_summary(self, datasets: Sequence[Mapping[str, Any]]) -> str:
        """The history line when a second person approves the stored plan's ``datasets``."""
        deleted = sum(len(d.get("delete", [])) for d in datasets)
        kept = sum(len(d.get("keep", [])) for d in datasets)
        return f"erasure plan approved: {deleted} records to delete, {kept} kept"


def _strategies(dataset: Dataset) -> dict[str, str] | None:
    """Field strategies when the dataset keeps its rows on erasure, else None (delete rows)."""
    explicit = {f.erasure for f in dataset.fields if f.erasure is not None}
    if not explicit & (FIELD_STRATEGIES | {ErasureStrategy.KEEP}):
        return None
    return field_strategies(dataset)
