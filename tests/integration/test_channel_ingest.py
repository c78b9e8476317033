"""Channel payloads into the pool on real databases: quarantine and replay, SKU mapping and
combos, refunds, stale versions, signed webhooks."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.channels import Component
from orderhub.domain.shops import Credentials
from orderhub.domain.transitions import OrderStatus
from orderhub.integrations.channels.connect import Channels
from orderhub.integrations.channels.registry import SimulatorOptions, channel
from orderhub.integrations.channels.simkit import CATALOGUE, RunningServer
from orderhub.permissions import permissions_of
from orderhub.services import catalogue, orders, quarantine, shops
from orderhub.services.channel_ingest import ingest_payloads

ADMIN = Actor(
    id="test", name="test", kind=ActorKind.SYSTEM, role="admin", permissions=permissions_of("admin")
)
SECRET = "sim-app-secret"


@pytest.fixture
def taobao() -> Iterator[RunningServer]:
    server = RunningServer(
        channel("taobao").make_simulator(
            SimulatorOptions(app_key="k", app_secret=SECRET, access_token="t", seed=3)
        )
    ).start()
    yield server
    server.stop()


def _shop(hub: Hub, server: RunningServer, name: str = "taobao") -> str:
    code = f"{name}-shop"
    shops.create_shop(
        hub.uow(),
        hub.channels,
        actor=ADMIN,
        code=code,
        channel=name,
        name=code,
        base_url=server.url,
        credentials=Credentials("k", SECRET, "t"),
    )
    return code


def _payload(hub: Hub, server: RunningServer, code: str) -> dict[str, Any]:
    """A real Taobao trade, as the simulator's TOP API serves it."""
    no = httpx.post(f"{server.url}/_sim/orders", json={"count": 1}).json()["created"][0]
    with hub.uow.read_only() as uow:
        shop = uow.shops.get(code)
    payload = hub.channels.client(shop).fetch_order(no)
    assert payload is not None
    return payload


def _ingest(hub: Hub, code: str, payload: dict[str, Any], connector: Channels | None = None) -> Any:
    mapping = (connector or hub.channels).mapping("taobao")
    return ingest_payloads(
        hub.uow,
        channel="taobao",
        shop=code,
        mapping=mapping,
        payloads=[payload],
        source="test",
        review_required=True,
    )[0]


def _later(payload: dict[str, Any], *, minutes: int, **changes: Any) -> dict[str, Any]:
    """The same trade as TOP would send it `minutes` later, with `changes`."""
    top_time = "%Y-%m-%d %H:%M:%S"
    later = copy.deepcopy(payload)
    stamp = datetime.strptime(payload["modified"], top_time) + timedelta(minutes=minutes)
    later.update(modified=stamp.strftime(top_time), **changes)
    return later


def _all_skus(hub: Hub) -> None:
    for sku, title, _, _ in CATALOGUE:
        catalogue.add_product(hub.uow(), actor=ADMIN, sku=sku, title=title)


