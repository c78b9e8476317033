"""Keyset paging over JD's order search (see jd/paging.py)."""

from __future__ import annotations

from typing import Any

import pytest

from orderhub.integrations.channels.jd.paging import Cursor, step


def _orders(*rows: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"orderId": no, "modified": at} for no, at in rows]


def test_the_next_page_starts_at_the_last_second_seen_leaving_out_orders_given_there() -> None:
    page = _orders(
        ("1", "2026-11-25 16:00:00"), ("2", "2026-11-25 16:00:01"), ("3", "2026-11-25 16:00:01")
    )
    fresh, following = step(
        Cursor("2026-11-25 16:00:00"), page, total=9, page_size=3, key="modified"
    )
    assert [o["orderId"] for o in fresh] == ["1", "2", "3"]
    assert following == Cursor("2026-11-25 16:00:01", 1, ("2", "3"))


def test_orders_already_given_at_the_start_second_are_not_given_again() -> None:
    page = _orders(
        ("2", "2026-11-25 16:00:01"), ("3", "2026-11-25 16:00:01"), ("4", "2026-11-25 16:00:02")
    )
    cursor = Cursor("2026-11-25 16:00:01", 1, ("2", "3"))
    fresh, following = step(cursor, page, total=7, page_size=3, key="modified")
    assert [o["orderId"] for o in fresh] == ["4"]
    assert following == Cursor("2026-11-25 16:00:02", 1, ("4",))


def test_a_page_all_in_one_second_moves_on_by_page_number() -> None:
    page = _orders(("1", "2026-11-25 16:00:00"), ("2", "2026-11-25 16:00:00"))
    _, following = step(Cursor("2026-11-25 16:00:00"), page, total=5, page_size=2, key="modified")
    assert following == Cursor("2026-11-25 16:00:00", 2, ())


def test_the_last_page_has_no_next() -> None:
    page = _orders(("1", "2026-11-25 16:00:00"))
    _, following = step(Cursor("2026-11-25 16:00:00"), page, total=1, page_size=2, key="modified")
    assert following is None


def test_a_token_survives_the_round_trip_and_garbage_is_refused() -> None:
    cursor = Cursor("2026-11-25 16:00:01", 2, ("7",))
    assert Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(ValueError, match="not a JD page token"):
        Cursor.decode("3")
