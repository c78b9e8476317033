"""Parsing the console's order forms: board filters, and the inputs each action asks for.

Values arrive as strings from plain forms; they are checked here so a bad one is shown as a
message on the page, never as a JSON validation error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from orderhub.domain.transitions import TRANSITIONS, Action, ExceptionReason, OrderStatus
from orderhub.errors import NotFound, ValidationFailed
from orderhub.storage.order_queries import OrderFilter
from orderhub.web.labels import N_

PAGE_SIZE = 50


@dataclass(frozen=True)
class BoardQuery:
    """The board's filters as the user typed them, so the form and links can echo them back."""

    status: str = ""
    exception_reason: str = ""
    channel: str = ""
    shop: str = ""
    tag: str = ""
    created_from: str = ""
    created_to: str = ""
    q: str = ""
    cursor: str = ""

    @classmethod
    def parse(cls, values: dict[str, str | None]) -> BoardQuery:
        query = cls(**{k: (v or "").strip() for k, v in values.items()})
        if query.status and query.status not in OrderStatus.__members__.values():
            raise ValidationFailed(f"status '{query.status}' does not exist", field="status")
        if (
            query.exception_reason
            and query.exception_reason not in ExceptionReason.__members__.values()
        ):
            raise ValidationFailed(
                f"exception reason '{query.exception_reason}' does not exist",
                field="exception_reason",
            )
        return query

    def to_filter(self) -> OrderFilter:
        created_to = _day(self.created_to, "created_to")
        return OrderFilter(
            statuses=(self.status,) if self.status else (),
            exception_reason=self.exception_reason or None,
            channel=self.channel or None,
            shop=self.shop or None,
            tag=self.tag or None,
            created_from=_day(self.created_from, "created_from"),
            # The form's "to" day is inclusive; the query's bound is exclusive.
            created_to=created_to + timedelta(days=1) if created_to else None,
            q=self.q or None,
        )

    def url(self, **changes: str) -> str:
        """/orders with these filters, some changed; a changed filter starts again at page 1."""
        changed = replace(self, **{"cursor": "", **changes})
        pairs = {f.name: getattr(changed, f.name) for f in fields(changed)}
        encoded = urlencode({k: v for k, v in pairs.items() if v})
        return "/orders" + (f"?{encoded}" if encoded else "")

    @property
    def is_filtered(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "cursor")


def _day(text: str, field: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(
            f"{field} '{text}' is not a date; use YYYY-MM-DD, e.g. 2026-11-11", field=field
        ) from None


@dataclass(frozen=True)
class Input:
    """One input an action's form shows."""

    name: str
    label: str
    required: bool = False
    kind: str = "text"  # "text" or "reason_code" (a select of ExceptionReason)


def inputs_for(action: Action) -> tuple[Input, ...]:
    """What the action's form asks for; the service validates the values all the same."""
    rule = TRANSITIONS[action]
    found: list[Input] = []
    if rule.needs_reason:
        found.append(Input("reason", N_("Reason"), required=True))
    if rule.needs_reason_code:
        found.append(Input("reason_code", N_("Reason code"), required=True, kind="reason_code"))
    found.extend(_PARAM_INPUTS.get(action, ()))
    return tuple(found)


_PARAM_INPUTS: dict[Action, tuple[Input, ...]] = {
    Action.SHIP: (
        Input("carrier", N_("Carrier"), required=True),
        Input("tracking_no", N_("Tracking no"), required=True),
    ),
    Action.PAY: (
        Input("payment_method", N_("Payment method")),
        Input("transaction_no", N_("Transaction no")),
    ),
    Action.ALLOCATE: (Input("warehouse", N_("Warehouse")),),
}
PARAM_NAMES = ("payment_method", "transaction_no", "warehouse", "carrier", "tracking_no")


def parse_action(name: str) -> Action:
    if name not in Action.__members__.values():
        raise NotFound(f"there is no action '{name}'")
    return Action(name)


@dataclass(frozen=True)
class ActionInput:
    reason: str | None
    reason_code: str | None
    params: dict[str, Any]

    @classmethod
    def of(cls, form: dict[str, str | None]) -> ActionInput:
        def clean(name: str) -> str | None:
            value = (form.get(name) or "").strip()
            return value or None

        return cls(
            reason=clean("reason"),
            reason_code=clean("reason_code"),
            params={n: v for n in PARAM_NAMES if (v := clean(n)) is not None},
        )


def parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if not value.strip().isdigit():
            raise ValidationFailed(f"'{value}' is not an order id", field="order_ids")
        ids.append(int(value))
    if not ids:
        raise ValidationFailed("select at least one order first", field="order_ids")
    return ids
