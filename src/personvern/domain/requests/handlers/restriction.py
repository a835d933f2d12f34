"""Restriction (Art. 18): the subject's records marked restricted, or restricted by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from personvern.domain.requests.dataset_plan import DatasetPlan, FoundInDataset, with_changes
from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.restriction import is_restricted


class RestrictionHandler(RequestHandler):
    """Restriction: the records an erasure would take as the subject's are marked by the
    dataset's restriction field; without one a person restricts them by hand."""

    request_type = RequestType.RESTRICTION
    article = "Art. 18"
    writes: ClassVar[RunWrite | None] = RunWrite.RESTRICT
    covers_files = True
    tells_recipients = True
    flag_kind = "restriction"
    names: ClassVar[Mapping[str, str]] = {
        "nb": "begrensning av behandlingen",
        "en": "restriction of processing",
    }
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Behandlingen av personopplysningene dine er begrenset",
        "en": "The processing of your personal data is restricted",
    }
    by_hand_in_system = "restrict the subject's records in {system}"
    by_hand_left_out = "restrict it if it is the subject's"
    files_by_hand = "restrict those that are the subject's"

    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """The subject's records to mark, and the field; without one, still listed.

        The records an erasure would take as the subject's: a mention in someone else's
        ticket, or a colleague under the customer's account, is not theirs. Without a
        declared field a person restricts them by hand (a manual step of the plan).
        """
        keys = tuple(k for k in found.ordered if k in found.subject_rows and k not in found.others)
        restriction = found.dataset.restriction
        if restriction is None:
            return with_changes(plan, restrict=keys)
        # Records whose field marks them restricted already keep the time they were.
        targets = tuple(
            k
            for k in keys
            if not is_restricted(found.records[k][0].get(restriction.field), restriction.mark)
        )
        return with_changes(
            plan,
            restrict=targets,
            restrict_field=restriction.field,
            restrict_mark=restriction.mark.value,
        )
