"""A webhook system restricts through the contract's existing ``rectify`` operation.

The reference receiver of the webhook connector's tests stands in for the system: a
dataset that declares ``restriction: {field: restricted_at}`` has the field set on the
subject's messages (and not on a message that only mentions them) by one ``rectify``
call, recorded as a step of the run so that a resumed run does not call it again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.connectors.test_webhook_connector import (
    BASE_PATH,
    KARI,
    SECRET,
    Receiver,
    Server,
    make_handler,
)
from tests.support.company import file_request


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The reference receiver on a free port of 127.0.0.1, serving the messages dataset."""
    state = Receiver(datasets=["messages"])
    server = Server(("127.0.0.1", 0), make_handler(state))
    server.receiver = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _email_only_map() -> DataMap:
    """The example map with only the e-mail system, whose messages declare a restriction."""
    raw: dict[str, Any] = load_datamap(EXAMPLE_DATAMAP).datamap.model_dump(mode="json")
    email = next(system for system in raw["systems"] if system["key"] == "email")
    messages = email["datasets"][0]
    messages["fields"].append({"name": "restricted_at"})
    messages["restriction"] = {"field": "restricted_at", "mark": "timestamp"}
    raw["systems"] = [email]
    return DataMap.model_validate(raw)


def test_a_webhook_dataset_is_restricted_through_rectify(
    receiver: Receiver, settings: Settings
) -> None:
    store = make_engine(settings)
    upgrade_to_head(store)
    engine = RequestEngine(
        settings=settings,
        datamap=_email_only_map(),
        unit_of_work=unit_of_work_factory(make_session_factory(store)),
        environ={
            "PERSONVERN_M365_WEBHOOK_URL": receiver.url,
            "PERSONVERN_M365_WEBHOOK_URL_SECRET": SECRET.decode(),
        },
        today=lambda: date(2026, 11, 25),
    )
    request_id = file_request(engine, RequestType.RESTRICTION, [{"kind": "email", "value": KARI}])
    outcome = engine.run(request_id)

    calls = [body for operation, body in receiver.calls if operation == "rectify"]
    assert 1 == len(calls)
    assert ("messages", {5, "m-1"}, ["restricted_at"]) == (
        calls[0]["dataset"],
        set(calls[0]["keys"]),
        list(calls[0]["changes"]),
    )
    restricted = {key for key, m in receiver.messages.items() if m.get("restricted_at")}
    # m-2 only mentions Kari in its text: it is the sender's message, not hers.
    assert {5, "m-1"} == restricted
    # The recipients of e-mail are still to be told (Art. 19); nothing is left by hand.
    assert RequestState.PARTIALLY_COMPLETED == outcome.state
    assert outcome.plan is not None
    assert () == outcome.plan.manual_steps
    with engine.unit_of_work() as uow:
        step = uow.requests.step(request_id, "restrict:email.messages")
    assert {"restricted": 2, "field": "restricted_at"} == step
