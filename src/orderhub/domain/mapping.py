"""Channel payload -> canonical order, driven by a declarative mapping (data, never code).

A mapping is a plain dict (each channel keeps it as YAML beside its adapter; a merchant may extend
it, e.g. to carry an extra field into a custom field). `map_order` reads a payload with it and
returns a `MappedOrder`, or a `Rejection` naming the canonical field, the channel's path and what
is wrong, so the payload can be quarantined and replayed once the mapping or the data is fixed.
The rule language is documented in docs/mapping.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderhub.domain.money import exponent
from orderhub.domain.orders import (
    Amounts,
    Invoice,
    Order,
    OrderLine,
    OrderType,
    PaymentStatus,
    Receiver,
)


class ChannelState(StrEnum):
    """Where the channel says the order is, whatever words the channel uses for it."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


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


@dataclass
class MappedOrder:
    """A payload read into the canonical shape, plus what the channel says about its state."""

    order: Order
    channel_state: ChannelState
    channel_status: str
    modified_at: datetime
    refund_requested: bool = False
    # Lines the channel names by its own SKU; the merchant SKU comes from the SKU mapping.
    extras: dict[str, Any] = field(default_factory=dict)


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
}
TYPES = {"string", "integer", "amount", "datetime", "boolean", "decimal", "list"}
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")
_MISSING = object()


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


def _walk(data: Any, path: str) -> Any:
    """`a.b[0].c`; `[*]` collects a list. Missing anything -> _MISSING."""
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
    return current[0] if current else _MISSING


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


def _value(
    data: Any, name: str, rule: Mapping[str, Any], defaults: Mapping[str, Any], currency: str
) -> Any:
    if "const" in rule:
        raw: Any = rule["const"]
    elif "paths" in rule:
        parts = [_walk(data, p) for p in rule["paths"]]
        raw = rule.get("join", " ").join(
            str(p).strip() for p in parts if p is not _MISSING and p not in (None, "")
        )
        raw = raw if raw else _MISSING
    else:
        raw = _walk(data, rule["path"])
    if isinstance(raw, list) and rule.get("aggregate") == "sum":
        return sum((_coerce(v, rule, defaults, currency) for v in raw), start=0)
    if raw is _MISSING or raw is None or raw == "":
        if "default" in rule:
            return rule["default"]
        if rule.get("required"):
            raise _Refused("is missing")
        return None
    if "map" in rule:
        key = str(raw)
        if key not in rule["map"]:
            known = ", ".join(sorted(str(k) for k in rule["map"]))
            raise _Refused(f"'{key}' is not a value this mapping knows (known: {known})")
        return rule["map"][key]
    return _coerce(raw, rule, defaults, currency)


class _Reader:
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
            raise _Rejected(Rejection(name, refused.reason, _path(rule))) from None
        if value is None and required:
            raise _Rejected(Rejection(name, "is missing", _path(rule)))
        return value


class _Rejected(Exception):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


def _path(rule: Mapping[str, Any]) -> str | None:
    if "path" in rule:
        return str(rule["path"])
    return "+".join(rule["paths"]) if "paths" in rule else None


def map_order(
    payload: Mapping[str, Any], mapping: Mapping[str, Any], *, shop: str
) -> MappedOrder | Rejection:
    """Read one payload. Never raises for bad data: a bad payload is a Rejection."""
    try:
        return _map(payload, mapping, shop)
    except _Rejected as rejected:
        return rejected.rejection


