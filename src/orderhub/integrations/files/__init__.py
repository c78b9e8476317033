"""Order files (CSV, XLSX) as the channel "file": readers, the template and its mapping.

`FileBook` is the `FileSource` that services/file_import.py reads files through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orderhub.errors import ValidationFailed
from orderhub.integrations.files.grouping import group
from orderhub.integrations.files.readers import read_csv, read_xlsx
from orderhub.integrations.files.template import Template, load_template
from orderhub.services.file_import import FileContents

__all__ = ["FileBook"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


class FileBook:
    """Reads order files with the file template (extended from `mapping_dir`/file.yaml)."""

    def __init__(self, mapping_dir: Path | None = None) -> None:
        self._template: Template = load_template(mapping_dir)

    def mapping(self) -> Mapping[str, Any]:
        return self._template.mapping

    def read(
        self, data: bytes | Path, *, filename: str, shop: str, sheet: str | None
    ) -> FileContents:
        stamp = None
        if isinstance(data, Path):
            stamp = datetime.fromtimestamp(data.stat().st_mtime, UTC)
            data = data.read_bytes()
        suffix = Path(filename).suffix.lower()
        if suffix == ".xls":
            raise ValidationFailed(
                "the older Excel format .xls is not read; save the file as .xlsx or CSV",
                field="file",
            )
        if suffix in WORKBOOK_SUFFIXES or data.startswith(b"PK\x03\x04"):
            sheet_read = read_xlsx(data, sheet)
        elif suffix in TEXT_SUFFIXES or not suffix:
            sheet_read = read_csv(data)
        else:
            raise ValidationFailed(
                f"'{filename}' is neither CSV nor an Excel workbook (.xlsx)", field="file"
            )
        contents = group(sheet_read, self._template, shop=shop)
        return replace(contents, modified_at=stamp)
