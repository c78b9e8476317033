"""The console's channel pages through HTTP: shops (add, pull, reconcile), the quarantine
(list, payload, replay, discard), SKUs and mappings, and who may see each."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.shops import Credentials
from orderhub.domain.transitions import OrderStatus
from orderhub.integrations.channels.connect import Channels
from orderhub.integrations.channels.registry import SimulatorOptions, channel
from orderhub.integrations.channels.simkit import CATALOGUE, RunningServer
from orderhub.permissions import permissions_of
from orderhub.services import catalogue, orders, quarantine, shops
from orderhub.services.channel_ingest import ingest_payloads
from tests.conftest import console_hub

PASSWORD = "correct horse"
SETUP = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))
SIM_SECRET = "sim-app-secret"
SHOP = "taobao-shop"
ROLES = ("admin", "operator", "warehouse", "customer_service")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ROLES, PASSWORD) as hub:
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


@pytest.fixture
def taobao() -> Iterator[RunningServer]:
    server = RunningServer(
        channel("taobao").make_simulator(
            SimulatorOptions(app_key="k", app_secret=SIM_SECRET, access_token="t", seed=7)
        )
    ).start()
    yield server
    server.stop()


def sign_in(client: TestClient, username: str) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrftoken": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def csrf(client: TestClient) -> str:
    token = client.cookies.get("csrftoken")
    assert token
    return token


def text_of(page: str) -> str:
    """The page's visible words, tags dropped and whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def add_shop(hub: Hub, server: RunningServer) -> None:
    shops.create_shop(
        hub.uow(),
        hub.channels,
        actor=SETUP,
        code=SHOP,
        channel="taobao",
        name="Taobao flagship",
        base_url=server.url,
        credentials=Credentials("k", SIM_SECRET, "t"),
    )


def all_skus(hub: Hub) -> None:
    for sku, title, _, _ in CATALOGUE:
        catalogue.add_product(hub.uow(), actor=SETUP, sku=sku, title=title)


def new_channel_orders(server: RunningServer, count: int) -> list[str]:
    created = httpx.post(f"{server.url}/_sim/orders", json={"count": count}).json()["created"]
    return [str(no) for no in created]


def channel_payload(hub: Hub, server: RunningServer) -> dict[str, Any]:
    """A real Taobao trade, as the simulator's TOP API serves it."""
    no = new_channel_orders(server, 1)[0]
    with hub.uow.read_only() as uow:
        shop = uow.shops.get(SHOP)
    payload = hub.channels.client(shop).fetch_order(no)
    assert payload is not None
    return payload


def ingest(hub: Hub, payload: dict[str, Any]) -> Any:
    return ingest_payloads(
        hub.uow,
        channel="taobao",
        shop=SHOP,
        mapping=hub.channels.mapping("taobao"),
        payloads=[payload],
        source="test",
        review_required=True,
    )[0]


def quarantined_entry(hub: Hub, server: RunningServer, **extra: Any) -> int:
    add_shop(hub, server)
    all_skus(hub)
    payload = channel_payload(hub, server)
    payload["payment"] = "12.3x"
    payload.update(extra)
    assert ingest(hub, payload).outcome == "quarantined"
    entry_id = quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].id
    assert entry_id is not None
    return entry_id


