"""Change events from real order changes reach a JetStream subscriber through the outbox relay,
exactly as docs/events.md and docs/events.schema.json describe them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from nats.js.errors import NotFoundError

from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.transitions import Action
from orderhub.services import orders as order_service
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.worker.relay import Relay
from tests.conftest import CHEAP_HASHER
from tests.factories import an_order
from tests.integration.fulfilment_kit import ADMIN
from tests.integration.test_events_nats import (
    DOCUMENTED_HEADERS,
    NATS_URL,
    VALIDATOR,
    Names,
    on_server,
    read_all,
    require_nats,
)

pytestmark = pytest.mark.nats


@pytest.fixture
def names() -> Iterator[Names]:
    """A stream and subject prefix of this test's own, deleted afterwards."""
    require_nats()
    tag = uuid.uuid4().hex[:12]
    made = Names(stream=f"ORDERHUB_RELAY_{tag}", prefix=f"orderhubrelay{tag}")
    yield made
    with contextlib.suppress(NotFoundError):
        on_server(lambda js: js.delete_stream(made.stream))


@pytest.fixture
def publishing_hub(hub: Hub, names: Names) -> Iterator[Hub]:
    settings = hub.settings.model_copy(
        update={
            "nats_url": NATS_URL,
            "nats_stream": names.stream,
            "nats_subject_prefix": names.prefix,
        }
    )
    publishing = bootstrap(settings, hasher=CHEAP_HASHER)
    yield publishing
    publishing.close()


def test_an_orders_changes_reach_a_subscriber_in_order_as_documented(
    publishing_hub: Hub, names: Names
) -> None:
    order = order_service.create_order(
        publishing_hub.uow(), an_order(), actor=ADMIN, review_required=True
    ).order
    for action in (Action.PAY, Action.APPROVE):
        order_service.apply_action(
            publishing_hub.uow(), order.id or 0, action, actor=ADMIN, review_required=True
        )
    relay = Relay(publishing_hub.uow, publishing_hub.deliveries, policy=RetryPolicy(5, 0.05, 0.2))
    while relay.run_once():
        pass
    relay.close()

    received = read_all(names)
    assert [(r.payload["action"], r.payload["to_status"]) for r in received] == [
        ("create", "pending_payment"),
        ("pay", "paid"),
        ("submit_review", "pending_review"),
        ("approve", "approved"),
    ]
    for message in received:
        VALIDATOR.validate(message.payload)
        assert set(message.headers) >= DOCUMENTED_HEADERS
        assert message.subject == f"{names.prefix}.{message.headers['OrderHub-Event']}"
        assert message.payload["order_id"] == order.id and message.deliveries == 1
    with publishing_hub.uow.read_only() as uow:
        assert {r["status"] for r in uow.outbox.list(target="events")} == {"delivered"}
