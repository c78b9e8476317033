"""The ops console through HTTP: sign-in, board, order page, actions, CSRF, languages, and the
rule that every route on the app declares who may call it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from orderhub.access import PUBLIC, Requires
from orderhub.app import create_app, fastapi_app
from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.permissions import ACTION_PERMISSIONS, ROLES, Permission, permissions_of
from orderhub.services import orders
from orderhub.web import labels
from orderhub.web.order_forms import PAGE_SIZE
from tests.conftest import console_hub
from tests.factories import an_order

PASSWORD = "correct horse"
SETUP = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))
# Routes that are not APIRoutes and so cannot declare a dependency: the static files and
# FastAPI's own documentation pages. Anything else missing a declaration fails the test.
UNDECLARED_BY_DESIGN: dict[str, type] = {
    "/static": Mount,
    "/openapi.json": Route,
    "/docs": Route,
    "/docs/oauth2-redirect": Route,
    "/redoc": Route,
}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ("operator", "supervisor"), PASSWORD) as hub:
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    """A client that behaves like an English-speaking browser (cookies, Accept-Language)."""
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrftoken": csrf(client)},
        follow_redirects=False,
    )


def csrf(client: TestClient) -> str:
    token = client.cookies.get("csrftoken")
    assert token, "the login page sets the csrftoken cookie"
    return token


@pytest.fixture
def new_order(hub: Hub) -> Callable[..., int]:
    def make(no: str = "T-1", *actions: tuple[Action, dict[str, Any]]) -> int:
        order = orders.create_order(
            hub.uow(), an_order(channel_order_no=no), actor=SETUP, review_required=True
        ).order
        assert order.id is not None
        for action, kwargs in actions:
            orders.apply_action(
                hub.uow(), order.id, action, actor=SETUP, review_required=True, **kwargs
            )
        return order.id

    return make


def status_of(hub: Hub, order_id: int) -> OrderStatus:
    return orders.get_order(hub.uow(), order_id, actor=SETUP).status


def action_forms(html: str) -> set[str]:
    return set(re.findall(r'<form method="post" action="/orders/\d+/actions/(\w+)"', html))


def test_signing_in_with_the_right_password_opens_the_board(browser: TestClient) -> None:
    response = sign_in(browser, "operator")
    assert response.status_code == 303
    assert response.headers["location"] == "/orders"
    board = browser.get("/orders")
    assert board.status_code == 200
    assert "Order status board" in board.text


def test_a_wrong_password_is_refused_without_hinting_which_part_was_wrong(
    browser: TestClient,
) -> None:
    wrong_password = sign_in(browser, "operator", "not the password")
    unknown_user = sign_in(browser, "nobody", PASSWORD)
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "The username or password is incorrect." in response.text
    assert browser.get("/orders", follow_redirects=False).status_code == 303


def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_site(
    browser: TestClient,
) -> None:
    first = browser.get("/orders/7?x=1", follow_redirects=False)
    assert first.headers["location"] == "/login?next=/orders/7%3Fx%3D1"
    browser.get("/login")
    for target, expected in (
        ("/orders/7?x=1", "/orders/7?x=1"),
        ("https://evil.example/", "/orders"),
        ("//evil.example/", "/orders"),
    ):
        response = browser.post(
            "/login",
            data={
                "username": "operator",
                "password": PASSWORD,
                "next": target,
                "csrftoken": csrf(browser),
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_signing_out_ends_the_session(browser: TestClient) -> None:
    sign_in(browser, "operator")
    response = browser.post("/logout", data={"csrftoken": csrf(browser)}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert browser.get("/orders", follow_redirects=False).headers["location"].startswith("/login")


def test_the_board_counts_orders_per_status_and_per_exception_reason(
    browser: TestClient, new_order: Callable[..., int]
) -> None:
    new_order("T-1")
    new_order("T-2")
    new_order("T-3", (Action.PAY, {}))
    new_order(
        "T-4",
        (Action.PAY, {}),
        (Action.HOLD, {"reason_code": ExceptionReason.OUT_OF_STOCK.value}),
    )
    sign_in(browser, "operator")
    html = browser.get("/orders").text
    chips = dict(re.findall(r'class="chip[^>]*>\s*([^<]+?) <span class="count">(\d+)</span>', html))
    assert chips["All"] == "4"
    assert chips["Pending payment"] == "2"
    assert chips["Pending review"] == "1"
    assert chips["On hold"] == "1"
    assert chips["Out of stock"] == "1"
    assert 'href="/orders?exception_reason=out_of_stock"' in html


def test_the_board_filters_by_order_number(
    browser: TestClient, new_order: Callable[..., int]
) -> None:
    new_order("FIND-ME-1")
    new_order("OTHER-2")
    sign_in(browser, "operator")
    html = browser.get("/orders", params={"q": "FIND-ME"}).text
    assert "FIND-ME-1" in html
    assert "OTHER-2" not in html


def test_the_next_page_link_continues_the_list_with_the_same_filters(
    browser: TestClient, new_order: Callable[..., int]
) -> None:
    for n in range(PAGE_SIZE + 5):
        new_order(f"PAGE-{n:03d}")
    sign_in(browser, "operator")
    first = browser.get("/orders", params={"q": "PAGE-"})
    assert first.status_code == 200
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url is not None
    second = browser.get(next_url.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "PAGE-000" in second.text and "PAGE-054" not in second.text
    assert 'rel="next"' not in second.text


def test_a_bad_filter_value_is_explained_on_a_page_not_in_json(browser: TestClient) -> None:
    sign_in(browser, "operator")
    response = browser.get("/orders", params={"created_from": "yesterday"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "is not a date; use YYYY-MM-DD" in response.text


def test_an_operator_sees_no_void_button_but_a_supervisor_does(
    hub: Hub, browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1", (Action.PAY, {}))
    sign_in(browser, "operator")
    as_operator = action_forms(browser.get(f"/orders/{order_id}").text)
    assert "void" not in as_operator
    assert {"approve", "cancel", "hold"} <= as_operator
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as supervisor:
        sign_in(supervisor, "supervisor")
        page = supervisor.get(f"/orders/{order_id}").text
    assert "void" in action_forms(page)
    assert ">Void</button>" in page


def test_the_order_page_shows_only_actions_allowed_from_its_state(
    browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1")
    sign_in(browser, "operator")
    # From pending_payment: pay, cancel, raise_exception are allowed; void is not permitted.
    assert action_forms(browser.get(f"/orders/{order_id}").text) == {
        "pay",
        "cancel",
        "raise_exception",
    }


def test_a_post_without_the_csrf_token_is_refused(
    hub: Hub, browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1")
    sign_in(browser, "operator")
    refused = browser.post(f"/orders/{order_id}/actions/pay", data={"payment_method": "alipay"})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text and "表单已过期" in refused.text
    assert status_of(hub, order_id) is OrderStatus.PENDING_PAYMENT
    api_call = browser.post(f"/api/v1/orders/{order_id}/actions/pay")
    assert api_call.status_code == 403 and api_call.json()["code"] == "csrf_failed"
    assert status_of(hub, order_id) is OrderStatus.PENDING_PAYMENT
    accepted = browser.post(
        f"/orders/{order_id}/actions/pay",
        data={"payment_method": "alipay", "csrftoken": csrf(browser)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert status_of(hub, order_id) is OrderStatus.PENDING_REVIEW


def test_an_operator_posting_void_is_refused_and_nothing_changes(
    hub: Hub, browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1", (Action.PAY, {}))
    events_before = len(orders.get_timeline(hub.uow(), order_id, actor=SETUP).events)
    sign_in(browser, "operator")
    response = browser.post(
        f"/orders/{order_id}/actions/void", data={"reason": "test", "csrftoken": csrf(browser)}
    )
    assert response.status_code == 403
    assert "lacks the permission &#39;order.void&#39;" in response.text
    assert status_of(hub, order_id) is OrderStatus.PENDING_REVIEW
    assert len(orders.get_timeline(hub.uow(), order_id, actor=SETUP).events) == events_before


def test_an_illegal_action_shows_its_detail_on_the_order_page(
    hub: Hub, browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1")
    sign_in(browser, "operator")
    response = browser.post(
        f"/orders/{order_id}/actions/approve", data={"csrftoken": csrf(browser)}
    )
    assert response.status_code == 409
    assert "Action not allowed in this state" in response.text
    assert "&#39;approve&#39; is not allowed from there" in response.text
    assert f"Order #{order_id}" in response.text


def test_an_action_from_htmx_rerenders_only_the_order_part(
    browser: TestClient, new_order: Callable[..., int]
) -> None:
    order_id = new_order("T-1")
    sign_in(browser, "operator")
    response = browser.post(
        f"/orders/{order_id}/actions/pay",
        data={"csrftoken": csrf(browser)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.startswith('<div id="order-main"')
    assert "Pay: done." in response.text


def test_a_batch_applies_each_order_alone_so_one_refusal_keeps_the_others(
    hub: Hub, browser: TestClient, new_order: Callable[..., int]
) -> None:
    unpaid, paid = new_order("T-1"), new_order("T-2", (Action.PAY, {}))
    sign_in(browser, "operator")
    response = browser.post(
        "/orders/batch",
        data={"action": "pay", "order_ids": [str(unpaid), str(paid)], "csrftoken": csrf(browser)},
    )
    assert response.status_code == 200
    assert "1 succeeded, 1 failed" in response.text
    assert "is pending_review; &#39;pay&#39; is not allowed" in response.text
    assert status_of(hub, unpaid) is OrderStatus.PENDING_REVIEW


def test_the_language_switch_gives_chinese_text(browser: TestClient) -> None:
    sign_in(browser, "operator")
    assert '<html lang="en">' in browser.get("/orders").text
    response = browser.get("/lang/zh_CN", params={"next": "/orders"})
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "订单看板" in response.text
    assert "Order status board" not in response.text


def test_without_a_choice_the_browser_language_decides_and_else_the_default(hub: Hub) -> None:
    app = create_app(hub)
    for header, expected in (
        ({"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ({"Accept-Language": "zh-TW,zh;q=0.9"}, "zh-CN"),
        ({"Accept-Language": "fr, en;q=0.5"}, "en"),
        ({}, "zh-CN"),  # ORDERHUB_DEFAULT_LOCALE's default
    ):
        with TestClient(app, headers=header) as client:
            assert f'<html lang="{expected}">' in client.get("/login").text


def test_an_unknown_order_gets_a_friendly_page_and_htmx_a_fragment(browser: TestClient) -> None:
    sign_in(browser, "operator")
    page = browser.get("/orders/999")
    assert page.status_code == 404
    assert "<html" in page.text and "Traceback" not in page.text
    fragment = browser.get("/orders/999", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert fragment.text.startswith('<div class="alert error"')
    assert fragment.headers["HX-Retarget"] == "#messages"


def test_an_expired_session_under_htmx_sends_the_browser_to_the_login_page(
    browser: TestClient,
) -> None:
    response = browser.get(
        "/orders",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/orders?q=1"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/orders%3Fq%3D1"


def _declares_permission(dependant: Any) -> bool:
    return any(
        isinstance(dep.call, Requires) or dep.call is PUBLIC or _declares_permission(dep)
        for dep in dependant.dependencies
    )


def test_an_unexpected_failure_shows_a_friendly_page_without_a_stack_trace(
    hub: Hub, new_order: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = new_order("T-1")

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(orders, "get_timeline", broken)
    with TestClient(
        create_app(hub), raise_server_exceptions=False, headers={"Accept-Language": "en"}
    ) as client:
        sign_in(client, "operator")
        page = client.get(f"/orders/{order_id}")
        api_call = client.get(f"/api/v1/orders/{order_id}/timeline")
    assert page.status_code == 500 and "reference" in page.text
    assert "disk on fire" not in page.text and "Traceback" not in page.text
    assert api_call.status_code == 500 and api_call.json()["code"] == "internal_error"
    assert "disk on fire" not in api_call.text


def test_every_route_declares_who_may_call_it(hub: Hub) -> None:
    app = fastapi_app(create_app(hub))
    undeclared: list[str] = []
    exempt_seen: set[str] = set()
    web_paths: set[str] = set()
    # FastAPI 0.165 keeps included routers as branches in app.routes; iter_route_contexts (what
    # FastAPI's OpenAPI generator walks) flattens them, with router-level dependencies merged
    # into each route's dependant.
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, str(context.path)
        if isinstance(route, APIRoute):
            web_paths.add(path)
            if not _declares_permission(context.dependant):
                undeclared.append(f"{sorted(context.methods or ())} {path}")
            continue
        assert isinstance(route, UNDECLARED_BY_DESIGN.get(path, ())), (
            f"{path} ({type(route).__name__}) is not an APIRoute and not a listed exception"
        )
        exempt_seen.add(path)
    assert undeclared == [], f"routes without Requires(...) or PUBLIC: {undeclared}"
    # The exceptions must all still exist, so the list cannot quietly grow stale.
    assert exempt_seen == set(UNDECLARED_BY_DESIGN)
    assert {"/login", "/orders", "/orders/{order_id:int}", "/orders/batch"} <= web_paths
    assert "/api/v1/orders" in web_paths


def test_the_route_check_would_catch_an_undeclared_route() -> None:
    def undeclared() -> None: ...

    def declared(_: Any = Depends(Requires(Permission.ORDER_READ))) -> None: ...

    router = APIRouter()
    router.get("/undeclared")(undeclared)
    router.get("/declared")(declared)
    router.get("/public", dependencies=[Depends(PUBLIC)])(undeclared)
    found = {
        str(c.path): _declares_permission(c.dependant) for c in iter_route_contexts(router.routes)
    }
    assert found == {"/undeclared": False, "/declared": True, "/public": True}


def test_the_console_doc_lists_every_button_with_its_permission_and_roles() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text("utf-8")
    for action, permission in ACTION_PERMISSIONS.items():
        roles = ", ".join(role for role, perms in ROLES.items() if permission in perms)
        row = f"| {labels.ACTION[action]} | `{action.value}` | `{permission.value}` | {roles} |"
        assert row in doc, f"docs/console.md lacks or misstates: {row}"