def test_a_payload_that_does_not_fit_is_quarantined_with_its_reason_and_the_rest_go_on(
    hub: Hub, taobao: RunningServer
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    good, bad = _payload(hub, taobao, code), _payload(hub, taobao, code)
    bad["payment"] = "12.3x"
    results = ingest_payloads(
        hub.uow,
        channel="taobao",
        shop=code,
        mapping=hub.channels.mapping("taobao"),
        payloads=[bad, good],
        source="test",
        review_required=True,
    )
    assert [r.outcome for r in results] == ["quarantined", "created"]
    entry = quarantine.list_quarantine(hub.uow.read_only(), actor=ADMIN)[0]
    assert entry.field == "amounts.paid_total"
    assert "'12.3x' is not a decimal amount" in entry.reason and "payment" in entry.reason
    assert entry.payload["payment"] == "12.3x"  # kept exactly as it came


def test_a_quarantined_payload_replays_after_the_mapping_is_fixed(
    hub: Hub, taobao: RunningServer, tmp_path: Path
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    hub.channels = Channels(tmp_path)
    payload = _payload(hub, taobao, code)
    payload["status"] = "WAIT_FOR_GROUP_SUCCESS"  # a word our mapping does not know yet
    assert _ingest(hub, code, payload).outcome == "quarantined"
    entry = quarantine.list_quarantine(hub.uow.read_only(), actor=ADMIN)[0]
    assert entry.field == "status" and "'WAIT_FOR_GROUP_SUCCESS' is not a value" in entry.reason
    assert entry.id is not None
    (tmp_path / "taobao.yaml").write_text(
        "fields:\n  status:\n    map:\n      WAIT_FOR_GROUP_SUCCESS: paid\n", encoding="utf-8"
    )
    hub.channels.reload()
    result = quarantine.replay(hub.uow, hub.channels, entry.id, actor=ADMIN, review_required=True)
    assert result.outcome == "created" and result.order_id is not None
    assert quarantine.list_quarantine(hub.uow.read_only(), actor=ADMIN) == []
    replayed = quarantine.list_quarantine(hub.uow.read_only(), actor=ADMIN, status="replayed")
    assert replayed[0].order_id == result.order_id


def test_an_unmapped_sku_waits_in_exception_and_moves_on_once_mapped(
    hub: Hub, taobao: RunningServer
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    payload = _payload(hub, taobao, code)
    payload["orders"]["order"][0]["outer_sku_id"] = "TB-OLD-CODE-1"
    result = _ingest(hub, code, payload)
    order = orders.get_order(hub.uow.read_only(), result.order_id, actor=ADMIN)
    assert (order.status, order.exception_reason) == (OrderStatus.EXCEPTION, "unmapped_sku")
    released = catalogue.map_sku(
        hub.uow, actor=ADMIN, channel="taobao", channel_sku="TB-OLD-CODE-1", sku="MUG-350"
    )
    assert released == [result.order_id]
    order = orders.get_order(hub.uow.read_only(), result.order_id, actor=ADMIN)
    assert order.status is OrderStatus.PENDING_REVIEW
    assert order.lines[0].sku == "MUG-350" and order.lines[0].channel_sku == "TB-OLD-CODE-1"


def test_a_combo_expands_into_its_components_and_the_totals_still_add_up(
    hub: Hub, taobao: RunningServer
) -> None:
    for sku in ("TEA-LONGJING-250", "MUG-350"):
        catalogue.add_product(hub.uow(), actor=ADMIN, sku=sku, title=sku)
    catalogue.add_product(
        hub.uow(),
        actor=ADMIN,
        sku="GIFT-SET",
        title="礼盒",
        components=[Component("TEA-LONGJING-250", 1, 32800), Component("MUG-350", 2, 3900)],
    )
    code = _shop(hub, taobao)
    payload = _payload(hub, taobao, code)
    line = payload["orders"]["order"][0]
    payload["orders"]["order"] = [line]
    line.update(
        outer_sku_id="GIFT-SET", num=3, price="333.33", discount_fee="0.01", payment="999.98"
    )
    fee, discount = Decimal(payload.get("post_fee", "0")), Decimal(payload.get("discount_fee", "0"))
    payload["total_fee"] = "999.98"
    payload["payment"] = str(Decimal("999.98") + fee - discount)
    result = _ingest(hub, code, payload)
    assert result.outcome == "created", result.detail
    order = orders.get_order(hub.uow.read_only(), result.order_id, actor=ADMIN)
    assert sorted((x.sku, x.quantity) for x in order.lines) == [
        ("MUG-350", 6),
        ("TEA-LONGJING-250", 3),
    ]
    assert sum(x.amount for x in order.lines) == 99998 == order.amounts.goods_total
    assert all(x.channel_sku == "GIFT-SET" for x in order.lines)


def test_a_refund_request_before_shipping_puts_the_order_into_exception(
    hub: Hub, taobao: RunningServer
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    payload = _payload(hub, taobao, code)
    first = _ingest(hub, code, payload)
    newer = _later(payload, minutes=5, status="WAIT_SELLER_SEND_GOODS")
    for line in newer["orders"]["order"]:
        line["refund_status"] = "WAIT_SELLER_AGREE"
    assert _ingest(hub, code, newer).outcome == "updated"
    order = orders.get_order(hub.uow.read_only(), first.order_id, actor=ADMIN)
    assert (order.status, order.exception_reason) == (OrderStatus.EXCEPTION, "refund_requested")


def test_a_repeat_and_an_older_version_are_ignored_and_said_so_on_the_timeline(
    hub: Hub, taobao: RunningServer
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    payload = _payload(hub, taobao, code)
    first = _ingest(hub, code, payload)
    before = orders.get_order(hub.uow.read_only(), first.order_id, actor=ADMIN).status
    older = copy.deepcopy(payload)
    older["modified"] = "2020-01-01 00:00:00"
    older["status"] = "WAIT_BUYER_PAY"
    assert _ingest(hub, code, payload).outcome == "ignored"
    assert _ingest(hub, code, older).outcome == "ignored"
    timeline = orders.get_timeline(hub.uow.read_only(), first.order_id, actor=ADMIN)
    ignored = [e for e in timeline.events if e.action == "channel_update_ignored"]
    assert len(ignored) == 2
    assert "is a repeat" in (ignored[0].reason or "") and "is older" in (ignored[1].reason or "")
    assert timeline.order.status is before  # nothing moved backwards


def _shopify_webhook(hub: Hub, api: TestClient, secret: str) -> httpx.Response:
    server = RunningServer(
        channel("shopify").make_simulator(
            SimulatorOptions(app_key="k", app_secret=SECRET, access_token="t", seed=5)
        )
    ).start()
    try:
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=ADMIN,
            code="us-store",
            channel="shopify",
            name="US",
            base_url=server.url,
            credentials=Credentials("k", SECRET, "t"),
        )
        no = httpx.post(f"{server.url}/_sim/orders", json={"count": 1}).json()["created"][0]
        with hub.uow.read_only() as uow:
            payload = hub.channels.client(uow.shops.get("us-store")).fetch_order(no)
    finally:
        server.stop()
    assert payload is not None
    body = json.dumps({k: v for k, v in payload.items() if k != "_orderhub"}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return api.post(
        "/api/v1/webhooks/shopify/us-store",
        content=body,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signature.decode(),
            "X-Shopify-Shop-Domain": "us-store.myshopify.com",
            "X-Shopify-Webhook-Id": "w-1",
            "Content-Type": "application/json",
        },
    )


def test_a_forged_webhook_is_refused_with_401_and_changes_nothing(hub: Hub) -> None:
    with TestClient(create_app(hub)) as api:
        refused = _shopify_webhook(hub, api, "not-the-secret")
    assert refused.status_code == 401
    assert "signature" in refused.json()["detail"]
    with hub.engine.connect() as conn:
        from sqlalchemy import func, select

        from orderhub.storage.tables import orders as orders_table

        assert conn.execute(select(func.count()).select_from(orders_table)).scalar_one() == 0


def test_a_genuine_webhook_puts_the_order_in_the_pool(hub: Hub) -> None:
    _all_skus(hub)
    with TestClient(create_app(hub)) as api:
        accepted = _shopify_webhook(hub, api, SECRET)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()[0]["outcome"] in ("created", "quarantined")


def test_an_order_paid_later_on_the_channel_moves_on_to_review(
    hub: Hub, taobao: RunningServer
) -> None:
    _all_skus(hub)
    code = _shop(hub, taobao)
    payload = _payload(hub, taobao, code)
    unpaid = copy.deepcopy(payload)
    unpaid["status"] = "WAIT_BUYER_PAY"
    first = _ingest(hub, code, unpaid)
    assert orders.get_order(hub.uow.read_only(), first.order_id, actor=ADMIN).status is (
        OrderStatus.PENDING_PAYMENT
    )
    paid = _later(payload, minutes=3, status="WAIT_SELLER_SEND_GOODS")
    assert _ingest(hub, code, paid).outcome == "updated"
    timeline = orders.get_timeline(hub.uow.read_only(), first.order_id, actor=ADMIN)
    assert timeline.order.status is OrderStatus.PENDING_REVIEW
    assert [e.action for e in timeline.events][-2:] == ["pay", "submit_review"]
