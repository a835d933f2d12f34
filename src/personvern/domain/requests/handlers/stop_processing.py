"""Objection (Art. 21) and withdrawal of consent (Art. 7(3)): the processing stops.

Both mark the subject's records where the data map's retention rule says consent was
withdrawn (its trigger field), and record a flag future processing honours, per purpose
where the request names purposes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from personvern.domain.datamap import DataMap, RetentionTrigger
from personvern.domain.requests.dataset_plan import DatasetPlan, FoundInDataset, with_changes
from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.lifecycle import RequestType


class StopProcessingHandler(RequestHandler):
    """A request that stops processing: the subject's records not yet marked are marked."""

    writes: ClassVar[RunWrite | None] = RunWrite.STOP_PROCESSING
    details = frozenset({"purposes"})

    def plan_dataset(self, plan: DatasetPlan, found: FoundInDataset) -> DatasetPlan:
        """The subject's own records whose stop field is still empty, where there is one."""
        stop = _stop_field(found.datamap, found.node.name)
        if not stop:
            return plan
        targets = tuple(
            k for k in found.ordered if k in found.own and found.records[k][0].get(stop) is None
        )
        return with_changes(plan, stop_marketing=targets, stop_field=stop)


class ObjectionHandler(StopProcessingHandler):
    """Objection (Art. 21)."""

    request_type = RequestType.OBJECTION
    article = "Art. 21"
    flag_kind = "objection"
    names: ClassVar[Mapping[str, str]] = {
        "nb": "protest mot behandlingen",
        "en": "objection to processing",
    }
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Vi har tatt imot protesten din",
        "en": "We have received your objection",
    }
    by_hand_in_system = "stop the processing objected to in {system}"
    by_hand_left_out = "stop the processing objected to if it is the subject's"


class WithdrawConsentHandler(StopProcessingHandler):
    """Withdrawal of consent (Art. 7(3))."""

    request_type = RequestType.WITHDRAW_CONSENT
    article = "Art. 7(3)"
    flag_kind = "consent_withdrawal"
    names: ClassVar[Mapping[str, str]] = {
        "nb": "tilbaketrekking av samtykke",
        "en": "withdrawal of consent",
    }
    letter_subject: ClassVar[Mapping[str, str]] = {
        "nb": "Samtykket ditt er trukket tilbake",
        "en": "Your consent is withdrawn",
    }
    by_hand_in_system = "stop the processing based on the withdrawn consent in {system}"
    by_hand_left_out = "stop the processing based on the consent if it is the subject's"


def _stop_field(datamap: DataMap, name: str) -> str | None:
    return next(
        (
            rule.trigger_field
            for rule in datamap.retention
            if rule.dataset == name
            and rule.trigger is RetentionTrigger.CONSENT_WITHDRAWN
            and rule.trigger_field
        ),
        None,
    )
