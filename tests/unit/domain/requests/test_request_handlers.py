"""Every request type has exactly one handler, and a type without one is refused."""

from __future__ import annotations

import pytest

from personvern.domain.requests.handlers import (
    HANDLERS,
    HandlerRegistry,
    MissingHandlerError,
    RequestHandler,
    RunWrite,
    handler_for,
)
from personvern.domain.requests.handlers.registry import DuplicateHandlerError
from personvern.domain.requests.lifecycle import RequestType
from personvern.intake.details import CLEANERS
from personvern.responses.artifacts import OutputFormat

LANGUAGES = ("nb", "en")


@pytest.mark.parametrize("request_type", list(RequestType))
def test_every_request_type_has_a_complete_handler(request_type: RequestType) -> None:
    handler = handler_for(request_type)

    assert isinstance(handler, RequestHandler)
    assert request_type is handler.request_type
    assert handler.article.startswith("Art. ")
    assert handler.writes is None or isinstance(handler.writes, RunWrite)
    assert handler.changes_data is request_type.changes_data
    for language in LANGUAGES:
        assert handler.names[language]
        assert handler.letter_subject[language]
    assert "{system}" in handler.by_hand_in_system
    assert handler.by_hand_left_out
    assert handler.files_by_hand
    # What the handler names elsewhere exists there.
    assert handler.details <= set(CLEANERS)
    assert {OutputFormat(name) for name in handler.answer_formats} <= set(OutputFormat)


def test_a_request_either_hands_over_data_or_writes() -> None:
    for handler in HANDLERS:
        assert handler.hands_over is (handler.writes is None), handler.request_type
        assert handler.hands_over or not handler.answer_formats


def test_the_registry_covers_every_type_once() -> None:
    assert sorted(RequestType) == sorted(h.request_type for h in HANDLERS)


def test_a_type_without_a_handler_is_refused_not_run() -> None:
    registry = HandlerRegistry(h for h in HANDLERS if h.request_type is not RequestType.OBJECTION)

    with pytest.raises(MissingHandlerError, match="no handler for objection requests"):
        registry.handler_for(RequestType.OBJECTION)


def test_two_handlers_for_one_type_are_refused() -> None:
    access = handler_for(RequestType.ACCESS)

    with pytest.raises(DuplicateHandlerError, match="two handlers for access"):
        HandlerRegistry([access, access])


def test_the_types_that_share_behaviour_share_their_plan_rule() -> None:
    access, portability = handler_for(RequestType.ACCESS), handler_for(RequestType.PORTABILITY)
    objection = handler_for(RequestType.OBJECTION)
    withdrawal = handler_for(RequestType.WITHDRAW_CONSENT)

    assert type(access).plan_dataset is type(portability).plan_dataset
    assert type(objection).plan_dataset is type(withdrawal).plan_dataset


def test_approval_summaries_count_what_the_plan_changes() -> None:
    datasets = [{"delete": [1, 2], "keep": [3]}, {"rectify": [4]}]

    assert "erasure plan approved: 2 records to delete, 1 kept" == handler_for(
        RequestType.ERASURE
    ).approval_summary(datasets)
    assert "rectification plan approved: 1 records to change" == handler_for(
        RequestType.RECTIFICATION
    ).approval_summary(datasets)
