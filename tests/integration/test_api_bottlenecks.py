"""The bottleneck report over HTTP (the API and the console page) and from the CLI, on SQLite and
PostgreSQL, on the known data set of bottlenecks_kit.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from orderhub.bootstrap import Hub
from orderhub.cli import app
from tests.conftest import TEST_CREDENTIALS_KEY, ApiUser
from tests.integration.bottlenecks_kit import Flow, H, make_flow

Users = Callable[[str], ApiUser]
URL = "/api/v1/reports/bottlenecks"


@pytest.fixture
def flow(hub: Hub) -> Flow:
    return make_flow(hub)


def test_the_api_names_the_slowest_step_with_exact_percentiles(
    flow: Flow, api: TestClient, user_for: Users
) -> None:
    warehouse = user_for("warehouse")
    response = api.get(URL, params={"since": "1d", "by": "warehouse"}, headers=warehouse.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["slowest_step"]["step"] == "sent_to_warehouse"
    assert (body["slowest_step"]["p90_s"], body["slowest_step"]["count"]) == (9 * H, 10)
    assert body["slowest_hop"]["step"] == "handoff_to_shipped"
    wh2 = [s for s in body["segments"] if (s["step"], s["segment"]) == ("sent_to_warehouse", "WH2")]
    assert wh2[0]["p50_s"] == 8 * H
    slowest = [s for s in body["slowest_orders"] if s["step"] == "sent_to_warehouse"]
    assert slowest[0]["order_id"] == flow.ids[10] and slowest[0]["status"] == "shipped"


def test_the_api_takes_states_repeated_or_with_commas(
    flow: Flow, api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    repeated = api.get(
        URL, params=[("state", "on_hold"), ("state", "exception")], headers=op.headers
    )
    commas = api.get(URL, params={"state": "on_hold,exception"}, headers=op.headers)
    assert [s["step"] for s in repeated.json()["steps"]] == ["on_hold", "exception"]
    assert commas.json()["steps"] == repeated.json()["steps"]


def test_the_api_refuses_without_report_read_and_explains_bad_input(
    flow: Flow, api: TestClient, user_for: Users
) -> None:
    refused = api.get(URL, headers=user_for("agent").headers)
    assert refused.status_code == 403
    assert "report.read" in refused.json()["detail"]
    bad = api.get(URL, params={"since": "last week"}, headers=user_for("operator").headers)
    assert bad.status_code == 422
    assert "30m, 12h, 1d" in bad.json()["detail"]


def _sign_in(client: TestClient, user: ApiUser) -> None:
    client.get("/login")
    token = client.cookies.get("csrftoken")
    assert token
    signed = client.post(
        "/login",
        data={"username": user.username, "password": "correct horse", "csrftoken": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_the_console_page_charts_the_states_and_calls_out_the_slowest(
    flow: Flow, api: TestClient, user_for: Users
) -> None:
    _sign_in(api, user_for("customer_service"))
    page = api.get("/bottlenecks?since=1d&by=tag", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Slowest step: Sent to warehouse." in html
    assert '<svg class="dwell-chart"' in html and 'aria-labelledby="states-chart-title"' in html
    assert f'href="/orders/{flow.ids[10]}"' in html
    assert ">vip<" in html
    assert 'href="/bottlenecks"' in html  # the nav entry


def test_the_console_page_speaks_chinese(flow: Flow, api: TestClient, user_for: Users) -> None:
    _sign_in(api, user_for("supervisor"))
    html = api.get("/bottlenecks", headers={"Accept-Language": "zh-CN"}).text
    assert "最慢的环节" in html


def test_the_console_page_is_refused_and_hidden_without_report_read(
    flow: Flow, api: TestClient, user_for: Users
) -> None:
    _sign_in(api, user_for("agent"))
    assert api.get("/bottlenecks").status_code == 403
    assert 'href="/bottlenecks"' not in api.get("/orders").text


def test_the_cli_prints_the_report_and_its_json(flow: Flow, database_url: str) -> None:
    env = {
        "ORDERHUB_DATABASE_URL": database_url,
        "ORDERHUB_CREDENTIALS_KEY": TEST_CREDENTIALS_KEY,
        "ORDERHUB_SECRET_KEY": "cli-test",
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    runner = CliRunner()
    # The CLI reads the real clock; the data set happened on 2026-11-11, so ask from then on.
    since = ["--since", "2026-11-10T00:00:00+00:00"]
    shown = runner.invoke(app, ["bottlenecks", *since, "--by", "shop"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Slowest step: sent_to_warehouse (p90 9h 00m, 10 orders" in shown.output
    assert "By shop" in shown.output and "east" in shown.output
    as_json = runner.invoke(app, ["bottlenecks", *since, "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert '"slowest_step":{"kind":"state","step":"sent_to_warehouse"' in as_json.output
    bad = runner.invoke(app, ["bottlenecks", "--by", "colour"], env=env)
    assert bad.exit_code == 2 and "use one of: channel, shop" in bad.output
