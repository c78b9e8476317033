"""Priority with aging in SQL: the order in which waiting orders are served.

Serving the highest effective priority first (score + minutes waited x aging, domain/priority.py)
is serving the earliest "ranked at" first, `since - score x 60/aging seconds`; as seconds since
the epoch that is a plain expression an ORDER BY can use, the same on SQLite and PostgreSQL:
lower is served first. The outbox stores its rank (`outbox.ranked_at`, written with the row);
orders are ranked when read, so a changed aging setting applies to them at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from orderhub.storage.tables import orders

# Seconds between the Julian day number SQLite's julianday() counts from and 1970-01-01.
_UNIX_EPOCH_JULIAN_DAY = 2440587.5


class epoch_seconds(FunctionElement[float]):
    """A stored UTC time as seconds since 1970-01-01 (SQLite keeps naive UTC text)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"((julianday({inner}) - {_UNIX_EPOCH_JULIAN_DAY}) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


# When an order's wait counts from: its payment, or its creation before it is paid.
order_since = func.coalesce(orders.c.paid_at, orders.c.created_at)


def order_rank(aging_per_min: float) -> ColumnElement[float]:
    """Lower first: the order's wait start less the head start its priority is worth."""
    seconds_per_point = literal(60.0 / aging_per_min, Float())
    return epoch_seconds(order_since) - orders.c.priority * seconds_per_point
