"""The shape every request type's handler has: how it plans, what a run writes, what it says.

A handler is the one place a request type's behaviour is written down. The plan asks it
what to do with the records found in a dataset (:meth:`RequestHandler.plan_dataset`);
the engine asks it what a run writes (:attr:`RequestHandler.writes`, each
:class:`RunWrite` done by the engine) and whether it hands an answer over; the answer
letter, the verification mail and the manual steps take their words from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar

from personvern.domain.requests.dataset_plan import DatasetPlan, FoundInDataset
from personvern.domain.requests.lifecycle import RequestType


class RunWrite(StrEnum):
    """What a run writes to the company's stores; the engine knows how to do each."""

    #: Delete the subject's records, erase their fields, redact mentions.
    ERASE = "erase"
    #: Set the corrected values on the subject's records.
    RECTIFY = "rectify"
    #: Mark the processing stopped (the data map's consent-withdrawn trigger field).
    STOP_PROCESSING = "stop_processing"
    #: Mark the subject's records restricted (the dataset's restriction field).
    RESTRICT = "restrict"


class RequestHandler(ABC):
    """One request type: its plan rule, what a run does, and the words it is told in."""

    request_type: ClassVar[RequestType]
    #: The GDPR article the right comes from.
    article: ClassVar[str]
    #: What a run writes to the company's stores; None: it only hands over what was found.
    writes: ClassVar[RunWrite | None]
    #: Whether the answer is the data itself, handed over as files behind links.
    hands_over: ClassVar[bool] = False
    #: The answer's files by default (``OutputFormat`` values), empty for a letter only.
    answer_formats: ClassVar[frozenset[str]] = frozenset()
    #: Whether the export holds only what Art. 20 makes portable.
    portable_only: ClassVar[bool] = False
    #: Whether the run leaves a PDF edition of the report to be made after it.
    report_pdf_after_run: ClassVar[bool] = False
    #: Whether the request covers the subject's files themselves, not only records.
    covers_files: ClassVar[bool] = False
    #: Whether a second person approves the plan (it destroys or redirects data).
    four_eyes: ClassVar[bool] = False
    #: Whether recipients of the data are told of what the run did (Art. 19).
    tells_recipients: ClassVar[bool] = False
    #: The flag a run records for future processing to honour, if any.
    flag_kind: ClassVar[str | None] = None
    #: The details the request takes (corrections, purposes); others are refused.
    details: ClassVar[frozenset[str]] = frozenset()
    #: The right's name per language, as the verification mail says "a request for ...".
    names: ClassVar[Mapping[str, str]]
    #: The answer letter's subject line per language.
    letter_subject: ClassVar[Mapping[str, str]]
    #: What a person does by hand in a system that could not be searched ({system}).
    by_hand_in_system: ClassVar[str]
    #: What a person does by hand with an unreadable record left out of the request.
    by_hand_left_out: ClassVar[str]
    #: What a person does with files the request covers that nobody owns.
    files_by_hand: ClassVar[str] = "act on those that are the subject's"

    @property
    def changes_data(self) -> bool:
        """Whether running the request writes to the company's stores."""
        return self.writes is not None

    @property
    def erases(self) -> bool:
        """Whether the request erases the subject's records."""
        return self.writes is RunWrite.ERASE

    @abstractmethod
    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """``plan`` (the counts of what was found) with what the request does in the dataset."""

    def approval_summary(self, datasets: Sequence[Mapping[str, Any]]) -> str:
        """The history line when a second person approves the stored plan's ``datasets``."""
        changed = sum(len(d.get("rectify", [])) for d in datasets)
        return f"{self.request_type.value} plan approved: {changed} records to change"
