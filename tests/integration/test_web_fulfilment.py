"""The console's fulfilment pages through HTTP: the outbox (counts, failed messages, a message
with its attempts, Retry), warehouses (list, add, edit) and stock (levels, ledger, goods in and
counts), who may see and use each, and their Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.warehouses import WmsCredentials
from orderhub.services import catalogue, outbox, warehouses
from orderhub.web import i18n, labels
from tests.conftest import console_hub
from tests.integration.test_api_fulfilment_ops import put_messages
from tests.integration.test_web_channels import SETUP, csrf, sign_in, text_of

PASSWORD = "correct horse"
ROLES = ("admin", "supervisor", "operator", "warehouse", "customer_service", "agent")
HTMX = {"HX-Request": "true"}
PAGES = ("/outbox", "/warehouses", "/stock")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ROLES, PASSWORD) as hub:
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def _browser_as(hub: Hub, role: str) -> TestClient:
    client = TestClient(create_app(hub), headers={"Accept-Language": "en"})
    sign_in(client, role)
    return client


def test_the_outbox_page_counts_per_target_and_lists_failed_messages_with_their_last_error(
    hub: Hub, browser: TestClient
) -> None:
    dead, refused, delivered = put_messages(
        hub, [("wms:WH-EAST", "dead"), ("channel:tb-1", "refused"), ("wms:WH-EAST", "delivered")]
    )
    sign_in(browser, "operator")
    response = browser.get("/outbox")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "wms:WH-EAST" in text and "channel:tb-1" in text
    # Dead and refused are listed by default, each with its last error; delivered is not.
    assert f'href="/outbox/{dead}"' in response.text
    assert f'href="/outbox/{refused}"' in response.text
    assert f'href="/outbox/{delivered}"' not in response.text
    assert "connection refused by dead test receiver" in text
    # A count links to its messages.
    assert 'href="/outbox?status=dead&amp;target=wms%3AWH-EAST"' in response.text
    only_delivered = browser.get("/outbox", params={"status": "delivered"}).text
    assert f'href="/outbox/{delivered}"' in only_delivered
    assert browser.get("/outbox", params={"status": "lost"}).status_code == 422


def test_retry_from_the_message_page_makes_a_dead_message_pending(
    hub: Hub, browser: TestClient
) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    sign_in(browser, "operator")
    shown = browser.get(f"/outbox/{dead}")
    assert shown.status_code == 200
    text = text_of(shown.text)
    assert "SO-0" in text and "test-worker" in text and "connection refused" in text
    assert f'hx-post="/outbox/{dead}/retry"' in shown.text

    retried = browser.post(f"/outbox/{dead}/retry", data={"csrftoken": csrf(browser)}, headers=HTMX)
    assert retried.status_code == 200
    assert retried.text.startswith('<div id="message-main"')  # htmx: only the page's main part
    assert f"Message {dead} is pending again" in retried.text
    assert f'action="/outbox/{dead}/retry"' not in retried.text  # pending: nothing to replay
    assert outbox.message(hub.uow.read_only(), dead, actor=SETUP)["status"] == "pending"


def test_retry_without_the_csrf_token_changes_nothing(hub: Hub, browser: TestClient) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    sign_in(browser, "operator")
    assert browser.post(f"/outbox/{dead}/retry").status_code == 403
    assert outbox.message(hub.uow.read_only(), dead, actor=SETUP)["status"] == "dead"


def test_retrying_a_delivered_message_is_refused_on_its_page_with_the_reason(
    hub: Hub, browser: TestClient
) -> None:
    (delivered,) = put_messages(hub, [("wms:WH-EAST", "delivered")])
    sign_in(browser, "admin")
    assert f'action="/outbox/{delivered}/retry"' not in browser.get(f"/outbox/{delivered}").text
    refused = browser.post(f"/outbox/{delivered}/retry", data={"csrftoken": csrf(browser)})
    assert refused.status_code == 422
    assert f"outbox message {delivered} is delivered" in text_of(refused.text)


def test_a_role_without_outbox_replay_sees_no_retry_and_is_refused_it(
    hub: Hub, browser: TestClient
) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    sign_in(browser, "warehouse")
    shown = browser.get(f"/outbox/{dead}")
    assert shown.status_code == 200 and "/retry" not in shown.text
    refused = browser.post(f"/outbox/{dead}/retry", data={"csrftoken": csrf(browser)})
    assert refused.status_code == 403 and "outbox.replay" in refused.text
    assert outbox.message(hub.uow.read_only(), dead, actor=SETUP)["status"] == "dead"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("operator", PAGES),
        ("warehouse", PAGES),
        ("customer_service", ("/warehouses", "/stock")),
        ("agent", ()),
    ],
)
def test_the_pages_and_their_links_are_shown_only_to_roles_that_may_read_them(
    hub: Hub, role: str, allowed: tuple[str, ...]
) -> None:
    with _browser_as(hub, role) as client:
        nav = client.get("/orders").text
        for path in PAGES:
            assert (f'href="{path}"' in nav) == (path in allowed), path
            assert client.get(path).status_code == (200 if path in allowed else 403), path


def test_an_admin_adds_and_edits_a_warehouse_and_its_secret_never_appears(
    hub: Hub, browser: TestClient
) -> None:
    sign_in(browser, "admin")
    secret = "WMS-SECRET-9d2e"
    form = {
        "code": "WH-EAST",
        "name": "East",
        "wms": "qimen",
        "base_url": "http://127.0.0.1:9/router",
        "app_key": "east-key",
        "secret": secret,
        "customer_id": "C001",
        "rate_per_s": "20",
        "csrftoken": csrf(browser),
    }
    refused = browser.post("/warehouses", data={**form, "base_url": "ftp://x"})
    assert refused.status_code == 422 and "is not an http(s) URL" in text_of(refused.text)
    assert 'value="east-key"' in refused.text  # the rest of the form is kept
    added = browser.post("/warehouses", data=form, headers=HTMX)
    assert added.status_code == 200 and "Warehouse WH-EAST added." in added.text

    edit = browser.get("/warehouses/WH-EAST")
    assert 'value="C001"' in edit.text and "A secret is stored." in edit.text
    saved = browser.post(
        "/warehouses/WH-EAST",
        data={**form, "name": "East DC", "secret": "", "enabled": "false"},
    )
    assert saved.status_code == 200 and "Warehouse WH-EAST saved." in saved.text
    stored = warehouses.get_warehouse(hub.uow.read_only(), "WH-EAST", actor=SETUP)
    assert (stored.name, stored.enabled) == ("East DC", False)
    # An empty secret field keeps the stored secret.
    assert stored.credentials == WmsCredentials("east-key", secret, "C001")
    for page in (refused, added, edit, saved, browser.get("/warehouses")):
        assert secret not in page.text


def test_a_role_without_warehouse_manage_reads_warehouses_without_forms(
    hub: Hub, browser: TestClient
) -> None:
    warehouses.create_warehouse(hub.uow(), hub.wms, actor=SETUP, code="WH-MAIN", name="Main")
    sign_in(browser, "supervisor")
    listed = browser.get("/warehouses").text
    assert "WH-MAIN" in listed and 'action="/warehouses"' not in listed
    assert 'action="/warehouses/WH-MAIN"' not in browser.get("/warehouses/WH-MAIN").text
    token = csrf(browser)
    assert browser.post("/warehouses", data={"code": "X", "csrftoken": token}).status_code == 403
    change = browser.post("/warehouses/WH-MAIN", data={"name": "Y", "csrftoken": token})
    assert change.status_code == 403


def test_goods_in_and_a_count_correction_show_in_the_levels_and_the_ledger(
    hub: Hub, browser: TestClient
) -> None:
    catalogue.add_product(hub.uow(), actor=SETUP, sku="MUG-350", title="Mug")
    sign_in(browser, "warehouse")
    token = csrf(browser)
    received = browser.post(
        "/stock/receive",
        data={
            "sku": "MUG-350",
            "warehouse": "WH-MAIN",
            "quantity": "12",
            "reason": "supplier delivery",
            "reference": "DN-001",
            "csrftoken": token,
        },
        headers=HTMX,
    )
    assert received.status_code == 200
    assert "MUG-350 in WH-MAIN: on hand 12, available 12." in received.text
    adjusted = browser.post(
        "/stock/adjust",
        data={
            "sku": "MUG-350",
            "warehouse": "WH-MAIN",
            "delta": "-2",
            "reason": "stocktake",
            "csrftoken": token,
        },
    )
    assert adjusted.status_code == 200 and "on hand 10, available 10." in adjusted.text

    levels = text_of(browser.get("/stock", params={"warehouse": "WH-MAIN"}).text)
    assert "MUG-350 WH-MAIN 10 0 10" in levels
    ledger = text_of(browser.get("/stock/MUG-350").text)
    assert "Goods in" in ledger and "+12" in ledger and "DN-001" in ledger
    assert "Count corrected" in ledger and "-2" in ledger and "stocktake" in ledger

    unknown = browser.post(
        "/stock/receive",
        data={"sku": "NOPE", "warehouse": "WH-MAIN", "quantity": "1", "reason": "x"}
        | {"csrftoken": token},
    )
    assert unknown.status_code == 422 and "is not a merchant SKU" in text_of(unknown.text)
    not_a_number = browser.post(
        "/stock/adjust",
        data={"sku": "MUG-350", "warehouse": "WH-MAIN", "delta": "two", "reason": "x"}
        | {"csrftoken": token},
    )
    assert not_a_number.status_code == 422 and "'two' is not a whole number" in text_of(
        not_a_number.text
    )


def test_a_role_without_stock_adjust_sees_stock_but_no_forms_and_is_refused(
    hub: Hub, browser: TestClient
) -> None:
    sign_in(browser, "customer_service")
    page = browser.get("/stock").text
    assert 'action="/stock/receive"' not in page and 'action="/stock/adjust"' not in page
    refused = browser.post(
        "/stock/receive",
        data={"sku": "MUG-350", "warehouse": "WH-MAIN", "quantity": "1", "reason": "x"}
        | {"csrftoken": csrf(browser)},
    )
    assert refused.status_code == 403


def test_the_fulfilment_pages_and_labels_speak_chinese(hub: Hub, browser: TestClient) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    sign_in(browser, "admin")
    browser.get("/lang/zh_CN", params={"next": "/outbox"})
    outbox_page = browser.get("/outbox").text
    assert "出站消息" in outbox_page and "死信" in outbox_page
    assert "重试" in browser.get(f"/outbox/{dead}").text
    assert "添加仓库" in browser.get("/warehouses").text
    assert "入库" in browser.get("/stock").text and "修正库存" in browser.get("/stock").text
    zh = i18n.translations("zh_CN")
    assert zh.gettext(labels.ACTION["intercept"]) == "拦截"
    new_names = [
        labels.ACTION["intercepted"],
        *(labels.REASON[r] for r in ("intercepting", "wms_refused")),
        *(labels.REASON[r] for r in ("channel_refused_shipment", "delivery_failed")),
        *(labels.EVENT[e] for e in ("channel_shipped", "wms_accepted", "wms_packed")),
        labels.EVENT["delivery_problem"],
    ]
    assert [name for name in new_names if zh.gettext(name) == name] == []
