"""What the file adapter (integrations/files/) gives the import: payloads grouped by order, and
the rows it could not group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class RowProblem:
    """Rows that cannot become an order payload: no order number, or disagreeing order columns."""

    rows: tuple[int, ...]
    order_no: str | None
    field: str
    reason: str  # says which rows
    payload: dict[str, Any]  # the rows as read, with their numbers


@dataclass(frozen=True)
class FileContents:
    payloads: list[dict[str, Any]]  # one per order: order columns, `lines`, `_rows`
    problems: list[RowProblem]
    rows_read: int  # data rows that are not blank
    described: str  # e.g. "CSV, gb18030" or "XLSX, sheet 'Orders'"
    modified_at: datetime | None = None  # the file's own stamp, when the adapter knows it


class FileSource(Protocol):
    """Reads an order file (integrations/files/) and holds the file channel's mapping."""

    def read(
        self, data: bytes | Path, *, filename: str, shop: str, sheet: str | None
    ) -> FileContents: ...

    def mapping(self) -> Mapping[str, Any]: ...
