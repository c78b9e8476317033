"""The file template: the mapping (mapping.yaml beside this module) and its column aliases.

A header cell reads as a column key when it matches a key or an alias in any case, with spaces,
hyphens and underscores alike and a trailing unit in brackets ignored ("单价(元)" is `unit_price`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orderhub.domain.mapping import MappingError, check_mapping
from orderhub.integrations.channels.registry import merge_mapping

MAPPING_FILE = Path(__file__).with_name("mapping.yaml")
LEVELS = {"order", "line"}
KINDS = {"text", "datetime", "list"}
_UNIT = re.compile(r"[（(][^()（）]*[)）]$")
_SEPARATORS = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]
    level: str = "order"  # "order": the same on every row of an order; "line": per row
    kind: str = "text"
    required: bool = False


def header_key(text: str) -> str:
    """How a header cell compares: case, spacing and a trailing "(元)" do not matter."""
    text = _UNIT.sub("", text.replace("\ufeff", "").strip()).strip()
    return _SEPARATORS.sub("_", text).casefold()


@dataclass(frozen=True)
class Template:
    mapping: Mapping[str, Any]
    columns: Mapping[str, Column]

    def column_for(self, header: str) -> Column | None:
        wanted = header_key(header)
        for column in self.columns.values():
            if wanted in {header_key(a) for a in (column.key, *column.aliases)}:
                return column
        return None

    def describe(self, key: str) -> str:
        column = self.columns[key]
        return " / ".join(dict.fromkeys((*column.aliases, column.key)))


def load_template(extension_dir: Path | None = None) -> Template:
    """The packaged template, extended by `<extension_dir>/file.yaml` like every channel's."""
    mapping: dict[str, Any] = yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))
    extra = extension_dir / "file.yaml" if extension_dir is not None else None
    if extra is not None and extra.exists():
        mapping = merge_mapping(mapping, yaml.safe_load(extra.read_text(encoding="utf-8")) or {})
    try:
        check_mapping(mapping)
        columns = _columns(mapping.get("columns"))
    except MappingError as error:
        raise MappingError(f"file mapping: {error}") from None
    return Template(mapping, columns)


def _columns(spec: Any) -> dict[str, Column]:
    if not isinstance(spec, Mapping) or "order_no" not in spec:
        raise MappingError("'columns' must list the template's columns, 'order_no' among them")
    columns: dict[str, Column] = {}
    seen: dict[str, str] = {}
    for key, rule in spec.items():
        if not isinstance(rule, Mapping) or set(rule) - {"aliases", "level", "kind", "required"}:
            raise MappingError(f"columns.{key}: give aliases, level, kind and required only")
        column = Column(
            key=str(key),
            aliases=tuple(str(a) for a in rule.get("aliases", ())),
            level=str(rule.get("level", "order")),
            kind=str(rule.get("kind", "text")),
            required=bool(rule.get("required", False)),
        )
        if column.level not in LEVELS or column.kind not in KINDS:
            raise MappingError(
                f"columns.{key}: level is one of {sorted(LEVELS)}, kind one of {sorted(KINDS)}"
            )
        for name in (column.key, *column.aliases):
            other = seen.setdefault(header_key(name), column.key)
            if other != column.key:
                raise MappingError(f"columns: '{name}' names both {other} and {column.key}")
        columns[column.key] = column
    if columns["order_no"].level != "order":
        raise MappingError("columns.order_no: the order number is an order column")
    return columns
