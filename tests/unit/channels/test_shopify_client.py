"""Pieces of the Shopify client that need no server: the Link cursor and the time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orderhub.integrations.channels.registry import ShopConnection
from orderhub.integrations.channels.shopify.client import ShopifyClient, next_page_info

BASE = "https://shop.myshopify.com/admin/api/2025-01/orders.json"


def test_next_page_info_is_taken_from_the_next_link_not_the_previous() -> None:
    link = (
        f'<{BASE}?limit=50&page_info=prevTOKEN>; rel="previous", '
        f'<{BASE}?limit=50&page_info=nextTOKEN>; rel="next"'
    )
    assert next_page_info(link) == "nextTOKEN"


def test_last_page_has_no_next_page() -> None:
    assert next_page_info(f'<{BASE}?limit=50&page_info=prevTOKEN>; rel="previous"') is None
    assert next_page_info(None) is None


class _Recorder:
    """Stands in for ChannelHttp and answers one empty page."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def request(self, method: str, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        import httpx

        self.params = dict(kwargs["params"])  # type: ignore[call-overload]
        assert kwargs["headers"] == {"X-Shopify-Access-Token": "shpat_1"}
        return httpx.Response(200, json={"orders": []}, request=httpx.Request(method, url))

    def close(self) -> None:
        pass


def _client(recorder: _Recorder) -> ShopifyClient:
    connection = ShopConnection(shop="s1", base_url="http://x", access_token="shpat_1")
    return ShopifyClient(connection, http=recorder)  # type: ignore[arg-type]


def test_first_page_asks_for_every_status_oldest_change_first_in_whole_seconds() -> None:
    recorder = _Recorder()
    shanghai = timezone(timedelta(hours=8))
    since = datetime(2026, 11, 25, 16, 0, 0, 700_000, tzinfo=shanghai)
    _client(recorder).fetch_changed(since, since + timedelta(minutes=5), None)
    assert recorder.params == {
        "status": "any",
        "updated_at_min": "2026-11-25T08:00:00+00:00",
        "updated_at_max": "2026-11-25T08:05:00+00:00",
        "order": "updated_at asc",
        "limit": 250,
    }


def test_later_pages_send_only_page_info_and_limit() -> None:
    recorder = _Recorder()
    now = datetime.now(UTC)
    _client(recorder).fetch_changed(now, now, "abc")
    assert recorder.params == {"page_info": "abc", "limit": 250}


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        _client(_Recorder()).fetch_changed(datetime(2026, 1, 1), datetime.now(UTC), None)