def test_an_admin_adds_a_shop_and_its_secret_never_appears_on_any_page(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    sign_in(browser, "admin")
    secret, token = "APP-SECRET-4f9a", "ACCESS-TOKEN-77c1"
    form = {
        "code": "tmall-flagship",
        "channel": "taobao",
        "name": "Tmall flagship",
        "base_url": taobao.url,
        "app_key": "k",
        "app_secret": secret,
        "access_token": token,
        "csrftoken": csrf(browser),
    }
    refused = browser.post("/shops", data={**form, "base_url": "ftp://nowhere"})
    added = browser.post("/shops", data=form)
    pages = [refused, added] + [browser.get(p) for p in ("/shops", "/quarantine", "/skus")]
    assert refused.status_code == 422 and "must start with http:// or https://" in refused.text
    assert 'value="Tmall flagship"' in refused.text  # the rest of the form is kept
    assert added.status_code == 200 and "Shop tmall-flagship added." in added.text
    assert "Tmall flagship" in pages[2].text
    for page in pages:
        assert secret not in page.text and token not in page.text
    stored = shops.get_shop(hub.uow.read_only(), "tmall-flagship", actor=SETUP)
    assert (stored.credentials.app_secret, stored.credentials.access_token) == (secret, token)


def test_an_admin_disables_and_enables_a_shop(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    sign_in(browser, "admin")
    disabled = browser.post(
        f"/shops/{SHOP}/enabled", data={"enabled": "false", "csrftoken": csrf(browser)}
    )
    assert f"Shop {SHOP} disabled." in disabled.text
    assert not shops.get_shop(hub.uow.read_only(), SHOP, actor=SETUP).enabled
    browser.post(f"/shops/{SHOP}/enabled", data={"enabled": "true", "csrftoken": csrf(browser)})
    assert shops.get_shop(hub.uow.read_only(), SHOP, actor=SETUP).enabled


def test_an_operator_pulls_a_shop_and_sees_the_outcome_counts(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    all_skus(hub)
    new_channel_orders(taobao, 3)
    sign_in(browser, "operator")
    listing = browser.get("/shops").text
    assert "Pull now" in listing and "Reconcile" in listing
    assert "Add a shop" not in listing and "Disable" not in listing  # shop.manage is admin's
    response = browser.post(f"/shops/{SHOP}/pull", data={"csrftoken": csrf(browser)})
    assert response.status_code == 200
    words = text_of(response.text)
    assert f"Pulled {SHOP}" in words
    assert "3 orders in 1 pages" in words and "created: 3" in words
    again = text_of(browser.post(f"/shops/{SHOP}/pull", data={"csrftoken": csrf(browser)}).text)
    assert "ignored (not newer): 3" in again  # the overlap window brings them again
    assert shops.get_shop(hub.uow.read_only(), SHOP, actor=SETUP).last_sync_at is not None


def test_a_pull_the_channel_does_not_answer_says_why_and_keeps_the_cursor(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    taobao.stop()
    sign_in(browser, "operator")
    response = browser.post(f"/shops/{SHOP}/pull", data={"csrftoken": csrf(browser)})
    assert response.status_code == 200
    assert "The channel did not answer; the cursor stays where it was:" in response.text
    shop = shops.get_shop(hub.uow.read_only(), SHOP, actor=SETUP)
    assert shop.cursor_at is None and shop.last_error
    assert shop.last_error in html.unescape(browser.get("/shops").text)


def test_reconcile_backfills_the_missing_and_says_channel_total_equals_pool_plus_quarantine(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    entry_id = quarantined_entry(hub, taobao)
    broken_no = quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].channel_order_no
    missing = new_channel_orders(taobao, 2)
    sign_in(browser, "operator")
    response = browser.post(
        f"/shops/{SHOP}/reconcile", data={"window": "1d", "csrftoken": csrf(browser)}
    )
    assert response.status_code == 200, response.text
    words = text_of(response.text)
    assert "Channel total 3 = in pool 2 + in quarantine 1 complete" in words
    assert f"Missing before backfill {', '.join(sorted(missing))}" in words
    assert f"Backfilled {', '.join(sorted(missing))}" in words
    # The quarantined one is accounted for, so it is neither missing nor fetched again.
    assert broken_no is not None and broken_no not in words
    assert quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].id == entry_id


def test_reconcile_refuses_a_window_it_does_not_offer(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    sign_in(browser, "operator")
    response = browser.post(
        f"/shops/{SHOP}/reconcile", data={"window": "99y", "csrftoken": csrf(browser)}
    )
    assert response.status_code == 422 and "window &#39;99y&#39; is not offered" in response.text


def test_a_quarantined_payload_is_listed_with_its_field_and_reason_and_shown_escaped(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    entry_id = quarantined_entry(hub, taobao, buyer_message="<script>alert('x')</script>")
    sign_in(browser, "customer_service")  # quarantine.read, not quarantine.manage
    listing = browser.get("/quarantine")
    assert listing.status_code == 200
    assert "amounts.paid_total" in listing.text
    assert "&#39;12.3x&#39; is not a decimal amount" in listing.text
    assert f'href="/quarantine/{entry_id}"' in listing.text
    detail = browser.get(f"/quarantine/{entry_id}")
    assert detail.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in detail.text
    assert "<script>alert" not in detail.text
    assert "&#34;payment&#34;: &#34;12.3x&#34;" in detail.text  # pretty JSON, as received
    assert "Replay" not in text_of(detail.text) and "Discard" not in text_of(detail.text)
    discarded = browser.get("/quarantine", params={"status": "discarded"}).text
    assert f'href="/quarantine/{entry_id}"' not in discarded


def test_discarding_a_quarantined_payload_needs_a_reason(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    entry_id = quarantined_entry(hub, taobao)
    sign_in(browser, "operator")
    without = browser.post(
        f"/quarantine/{entry_id}/discard", data={"reason": "  ", "csrftoken": csrf(browser)}
    )
    assert without.status_code == 422 and "say why the payload is discarded" in without.text
    assert quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].status == "open"
    done = browser.post(
        f"/quarantine/{entry_id}/discard",
        data={"reason": "a test order", "csrftoken": csrf(browser)},
    )
    assert done.status_code == 200 and f"Entry {entry_id} discarded." in done.text
    assert "a test order (operator)" in done.text
    assert quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP) == []
    listed = browser.get("/quarantine", params={"status": "discarded"}).text
    assert f'href="/quarantine/{entry_id}"' in listed


def test_replaying_a_payload_that_still_does_not_fit_says_so_and_keeps_it_open(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    entry_id = quarantined_entry(hub, taobao)
    sign_in(browser, "operator")
    response = browser.post(f"/quarantine/{entry_id}/replay", data={"csrftoken": csrf(browser)})
    assert response.status_code == 200
    assert "It still does not fit." in response.text
    entry = quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0]
    assert (entry.id, entry.status, entry.attempts) == (entry_id, "open", 2)


def test_replaying_after_the_mapping_is_fixed_links_the_order_it_made(
    hub: Hub, browser: TestClient, taobao: RunningServer, tmp_path: Path
) -> None:
    hub.channels = Channels(tmp_path)
    add_shop(hub, taobao)
    all_skus(hub)
    payload = channel_payload(hub, taobao)
    payload["status"] = "WAIT_FOR_GROUP_SUCCESS"  # a word the mapping does not know yet
    assert ingest(hub, payload).outcome == "quarantined"
    entry_id = quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].id
    (tmp_path / "taobao.yaml").write_text(
        "fields:\n  status:\n    map:\n      WAIT_FOR_GROUP_SUCCESS: paid\n", encoding="utf-8"
    )
    hub.channels.reload()
    sign_in(browser, "operator")
    response = browser.post(
        f"/quarantine/{entry_id}/replay",
        data={"csrftoken": csrf(browser)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.startswith('<div id="entry-main"')  # htmx: only the page's main part
    order_id = quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP, status="replayed")[
        0
    ].order_id
    assert "Replayed: created." in response.text
    assert f'<a href="/orders/{order_id}">Open order #{order_id}</a>' in response.text
    assert 'action="/quarantine/' not in response.text  # closed: no more replay or discard


def test_a_warehouse_user_sees_no_channel_links_and_is_refused_the_pages(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    entry_id = quarantined_entry(hub, taobao)
    sign_in(browser, "warehouse")
    board = browser.get("/orders").text
    for path in ("/shops", "/quarantine", "/skus"):
        assert f'href="{path}"' not in board
        assert browser.get(path).status_code == 403
    assert browser.get(f"/quarantine/{entry_id}").status_code == 403
    token = csrf(browser)
    for path, data in (
        (f"/shops/{SHOP}/pull", {}),
        (f"/quarantine/{entry_id}/discard", {"reason": "no"}),
        ("/sku-mappings", {"channel": "taobao", "channel_sku": "X", "merchant_sku": "MUG-350"}),
    ):
        assert browser.post(path, data={**data, "csrftoken": token}).status_code == 403
    assert quarantine.list_quarantine(hub.uow.read_only(), actor=SETUP)[0].status == "open"
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as operator:
        sign_in(operator, "operator")
        nav = operator.get("/orders").text
    assert all(f'href="{p}"' in nav for p in ("/shops", "/quarantine", "/skus"))


def test_adding_a_sku_mapping_releases_a_waiting_order(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    all_skus(hub)
    payload = channel_payload(hub, taobao)
    payload["orders"]["order"][0]["outer_sku_id"] = "TB-OLD-CODE-1"
    order_id = ingest(hub, payload).order_id
    waiting = orders.get_order(hub.uow.read_only(), order_id, actor=SETUP)
    assert (waiting.status, waiting.exception_reason) == (OrderStatus.EXCEPTION, "unmapped_sku")
    sign_in(browser, "operator")
    response = browser.post(
        "/sku-mappings",
        data={
            "channel": "taobao",
            "shop": "",
            "channel_sku": "TB-OLD-CODE-1",
            "merchant_sku": "MUG-350",
            "csrftoken": csrf(browser),
        },
    )
    assert response.status_code == 200
    assert "Mapping added: TB-OLD-CODE-1 → MUG-350. Waiting orders released: 1." in response.text
    assert f'href="/orders/{order_id}"' in response.text
    assert orders.get_order(hub.uow.read_only(), order_id, actor=SETUP).status is (
        OrderStatus.PENDING_REVIEW
    )
    listed = text_of(browser.get("/skus").text)
    assert "taobao every shop TB-OLD-CODE-1 MUG-350" in listed


def test_a_combo_product_is_added_with_its_components_and_an_unknown_component_is_refused(
    hub: Hub, browser: TestClient
) -> None:
    for sku in ("TEA-250", "MUG-350"):
        catalogue.add_product(hub.uow(), actor=SETUP, sku=sku, title=sku)
    sign_in(browser, "operator")
    combo = {
        "sku": "GIFT-SET",
        "title": "礼盒",
        "component_sku": ["TEA-250", "MUG-350", "", ""],
        "component_quantity": ["1", "2", "1", "1"],
        "component_weight": ["32800", "3900", "1", "1"],
        "csrftoken": csrf(browser),
    }
    refused = browser.post("/skus", data={**combo, "component_sku": ["NOPE", "", "", ""]})
    assert refused.status_code == 422 and "components NOPE are not SKUs yet" in refused.text
    added = browser.post("/skus", data=combo, follow_redirects=False)
    assert added.status_code == 303
    words = text_of(browser.get("/skus").text)
    assert "Product GIFT-SET added." in words
    assert "GIFT-SET 礼盒 TEA-250 × 1 (weight 32800) MUG-350 × 2 (weight 3900)" in words


def test_the_channel_pages_speak_chinese(
    hub: Hub, browser: TestClient, taobao: RunningServer
) -> None:
    add_shop(hub, taobao)
    sign_in(browser, "admin")
    browser.get("/lang/zh_CN", params={"next": "/shops"})
    shops_page = browser.get("/shops").text
    assert "立即拉取" in shops_page and "添加店铺" in shops_page
    assert "隔离区" in browser.get("/quarantine").text
    assert "渠道 SKU 映射" in browser.get("/skus").text
