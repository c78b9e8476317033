"""Rows into one payload per order: order columns from its rows, a line from every row.

Rows of one order share the order number; they need not be next to each other. An order column
(receiver, amounts, time...) is taken from the first row that fills it; later rows may leave it
blank ("as above", as merged cells read) but may not say something else. Rows that cannot be
given to an order come back as problems, with their content and row numbers, never dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from orderhub.errors import ValidationFailed
from orderhub.integrations.files.readers import Sheet
from orderhub.integrations.files.template import Column, Template
from orderhub.services.file_import import FileContents, RowProblem, rows_text

_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
)
_TAG_SEPARATORS = re.compile(r"[,，;；、|]")


def keys_of(header: list[str], template: Template) -> list[str]:
    """The column key of every header cell; a missing required column refuses the whole file."""
    keys: list[str] = []
    where: dict[str, int] = {}
    for n, text in enumerate(header):
        column = template.column_for(text) if text else None
        key = column.key if column else (text or f"column_{n + 1}")
        if key in where:
            raise ValidationFailed(
                f"columns {where[key] + 1} and {n + 1} both read as '{key}'; keep one",
                field="file",
            )
        where[key] = n
        keys.append(key)
    missing = [c for c in template.columns.values() if c.required and c.key not in where]
    if missing:
        raise ValidationFailed(
            "the header lacks "
            + "; ".join(f"{template.describe(c.key)}" for c in missing)
            + "; the first row must name the columns (see docs/file-import.md)",
            field="file",
        )
    return keys


def group(sheet: Sheet, template: Template, *, shop: str) -> FileContents:
    keys = keys_of(sheet.header, template)
    orders: dict[str, list[tuple[int, dict[str, str]]]] = {}
    problems: list[RowProblem] = []
    rows_read = 0
    for number, cells in sheet.rows:
        row = {key: cells[n] if n < len(cells) else "" for n, key in enumerate(keys)}
        row.update({f"column_{n + 1}": c for n, c in enumerate(cells) if n >= len(keys) and c})
        if not any(row.values()):
            continue
        rows_read += 1
        no = row["order_no"]
        if not no:
            problems.append(
                RowProblem(
                    (number,),
                    None,
                    "channel_order_no",
                    f"row {number}: the order number ({template.describe('order_no')}) is "
                    "empty, so the row belongs to no order; fill it in and import again",
                    {"_rows": [number], **row},
                )
            )
            continue
        orders.setdefault(no, []).append((number, row))
    payloads = []
    for no, rows in orders.items():
        payload, problem = _order(no, rows, template, shop)
        if problem is not None:
            problems.append(problem)
        else:
            payloads.append(payload)
    return FileContents(payloads, problems, rows_read, sheet.described)


def _order(
    no: str, rows: list[tuple[int, dict[str, str]]], template: Template, shop: str
) -> tuple[dict[str, Any], RowProblem | None]:
    numbers = [n for n, _ in rows]
    columns = template.columns
    order_keys = [k for k in rows[0][1] if k in columns and columns[k].level == "order"]
    values: dict[str, str] = {}
    source: dict[str, int] = {}
    for number, row in rows:
        for key in order_keys:
            value = row[key]
            if not value:
                continue
            if key not in values:
                values[key], source[key] = value, number
            elif _normal(value, columns[key]) != _normal(values[key], columns[key]):
                return {}, RowProblem(
                    tuple(numbers),
                    no,
                    key,
                    f"{rows_text(numbers)}: row {number} says {key} '{value}' but row "
                    f"{source[key]} says '{values[key]}'; the rows of order {no} must agree on "
                    "its order columns (or leave them blank after the first row)",
                    {"_rows": numbers, "order_no": no, "rows": [{"_row": n, **r} for n, r in rows]},
                )
    if values.get("shop") and values["shop"] != shop:
        return {}, RowProblem(
            tuple(numbers),
            no,
            "shop",
            f"{rows_text(numbers)}: the shop column says '{values['shop']}' but the file is "
            f"imported for shop '{shop}'; import it for that shop or correct the column",
            {"_rows": numbers, "order_no": no, "rows": [{"_row": n, **r} for n, r in rows]},
        )
    payload: dict[str, Any] = {"_rows": numbers}
    for key in order_keys:
        payload[key] = _normal(values.get(key, ""), columns[key])
    payload["lines"] = [
        {"_row": n, **{k: v for k, v in r.items() if k not in order_keys}} for n, r in rows
    ]
    return payload, None


def _normal(value: str, column: Column) -> Any:
    if column.kind == "datetime":
        return time_text(value)
    if column.kind == "list":
        return [t.strip() for t in _TAG_SEPARATORS.split(value) if t.strip()]
    return value


def time_text(value: str) -> str:
    """Common spreadsheet ways of writing a time, as ISO 8601; anything else as it is."""
    for form in _TIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), form).isoformat(sep=" ")
        except ValueError:
            continue
    return value
