"""CSV and XLSX files as a header and numbered rows of text cells.

Row numbers are the spreadsheet's: the header is row 1, the first data row is row 2 (in a CSV,
a record spanning several lines because of a quoted line break counts once, as Excel shows it).

Excel stores numbers as binary floating point and shows at most 15 significant digits; a cell's
number is read as the shortest decimal that gives back the same float (`repr`), rounded to those
15 digits, and written out without an exponent: 12.3 stays "12.3", 0.1+0.2 reads "0.3", 5.0
reads "5". No amount passes through float arithmetic.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from orderhub.errors import ValidationFailed

MAX_ROWS = 100_000
_EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells)
    described: str


def read_csv(data: bytes) -> Sheet:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, record in enumerate(records, start=1):
        cells = [csv_cell(c) for c in record]
        if header is None:
            header = cells
        else:
            rows.append((number, cells))
        if number > MAX_ROWS:
            raise _too_many()
    if not header or not any(header):
        raise ValidationFailed("the file is empty; the first row must be the header", field="file")
    return Sheet(header, rows, f"CSV, {encoding}")


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without a BOM), else GB18030 (a superset of GBK, as Chinese Excel saves)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data.decode("utf-8-sig"), "UTF-8 with BOM"
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030/GBK"
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            f"the file is neither UTF-8 nor GB18030/GBK text (byte {error.start} cannot be read); "
            "save it as CSV UTF-8 or as an Excel workbook (.xlsx)",
            field="file",
        ) from None


def csv_cell(text: str) -> str:
    """A cell's text; `="0123"` (Excel's way to keep leading zeros in a CSV) reads `0123`."""
    text = text.strip()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        return text[2:-1]
    return text


def read_xlsx(data: bytes, sheet: str | None) -> Sheet:
    from openpyxl import load_workbook  # a heavy import, only when a workbook comes

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationFailed(
            f"the file cannot be read as an Excel workbook ({type(error).__name__}); "
            "save it as .xlsx (the older .xls is not read) or as CSV",
            field="file",
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ValidationFailed(
                f"the workbook has no sheet '{sheet}'; it has {', '.join(book.sheetnames)}",
                field="sheet",
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        ws.reset_dimensions()  # some writers record a wrong size; read every cell there is
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            cells = [cell_text(v) for v in values]
            if header is None:
                header = cells
            else:
                rows.append((number, cells))
            if number > MAX_ROWS:
                raise _too_many()
        if not header or not any(header):
            raise ValidationFailed(
                f"sheet '{ws.title}' is empty; its first row must be the header", field="file"
            )
        return Sheet(header, rows, f"XLSX, sheet '{ws.title}'")
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """An Excel cell as the text it shows, numbers exact (see the module note)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        # Excel keeps times as fractions of a day; take the nearest whole second.
        whole = value.replace(microsecond=0)
        return (whole + timedelta(seconds=1) if value.microsecond >= 500_000 else whole).isoformat(
            sep=" "
        )
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def number_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    number = _EXCEL_DIGITS.plus(Decimal(repr(value))).normalize()
    return format(number, "f")


def _too_many() -> ValidationFailed:
    return ValidationFailed(
        f"the file has more than {MAX_ROWS} rows; split it into smaller files", field="file"
    )
