"""Reading order files: encodings, workbooks, header aliases, row numbers and grouping."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from orderhub.errors import ValidationFailed
from orderhub.integrations.files import FileBook
from orderhub.integrations.files.readers import cell_text, number_text
from orderhub.services.file_import import FileContents, file_version, fingerprint, rows_text

DATA = Path(__file__).resolve().parents[1] / "data" / "file_import"
BOOK = FileBook()
EN_HEADER = [
    "order_no",
    "created_at",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "address",
    "SKU",
    "quantity",
    "unit_price",
    "paid_total",
]


def _read(data: bytes | Path, filename: str, shop: str = "offline", **kw: Any) -> FileContents:
    return BOOK.read(data, filename=filename, shop=shop, sheet=kw.get("sheet"))


def _xlsx(rows: list[list[Any]], title: str = "Sheet") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PRICES = ["单价", "实付"]
OTHER = ["江苏省", "南京市", "中山路2号", "CAP-1", 1, 19.99, 19.99]
RECEIVER = ["张三", "13800138000", "浙江省", "杭州市", "文三路1号"]


def _row(
    no: str, sku: str = "MUG-350", qty: Any = 1, price: Any = 39.9, paid: Any = 39.9
) -> list[Any]:
    return [no, "2026-11-20 14:03:00", *RECEIVER, sku, qty, price, paid]


def test_a_utf8_csv_with_a_bom_groups_rows_into_orders_keeping_their_row_numbers() -> None:
    contents = _read(DATA / "offline_orders_utf8_bom.csv", "offline_orders.csv")
    assert contents.described == "CSV, UTF-8 with BOM"
    assert contents.rows_read == 7 and contents.problems == []
    by_no = {p["order_no"]: p for p in contents.payloads}
    assert list(by_no) == ["F1001", "F1002", "F1003", "F1004", "F1005"]
    first = by_no["F1001"]
    assert first["_rows"] == [2, 3]
    assert [(line["_row"], line["sku"], line["unit_price"]) for line in first["lines"]] == [
        (2, "MUG-350", "39.90"),
        (3, "TEE-M", "59.00"),
    ]
    assert first["receiver_name"] == "张三" and first["paid_total"] == "138.80"
    assert first["tags"] == ["线下", "VIP"]
    assert by_no["F1002"]["created_at"] == "2026-11-20 15:10:00"  # 2026/11/20 15:10 read as ISO


def test_a_gbk_csv_reads_the_same_as_utf8_and_says_it_was_gbk() -> None:
    gbk = _read(DATA / "offline_orders_gbk.csv", "orders.csv")
    utf8 = _read(DATA / "offline_orders_utf8_bom.csv", "orders.csv")
    assert gbk.described == "CSV, GB18030/GBK"
    assert [fingerprint(p) for p in gbk.payloads] == [fingerprint(p) for p in utf8.payloads]


def test_a_path_gives_the_file_stamp_and_bytes_give_none() -> None:
    path = DATA / "offline_orders_utf8_bom.csv"
    assert _read(path, path.name).modified_at is not None
    assert _read(path.read_bytes(), path.name).modified_at is None


def test_an_xlsx_keeps_excel_numbers_exact_and_reads_a_named_sheet() -> None:
    data = _xlsx(
        [
            ["订单号", "下单时间", "收货人", "手机", "省", "市", "地址", "SKU", "数量", *PRICES],
            _row("X1", qty=2, price=12.3, paid=0.1 + 0.2),
            _row("X1", sku="TEE-M", qty=1.0, price=5, paid=None),
            [12345678901, datetime(2026, 11, 20, 14, 2, 59, 999_700), "李四", 13900139000, *OTHER],
        ],
        title="Orders",
    )
    contents = _read(data, "orders.xlsx", sheet="Orders")
    assert contents.described == "XLSX, sheet 'Orders'"
    x1, big = contents.payloads
    assert [(line["quantity"], line["unit_price"]) for line in x1["lines"]] == [
        ("2", "12.3"),
        ("1", "5"),
    ]
    assert x1["paid_total"] == "0.3"  # 0.30000000000000004 as Excel shows it
    assert big["order_no"] == "12345678901" and big["receiver_phone"] == "13900139000"
    assert big["created_at"] == "2026-11-20 14:03:00"  # Excel's fraction of a day, to the second
    assert big["_rows"] == [4]


def test_a_missing_sheet_is_refused_naming_the_sheets_there_are() -> None:
    with pytest.raises(ValidationFailed, match="no sheet 'Nope'; it has Orders"):
        _read(_xlsx([EN_HEADER], title="Orders"), "o.xlsx", sheet="Nope")


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.3, "12.3"), (0.1 + 0.2, "0.3"), (1e21, "1000000000000000000000"), (39.9, "39.9")],
)
def test_excel_numbers_read_as_the_decimal_excel_shows(value: float, text: str) -> None:
    assert number_text(value) == text


def test_cells_of_other_kinds_read_as_text() -> None:
    assert [cell_text(v) for v in (None, True, 7, " a ")] == ["", "true", "7", "a"]


def test_english_and_chinese_aliases_in_any_case_and_with_a_unit_name_the_same_columns() -> None:
    header = "Order No,created_at,RECEIVER_NAME,Phone,province,city,address,sku,Qty,单价（元）"
    data = (header + ",paid_total\nE1,2026-11-20,A,138,P,C,Addr,S1,1,2.00,2.00\n").encode()
    (payload,) = _read(data, "orders.csv").payloads
    assert payload["receiver_phone"] == "138" and payload["lines"][0]["unit_price"] == "2.00"


def test_a_header_without_a_required_column_refuses_the_file_naming_it_with_its_aliases() -> None:
    data = "订单号,下单时间,收货人,省,市,地址,SKU,数量,单价,实付\n".encode()
    with pytest.raises(ValidationFailed, match="lacks 手机 / 手机号 .*receiver_phone"):
        _read(data, "orders.csv")


def test_a_row_without_an_order_number_is_a_problem_with_its_row_and_content() -> None:
    data = (
        ",".join(EN_HEADER)
        + "\nA1,2026-11-20,A,138,P,C,Addr,S1,1,2,2\n\n,2026-11-20,B,1,P,C,X,S2,1,2,2\n"
    )
    contents = _read(data.encode(), "orders.csv")
    assert contents.rows_read == 2  # the blank row 3 is no row of data
    (problem,) = contents.problems
    assert problem.rows == (4,) and problem.order_no is None
    assert problem.reason.startswith("row 4: the order number")
    assert problem.payload["receiver_name"] == "B" and problem.payload["_rows"] == [4]


def test_rows_of_one_order_that_disagree_make_the_whole_order_a_problem() -> None:
    data = (
        ",".join(EN_HEADER)
        + "\nA1,2026-11-20,A,138,P,C,Addr,S1,1,2,4\n"
        + "B1,2026-11-20,B,139,P,C,Addr,S1,1,2,2\n"
        + "A1,,A,137,,,,S2,1,2,\n"
    )
    contents = _read(data.encode(), "orders.csv")
    assert [p["order_no"] for p in contents.payloads] == ["B1"]
    (problem,) = contents.problems
    assert problem.rows == (2, 4) and problem.field == "receiver_phone"
    assert problem.reason.startswith("rows 2, 4: row 4 says receiver_phone '137' but row 2 says")
    assert [r["_row"] for r in problem.payload["rows"]] == [2, 4]


def test_an_order_of_another_shop_is_a_problem() -> None:
    contents = _read(DATA / "offline_orders_utf8_bom.csv", "o.csv", shop="outlet")
    assert contents.payloads == [] and len(contents.problems) == 5
    assert "the shop column says 'offline'" in contents.problems[0].reason


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\x81\x30", "o.csv", "neither UTF-8 nor GB18030"),
        (b"PK\x03\x04broken", "o.xlsx", "cannot be read as an Excel workbook"),
        (b"whatever", "o.xls", ".xls is not read"),
        (b"", "o.csv", "empty"),
    ],
)
def test_unreadable_files_are_refused_saying_what_to_do(
    data: bytes, filename: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        _read(data, filename)


def test_row_spans_read_as_people_write_them() -> None:
    assert rows_text([4]) == "row 4"
    assert rows_text([4, 5, 7, 9, 10, 11]) == "rows 4-5, 7, 9-11"


def test_the_fingerprint_ignores_row_numbers_and_import_notes() -> None:
    a = {"_rows": [2], "order_no": "A", "lines": [{"_row": 2, "sku": "S"}]}
    b = {"_rows": [9], "_file": "x.csv", "order_no": "A", "lines": [{"_row": 9, "sku": "S"}]}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "order_no": "B"})


def test_rows_already_applied_keep_the_applied_version_and_changed_rows_take_the_stamp() -> None:
    stamp = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    digest = fingerprint({"order_no": "A", "lines": [{"sku": "S"}]})
    first = file_version(stamp, digest, None)
    assert (
        first.replace(microsecond=0) == stamp and first.microsecond == int(digest[:8], 16) % 10**6
    )
    later = datetime(2026, 11, 25, tzinfo=UTC)
    assert file_version(later, digest, first) == first  # the same rows: a repeat
    changed = fingerprint({"order_no": "A", "lines": [{"sku": "T"}]})
    assert file_version(later, changed, first) > first  # changed rows in a newer file: newer
    assert file_version(stamp.replace(day=1), changed, first) < first  # an older file: older


def test_changed_rows_stamped_with_the_import_time_are_newer_even_within_the_same_second() -> None:
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    applied = file_version(now, "f" * 64, None)  # the largest tag of the second
    changed = file_version(now, "0" * 64, applied, newest=True)
    assert changed > applied and changed.microsecond == 0
