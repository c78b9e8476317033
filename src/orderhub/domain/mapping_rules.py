"""The rule language of channel mappings: paths, types, maps and defaults (docs/mapping.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderhub.domain.money import exponent


@dataclass(frozen=True)
class Rejection:
    """Why a payload cannot become an order: the field, where it sits in the payload, and why."""

    field: str
    reason: str
    path: str | None = None

    @property
    def message(self) -> str:
        where = f"{self.field} (payload {self.path})" if self.path else self.field
        return f"{where}: {self.reason}"


class MappingError(Exception):
    """The mapping itself is wrong (found when it is loaded, not per payload)."""


RULE_KEYS = {
    "path",
    "paths",
    "join",
    "const",
    "type",
    "map",
    "default",
    "required",
    "format",
    "timezone",
    "aggregate",
    "unit",
    "strip",
    "pick",
    "absent",
    "split",
}
AGGREGATES = {"sum", "any", "all"}
TYPES = {"string", "integer", "amount", "datetime", "boolean", "decimal", "list"}
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")
MISSING = object()


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_mapping(mapping: Mapping[str, Any]) -> None:
    """Refuse a mapping with unknown keys or types, so a typo fails at load, not per order."""
    for section in ("fields", "lines"):
        if section not in mapping:
            raise MappingError(f"the mapping has no '{section}' section")
    rules = {
        **mapping["fields"],
        **{f"lines.{k}": v for k, v in mapping["lines"]["fields"].items()},
    }
    for name, rule in rules.items():
        if not isinstance(rule, Mapping):
            raise MappingError(f"{name}: a rule is a mapping with 'path' or 'const', got {rule!r}")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise MappingError(
                f"{name}: unknown rule keys {sorted(unknown)}; allowed {sorted(RULE_KEYS)}"
            )
        if rule.get("aggregate", "sum") not in AGGREGATES:
            raise MappingError(
                f"{name}: aggregate '{rule['aggregate']}' is not one of {sorted(AGGREGATES)}"
            )
        if "pick" in rule and (rule["pick"] != "first" or "paths" not in rule):
            raise MappingError(f"{name}: 'pick: first' goes with 'paths'")
        if rule.get("type", "string") not in TYPES:
            raise MappingError(f"{name}: type '{rule['type']}' is not one of {sorted(TYPES)}")
        if not {"path", "paths", "const"} & set(rule):
            raise MappingError(f"{name}: give 'path', 'paths' or 'const'")
    for required in (
        "channel_order_no",
        "status",
        "created_at",
        "modified_at",
        "amounts.paid_total",
    ):
        if required not in mapping["fields"]:
            raise MappingError(f"the mapping must say where '{required}' comes from")
    if "path" not in mapping["lines"]:
        raise MappingError("lines: give the 'path' of the list of lines")


def walk(data: Any, path: str) -> Any:
    """`a.b[0].c`; `[*]` collects a list. Missing anything -> MISSING."""
    current: list[Any] = [data]
    many = False
    for name, index in _SEGMENT.findall(path):
        following: list[Any] = []
        for item in current:
            if name:
                if isinstance(item, Mapping) and name in item:
                    following.append(item[name])
            elif index == "*":
                many = True
                if isinstance(item, list):
                    following.extend(item)
            elif isinstance(item, list) and int(index) < len(item):
                following.append(item[int(index)])
        current = following
    if many:
        return current
    return current[0] if current else MISSING


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise _Refused(f"time zone '{name}' is unknown") from None


def _coerce(value: Any, rule: Mapping[str, Any], defaults: Mapping[str, Any], currency: str) -> Any:
    kind = rule.get("type", "string")
    if kind == "string":
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Refused(f"expected text, got {type(value).__name__} {value!r}")
        text = str(value)
        return text.strip() if rule.get("strip", True) else text
    if kind == "integer":
        if isinstance(value, bool):
            raise _Refused(f"expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _Refused(f"expected a whole number, got {value!r}")
    if kind in ("amount", "decimal"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Refused(f"expected an amount, got {type(value).__name__} {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _Refused(f"'{value}' is not a decimal amount") from None
        if not number.is_finite():
            raise _Refused(f"'{value}' is not a finite amount")
        if kind == "decimal":
            return number
        minor = (
            number
            if rule.get("unit", defaults.get("amount_unit", "major")) == "minor"
            else number.scaleb(exponent(currency))
        )
        if minor != minor.to_integral_value():
            raise _Refused(f"'{value}' has more decimals than {currency} allows")
        return int(minor)
    if kind == "datetime":
        return _datetime(value, rule, defaults)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false", "True", "False"):
            return str(value).lower() in ("1", "true")
        raise _Refused(f"expected true or false, got {value!r}")
    if not isinstance(value, list):
        raise _Refused(f"expected a list, got {type(value).__name__}")
    return [str(v).strip() for v in value if str(v).strip()]


def _datetime(value: Any, rule: Mapping[str, Any], defaults: Mapping[str, Any]) -> datetime:
    zone = _timezone(rule.get("timezone", defaults.get("timezone", "UTC")))
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if rule.get("unit") == "ms" else value
        return datetime.fromtimestamp(seconds, zone)
    if not isinstance(value, str):
        raise _Refused(f"expected a time, got {type(value).__name__} {value!r}")
    try:
        parsed = (
            datetime.strptime(value.strip(), rule["format"])
            if "format" in rule
            else datetime.fromisoformat(value.strip())
        )
    except ValueError:
        expected = rule.get("format", "ISO 8601")
        raise _Refused(f"'{value}' is not a time in the form {expected}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _raw(data: Any, rule: Mapping[str, Any]) -> Any:
    if "const" in rule:
        return rule["const"]
    if "path" in rule:
        return walk(data, rule["path"])
    present = [
        p
        for p in (walk(data, path) for path in rule["paths"])
        if p is not MISSING and p not in (None, "")
    ]
    if rule.get("pick") == "first":
        return present[0] if present else MISSING
    joined = rule.get("join", " ").join(str(p).strip() for p in present)
    return joined if joined else MISSING


def _one(raw: Any, rule: Mapping[str, Any], defaults: Mapping[str, Any], currency: str) -> Any:
    """One present value through `map` (a word the map lacks is refused) or the type."""
    if "map" in rule:
        key = str(raw)
        if key not in rule["map"]:
            known = ", ".join(sorted(str(k) for k in rule["map"]))
            raise _Refused(f"'{key}' is not a value this mapping knows (known: {known})")
        return rule["map"][key]
    if "split" in rule and isinstance(raw, str):
        raw = raw.split(rule["split"])
    return _coerce(raw, rule, defaults, currency)


def _value(
    data: Any, name: str, rule: Mapping[str, Any], defaults: Mapping[str, Any], currency: str
) -> Any:
    raw = _raw(data, rule)
    absent = rule.get("absent", ())
    if isinstance(raw, list) and "aggregate" in rule:
        values = [
            _one(v, rule, defaults, currency)
            for v in raw
            if v not in (None, "") and v not in absent
        ]
        how = rule["aggregate"]
        if how == "sum":
            return sum(values, start=0)
        return any(values) if how == "any" else bool(values) and all(values)
    if raw is MISSING or raw is None or raw == "" or raw in absent:
        if "default" in rule:
            return rule["default"]
        if rule.get("required"):
            raise _Refused("is missing")
        return None
    return _one(raw, rule, defaults, currency)


class FieldReader:
    def __init__(self, mapping: Mapping[str, Any]) -> None:
        self.rules: Mapping[str, Any] = mapping["fields"]
        self.defaults: Mapping[str, Any] = mapping.get("defaults", {})
        self.currency = str(self.defaults.get("currency", "CNY"))

    def get(self, data: Any, name: str, *, required: bool = False) -> Any:
        rule = self.rules.get(name)
        if rule is None:
            return None
        try:
            value = _value(data, name, rule, self.defaults, self.currency)
        except _Refused as refused:
            raise Rejected(Rejection(name, refused.reason, rule_path(rule))) from None
        if value is None and required:
            raise Rejected(Rejection(name, "is missing", rule_path(rule)))
        return value


class Rejected(Exception):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


def rule_path(rule: Mapping[str, Any]) -> str | None:
    if "path" in rule:
        return str(rule["path"])
    return "+".join(rule["paths"]) if "paths" in rule else None
