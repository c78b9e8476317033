"""Orders from files on real databases: good orders in, bad rows quarantined with their row
numbers, totals that add up, re-imports that change nothing, the API and the CLI."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from typer.testing import CliRunner

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.transitions import OrderStatus
from orderhub.integrations.files import FileBook
from orderhub.permissions import permissions_of
from orderhub.services import catalogue, orders, quarantine
from orderhub.services.file_import import ImportReport, import_file
from tests.conftest import ApiUser

DATA = Path(__file__).resolve().parents[1] / "data" / "file_import"
SAMPLE = DATA / "offline_orders_utf8_bom.csv"
CLERK = Actor(
    id="clerk",
    name="clerk",
    kind=ActorKind.USER,
    role="operator",
    permissions=permissions_of("operator"),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAMP = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _skus(hub: Hub) -> None:
    admin = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))
    for sku, title in (("MUG-350", "马克杯 350ml"), ("TEE-M", "T恤 M"), ("CAP-1", "帽子")):
        catalogue.add_product(hub.uow(), actor=admin, sku=sku, title=title)


def _import(
    hub: Hub, data: bytes | Path = SAMPLE, *, stamp: datetime | None = STAMP, name: str = ""
) -> ImportReport:
    return import_file(
        hub.uow,
        FileBook(),
        path_or_bytes=data,
        filename=name or SAMPLE.name,
        shop="offline",
        actor=CLERK,
        review_required=True,
        file_modified_at=stamp,
    )


def _outcomes(report: ImportReport) -> dict[str | None, str]:
    return {o.order_no: o.outcome for o in report.orders}


def test_good_orders_go_in_and_bad_ones_are_quarantined_with_their_row_numbers(hub: Hub) -> None:
    report = _import(hub)
    assert _outcomes(report) == {
        "F1001": "created",
        "F1002": "created",
        "F1003": "quarantined",
        "F1004": "quarantined",
        "F1005": "created",
    }
    by_no = {o.order_no: o for o in report.orders}
    assert by_no["F1001"].rows == (2, 3) and by_no["F1001"].order_id is not None
    assert by_no["F1003"].reason is not None and by_no["F1003"].reason.startswith(
        "row 6: lines[1].unit_price"
    )
    assert "'12.3x' is not a decimal amount" in by_no["F1003"].reason
    assert by_no["F1004"].reason is not None
    assert by_no["F1004"].reason.startswith("row 7: receiver.phone")
    assert report.totals() == {
        "rows_read": 7,
        "rows_imported": 4,
        "rows_quarantined": 3,
        "balanced": True,
        "orders": {"created": 3, "updated": 0, "ignored": 0, "quarantined": 2},
    }
    first = orders.get_order(hub.uow.read_only(), by_no["F1001"].order_id, actor=CLERK)
    assert first.channel == "file" and first.shop == "offline"
    assert [(line.sku, line.quantity, line.unit_price) for line in first.lines] == [
        ("MUG-350", 2, 3990),
        ("TEE-M", 1, 5900),
    ]
    assert first.amounts.paid_total == 13880 and first.tags == ("线下", "VIP")
    assert first.created_at == datetime(2026, 11, 20, 6, 3, tzinfo=UTC)  # Asia/Shanghai 14:03
    unpaid_id = by_no["F1005"].order_id
    assert unpaid_id is not None
    unpaid = orders.get_order(hub.uow.read_only(), unpaid_id, actor=CLERK)
    assert unpaid.status is OrderStatus.PENDING_PAYMENT  # 已付款: 否
    kept = quarantine.list_quarantine(hub.uow.read_only(), actor=CLERK)
    assert sorted(q.channel_order_no or "" for q in kept) == ["F1003", "F1004"]
    assert all(q.channel == "file" and q.payload["_rows"] for q in kept)


def test_importing_the_same_file_twice_changes_nothing(hub: Hub) -> None:
    first = _import(hub)
    again = _import(hub)
    assert _outcomes(again) == {
        "F1001": "ignored",
        "F1002": "ignored",
        "F1003": "quarantined",
        "F1004": "quarantined",
        "F1005": "ignored",
    }
    assert [o.order_id for o in again.orders] == [o.order_id for o in first.orders]
    assert again.balanced and again.rows_imported == 4 and again.rows_quarantined == 3
    assert len(quarantine.list_quarantine(hub.uow.read_only(), actor=CLERK)) == 2
    waiting = {o.order_no: o.reason or "" for o in again.orders if o.outcome == "quarantined"}
    assert "unchanged since quarantine entry" in waiting["F1003"]
    assert waiting["F1003"].startswith("rows 5-6:")


def test_the_same_rows_uploaded_again_without_a_file_stamp_are_ignored(hub: Hub) -> None:
    data = SAMPLE.read_bytes()
    _import(hub, data, stamp=None)
    again = _import(hub, data, stamp=None)
    assert {o.outcome for o in again.orders if o.order_no in ("F1001", "F1002")} == {"ignored"}


def test_an_edited_file_updates_the_changed_order_and_ignores_the_rest(
    hub: Hub, tmp_path: Path
) -> None:
    _import(hub)
    edited = tmp_path / "edited.csv"
    text = SAMPLE.read_text(encoding="utf-8-sig").replace("文三路1号", "文三路9号")
    edited.write_text(text, encoding="utf-8-sig")
    report = _import(hub, edited, stamp=datetime(2026, 11, 24, tzinfo=UTC), name="edited.csv")
    outcomes = _outcomes(report)
    assert outcomes["F1001"] == "updated" and outcomes["F1002"] == "ignored"
    order_id = report.orders[0].order_id
    assert order_id is not None
    moved = orders.get_order(hub.uow.read_only(), order_id, actor=CLERK)
    assert moved.receiver.address == "文三路9号"
    older = _import(hub, SAMPLE, stamp=datetime(2026, 11, 22, tzinfo=UTC))
    assert _outcomes(older)["F1001"] == "ignored"  # an older file never moves an order back


def test_the_api_answers_with_the_same_report(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    operator = user_for("operator")
    response = api.post(
        "/api/v1/imports",
        headers=operator.headers,
        data={"shop": "offline"},
        files={"file": ("orders.csv", SAMPLE.read_bytes(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["read_as"] == "CSV, UTF-8 with BOM"
    assert body["totals"] == {
        "rows_read": 7,
        "rows_imported": 4,
        "rows_quarantined": 3,
        "balanced": True,
        "orders": {"created": 3, "updated": 0, "ignored": 0, "quarantined": 2},
    }
    rows = {o["order_no"]: (o["rows"], o["outcome"]) for o in body["orders"]}
    assert rows["F1003"] == ([5, 6], "quarantined") and rows["F1001"] == ([2, 3], "created")


def test_a_user_without_order_create_gets_403(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    response = api.post(
        "/api/v1/imports",
        headers=user_for("warehouse").headers,
        data={"shop": "offline"},
        files={"file": ("orders.csv", SAMPLE.read_bytes(), "text/csv")},
    )
    assert response.status_code == 403
    assert response.json()["permission"] == "order.create"
    with hub.uow.read_only() as uow:
        assert uow.orders.find("file", "offline", "F1001") is None


def test_a_file_over_the_limit_gets_413_and_a_broken_header_422(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    headers = user_for("operator").headers
    big = api.post(
        "/api/v1/imports",
        headers=headers,
        data={"shop": "offline"},
        files={"file": ("big.csv", b"x" * (10 * 1024 * 1024 + 1), "text/csv")},
    )
    assert big.status_code == 413 and big.json()["code"] == "file_too_large"
    broken = api.post(
        "/api/v1/imports",
        headers=headers,
        data={"shop": "offline"},
        files={"file": ("o.csv", "订单号,收货人\nA,B\n".encode(), "text/csv")},
    )
    assert broken.status_code == 422 and "lacks" in broken.json()["detail"]


def test_the_cli_prints_the_report_and_exits_1_when_rows_were_quarantined(
    hub: Hub, tmp_path: Path
) -> None:
    from orderhub.cli import app

    if hub.engine.dialect.name != "sqlite":
        return  # the command reads its database from the environment; SQLite is enough here
    copy = tmp_path / "orders.csv"
    shutil.copy(SAMPLE, copy)
    env = {
        "ORDERHUB_DATABASE_URL": str(hub.engine.url),
        "ORDERHUB_SECRET_KEY": "cli-test",
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
    }
    result = CliRunner().invoke(app, ["import", str(copy), "--shop", "offline"], env=env)
    assert result.exit_code == 1, result.output
    assert "rows read 7 = imported 4 + quarantined 3" in result.output
    assert "F1003" in result.output and "12.3x" in result.output


def test_rows_that_cannot_be_grouped_are_quarantined_with_their_rows_and_counted(
    hub: Hub,
) -> None:
    header = "订单号,下单时间,收货人,手机,省,市,地址,SKU,数量,单价,运费,实付"
    data = "\n".join(
        [
            header,
            "G1,2026-11-20 10:00,甲,13800000001,浙江省,杭州市,路1号,MUG-350,1,39.90,0,39.90",
            ",2026-11-20 10:00,乙,13800000002,浙江省,杭州市,路2号,MUG-350,1,39.90,0,39.90",
            "G2,2026-11-20 10:00,丙,13800000003,浙江省,杭州市,路3号,MUG-350,1,39.90,0,39.90",
            "G2,,,13800000009,,,,TEE-M,1,59.00,,",
            "G3,2026-11-20 10:00,丁,13800000004,浙江省,杭州市,路4号,MUG-350,1,39.90,0,40.00",
            "G3,,,,,,,CAP-1,1,12.30,,",
        ]
    ).encode()
    report = _import(hub, data, name="shop.csv")
    by_rows = {o.rows: (o.order_no, o.outcome, o.reason or "") for o in report.orders}
    assert by_rows[(2,)][:2] == ("G1", "created")
    assert by_rows[(3,)][:2] == (None, "quarantined")
    assert by_rows[(3,)][2].startswith("row 3: the order number")
    assert by_rows[(4, 5)][:2] == ("G2", "quarantined")
    assert by_rows[(4, 5)][2].startswith("rows 4-5: row 5 says receiver_phone '13800000009'")
    assert by_rows[(6, 7)][:2] == ("G3", "quarantined")
    assert by_rows[(6, 7)][2].startswith("rows 6-7: amounts.paid_total")
    assert report.rows_read == 6 and report.rows_quarantined == 5 and report.balanced
    kept = quarantine.list_quarantine(hub.uow.read_only(), actor=CLERK)
    assert len(kept) == 3
    assert {tuple(q.payload["_rows"]) for q in kept} == {(3,), (4, 5), (6, 7)}
    again = _import(hub, data, name="shop.csv")
    assert [o.outcome for o in again.orders] == ["ignored"] + ["quarantined"] * 3
    assert all("unchanged since quarantine entry" in (o.reason or "") for o in again.orders[1:])
    assert len(quarantine.list_quarantine(hub.uow.read_only(), actor=CLERK)) == 3


def test_an_xlsx_upload_reads_the_named_sheet_and_an_edited_upload_updates_the_order(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    header = [
        "订单号",
        "下单时间",
        "收货人",
        "手机",
        "省",
        "市",
        "地址",
        "SKU",
        "数量",
        "单价",
        "实付",
    ]
    row = ["W1", datetime(2026, 11, 20, 14, 3), "张三", 13800138000, "浙江省", "杭州市", "路1号"]

    def upload(address: str) -> dict[str, Any]:
        book = Workbook()
        book.create_sheet("说明")
        orders_sheet = book.create_sheet("订单")
        for values in (header, [*row[:6], address, "MUG-350", 2, 39.9, 79.8]):
            orders_sheet.append(values)
        out = io.BytesIO()
        book.save(out)
        response = api.post(
            "/api/v1/imports",
            headers=user_for("operator").headers,
            data={"shop": "offline", "sheet": "订单"},
            files={"file": ("orders.xlsx", out.getvalue(), XLSX)},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = upload("路1号")
    assert first["read_as"] == "XLSX, sheet '订单'"
    assert [(o["order_no"], o["rows"], o["outcome"]) for o in first["orders"]] == [
        ("W1", [2], "created")
    ]
    assert upload("路1号")["orders"][0]["outcome"] == "ignored"
    moved = upload("路2号")["orders"][0]
    assert moved["outcome"] == "updated"
    order = orders.get_order(hub.uow.read_only(), moved["order_id"], actor=CLERK)
    assert order.receiver.address == "路2号" and order.lines[0].unit_price == 3990


def test_a_quarantined_file_row_replays_like_any_channel_payload(hub: Hub) -> None:
    _import(hub)
    admin = Actor(id="a", name="a", role="admin", permissions=permissions_of("admin"))
    broken = [
        e
        for e in quarantine.list_quarantine(hub.uow.read_only(), actor=admin)
        if e.channel == "file"
    ]
    assert broken
    result = quarantine.replay(
        hub.uow, hub.channels, broken[0].id or 0, actor=admin, review_required=True
    )
    # Still broken (its data did not change): kept in quarantine with its reason, no crash.
    assert result.outcome == "quarantined" and result.detail


def test_the_timeline_names_the_person_who_imported_the_file(hub: Hub) -> None:
    report = _import(hub)
    created = next(o for o in report.orders if o.outcome == "created")
    assert created.order_id is not None
    timeline = orders.get_timeline(hub.uow.read_only(), created.order_id, actor=CLERK)
    assert timeline.events[0].action == "create"
    assert (timeline.events[0].actor_id, timeline.events[0].actor_name) == ("clerk", "clerk")
