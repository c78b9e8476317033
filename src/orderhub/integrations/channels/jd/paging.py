"""Keyset paging over JD's order search, so orders that change mid-pull shift nothing away.

JD pages by number over a list sorted by time. When an order on an already-read page is
modified, it leaves its place and every later order moves up one: plain page numbers would then
skip one. Instead each next page starts again at the last time seen (start_date is inclusive),
leaving out the orders already given at that very second. Only when a whole page shares one
second does the cursor fall back to the next page number within that second.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cursor:
    start: str  # JD time text, the inclusive lower bound of the next search
    page: int = 1
    seen: tuple[str, ...] = ()  # orders already given whose key time is `start`

    def encode(self) -> str:
        raw = json.dumps({"s": self.start, "p": self.page, "o": list(self.seen)})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(str(raw["s"]), int(raw["p"]), tuple(str(x) for x in raw["o"]))
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"'{token}' is not a JD page token from this client") from None


def step(
    cursor: Cursor, orders: Sequence[dict[str, Any]], total: int, page_size: int, key: str
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """The orders of this page not given before, and the cursor of the next page (None: done).

    `key` is the time the search is sorted by: `modified`, or `orderStartTime` by creation.
    """
    fresh = [
        o
        for o in orders
        if not (str(o.get("orderId")) in cursor.seen and o.get(key) == cursor.start)
    ]
    if cursor.page * page_size >= total:
        return fresh, None
    last = max((str(o.get(key) or "") for o in orders), default=cursor.start)
    if last <= cursor.start:
        return fresh, Cursor(cursor.start, cursor.page + 1, cursor.seen)
    at_last = tuple(sorted({str(o.get("orderId")) for o in orders if o.get(key) == last}))
    return fresh, Cursor(last, 1, at_last)