def _map(payload: Mapping[str, Any], mapping: Mapping[str, Any], shop: str) -> MappedOrder:
    read = _Reader(mapping)
    currency = read.get(payload, "currency") or read.currency
    read.currency = str(currency).upper()
    status = read.get(payload, "status", required=True)
    try:
        state = ChannelState(status)
    except ValueError:
        raise _Rejected(
            Rejection(
                "status",
                f"maps to '{status}', not a channel state "
                f"({', '.join(s.value for s in ChannelState)})",
            )
        ) from None
    lines = _lines(payload, mapping, read)

    def amount(name: str) -> int:
        return int(read.get(payload, f"amounts.{name}") or 0)

    goods = (
        amount("goods_total")
        if "amounts.goods_total" in read.rules
        else sum(line.amount for line in lines)
    )
    order = Order(
        channel=str(mapping["channel"]),
        shop=shop,
        channel_order_no=read.get(payload, "channel_order_no", required=True),
        currency=read.currency,
        amounts=Amounts(
            goods_total=goods,
            shipping_fee=amount("shipping_fee"),
            discount=amount("discount"),
            tax=amount("tax"),
            paid_total=amount("paid_total"),
        ),
        lines=lines,
        receiver=_receiver(payload, read),
        created_at=read.get(payload, "created_at", required=True),
        order_type=OrderType(read.get(payload, "order_type") or OrderType.NORMAL),
        payment_status=(
            PaymentStatus.UNPAID if state is ChannelState.AWAITING_PAYMENT else PaymentStatus.PAID
        ),
        buyer_id=read.get(payload, "buyer_id"),
        buyer_nick=read.get(payload, "buyer_nick"),
        buyer_note=read.get(payload, "buyer_note"),
        seller_note=read.get(payload, "seller_note"),
        payment_method=read.get(payload, "payment_method"),
        transaction_no=read.get(payload, "transaction_no"),
        paid_at=read.get(payload, "paid_at"),
        invoice=(
            Invoice(title, read.get(payload, "invoice.tax_id"))
            if (title := read.get(payload, "invoice.title"))
            else None
        ),
        tags=tuple(read.get(payload, "tags") or ()),
        custom_fields={
            name.removeprefix("custom_fields."): value
            for name in read.rules
            if name.startswith("custom_fields.")
            if (value := read.get(payload, name)) is not None
        },
    )
    raw_status = (
        _walk(payload, read.rules["status"]["path"]) if "path" in read.rules["status"] else status
    )
    return MappedOrder(
        order=order,
        channel_state=state,
        channel_status=str(raw_status),
        modified_at=read.get(payload, "modified_at", required=True),
        refund_requested=bool(read.get(payload, "refund_requested")),
    )


def _receiver(payload: Mapping[str, Any], read: _Reader) -> Receiver:
    def part(name: str) -> str:
        return str(read.get(payload, f"receiver.{name}") or "")

    receiver = Receiver(
        part("name"),
        part("phone"),
        part("province"),
        part("city"),
        part("district"),
        part("address"),
        read.get(payload, "receiver.postcode"),
        bool(read.get(payload, "receiver.masked")),
    )
    for name in ("name", "phone", "address"):
        if not getattr(receiver, name).strip():
            rule = read.rules.get(f"receiver.{name}", {})
            raise _Rejected(
                Rejection(
                    f"receiver.{name}",
                    "is missing; the warehouse cannot ship without it",
                    _path(rule) if rule else None,
                )
            )
    return receiver


def _lines(
    payload: Mapping[str, Any], mapping: Mapping[str, Any], read: _Reader
) -> tuple[OrderLine, ...]:
    spec = mapping["lines"]
    items = _walk(payload, spec["path"])
    if items is _MISSING or not isinstance(items, list) or not items:
        raise _Rejected(Rejection("lines", "no lines in the payload", spec["path"]))
    line_reader = _Reader({"fields": spec["fields"], "defaults": mapping.get("defaults", {})})
    line_reader.currency = read.currency
    lines = []
    for n, item in enumerate(items):
        try:
            channel_sku = line_reader.get(item, "channel_sku")
            sku = line_reader.get(item, "sku") or channel_sku
            lines.append(
                OrderLine(
                    sku=str(sku or ""),
                    channel_sku=channel_sku,
                    title=str(line_reader.get(item, "title") or sku or ""),
                    quantity=int(line_reader.get(item, "quantity", required=True)),
                    unit_price=int(line_reader.get(item, "unit_price", required=True)),
                    line_discount=int(line_reader.get(item, "line_discount") or 0),
                )
            )
        except _Rejected as rejected:
            inner = rejected.rejection
            raise _Rejected(
                Rejection(
                    f"lines[{n}].{inner.field}",
                    inner.reason,
                    f"{spec['path']}[{n}].{inner.path}" if inner.path else None,
                )
            ) from None
    return tuple(lines)
