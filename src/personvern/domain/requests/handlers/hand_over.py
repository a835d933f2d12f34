"""Access (Art. 15) and portability (Art. 20): the subject's data handed over, nothing changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from personvern.domain.requests.dataset_plan import DatasetPlan, FoundInDataset, with_changes
from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.lifecycle import RequestType


class HandOverHandler(RequestHandler):
    """A request answered with the data itself: every record found goes into the answer."""

    writes: ClassVar[RunWrite | None] = None
    hands_over = True
    covers_files = True

    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """Every record found is handed over, mentions and other people's records included."""
        return with_changes(plan, export=found.ordered)


class AccessHandler(HandOverHandler):
    """Access (Art. 15): a report and a full export."""

    request_type = RequestType.ACCESS
    article = "Art. 15"
    answer_formats = frozenset({"html", "zip"})
    report_pdf_after_run = True
    names: ClassVar[Mapping[str, str]] = {"nb": "innsyn", "en": "access to your data"}
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Svar på forespørselen din om innsyn",
        "en": "The answer to your request for access",
    }
    by_hand_in_system = "find the subject's records in {system} and add them to the answer"
    by_hand_left_out = "add it to the answer if it is the subject's"
    files_by_hand = "add those that are the subject's to the answer"


class PortabilityHandler(HandOverHandler):
    """Portability (Art. 20): the portable part, machine-readable."""

    request_type = RequestType.PORTABILITY
    article = "Art. 20"
    answer_formats = frozenset({"zip"})
    portable_only = True
    names: ClassVar[Mapping[str, str]] = {
        "nb": "dataportabilitet",
        "en": "a portable copy of your data",
    }
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Opplysningene dine i et maskinlesbart format",
        "en": "Your data in a machine-readable format",
    }
    by_hand_in_system = "find the subject's records in {system} and add them to the export"
    by_hand_left_out = "add it to the export if it is the subject's"
    files_by_hand = "add those that are the subject's to the export"
