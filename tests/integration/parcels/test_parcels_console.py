"""The order page in the console shows the parcels an order leaves in, and who shares them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services import accounts
from orderhub.services.fulfilment import parcels
from orderhub.services.fulfilment.parcels import ParcelAsked
from tests.integration.fulfilment_kit import ADMIN, SKUS
from tests.integration.parcels.conftest import OTHER_WAREHOUSE, paid_order, two_warehouses

A = SKUS[0]
PASSWORD = "correct horse"


def _signed_in(hub: Hub, language: str) -> TestClient:
    client = TestClient(create_app(hub), headers={"Accept-Language": language})
    client.get("/login")
    client.post(
        "/login",
        data={
            "username": "operator",
            "password": PASSWORD,
            "csrftoken": client.cookies.get("csrftoken"),
        },
    )
    return client


def test_the_order_page_lists_each_parcel_and_the_orders_sharing_it(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    accounts.create_user(
        flow_hub.uow(), flow_hub.hasher, username="operator", password=PASSWORD, role="operator"
    )
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 9}, stock_u={A: 9})
    split = paid_order(flow_hub, [(A, 3)])
    parcels.split_order(
        flow_hub.uow(),
        split.id or 0,
        [ParcelAsked(((A, 1),)), ParcelAsked(((A, 2),), OTHER_WAREHOUSE)],
        actor=ADMIN,
    )
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 1)])
    merged = parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)

    with _signed_in(flow_hub, "en") as client:
        page = client.get(f"/orders/{split.id}").text
        assert "Parcels" in page and "Split into parcels" in page
        assert f"OH{split.id:010d}-1" in page and f"OH{split.id:010d}-2" in page
        assert f"{A} × 2" in page
        page = client.get(f"/orders/{first.id}").text
        assert merged.parcel_no in page and f'href="/orders/{second.id}"' in page
    with _signed_in(flow_hub, "zh-CN") as client:
        page = client.get(f"/orders/{first.id}").text
        assert "包裹" in page and "合并为一个包裹" in page
