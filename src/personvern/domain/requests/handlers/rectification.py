"""Rectification (Art. 16): the subject's own records get the corrected values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from personvern.domain.datamap import DataField
from personvern.domain.requests.dataset_plan import (
    DatasetPlan,
    FoundInDataset,
    personal_field,
    with_changes,
)
from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.lifecycle import RequestType


class RectificationHandler(RequestHandler):
    """Rectification: each correction (a category or a ``system.dataset.field``) set on the
    subject's own records, never on another person's or on one a legal hold keeps."""

    request_type = RequestType.RECTIFICATION
    article = "Art. 16"
    writes: ClassVar[RunWrite | None] = RunWrite.RECTIFY
    four_eyes = True
    tells_recipients = True
    details = frozenset({"corrections"})
    names: ClassVar[Mapping[str, str]] = {"nb": "retting", "en": "rectification"}
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Vi har rettet personopplysningene dine",
        "en": "We have corrected your personal data",
    }
    by_hand_in_system = "correct the subject's records in {system}"
    by_hand_left_out = "correct it if it is the subject's"

    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """The corrections that name a field of the dataset, on the subject's own records."""
        corrections: dict[str, Any] = dict(found.details.get("corrections", {}))
        node = found.node
        changes = {
            f.name: value
            for key, value in corrections.items()
            for f in found.dataset.fields
            if personal_field(f) and _matches_correction(node.system, node.dataset, f, key)
        }
        targets = tuple(k for k in found.ordered if k in found.own and k not in found.held)
        if not (changes and targets):
            return plan
        return with_changes(
            plan,
            rectify=targets,
            rectify_changes=changes,
            keep=found.kept,
            keep_reason=found.hold_reference,
        )


def _matches_correction(system: str, dataset: str, field_: DataField, key: str) -> bool:
    if key == f"{system}.{dataset}.{field_.name}":
        return True
    category = field_.category or ""
    return bool(category) and (category == key or category.startswith(f"{key}."))
