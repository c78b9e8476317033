"""A channel's simulator on 127.0.0.1 and a client of it, for the stock and parcel tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from orderhub.integrations.channels.registry import ShopConnection, SimulatorOptions, channel
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services.ports import ChannelClient

APP_KEY, SECRET, TOKEN = "stock-app-key", "stock-app-secret", "stock-access-token"
CHANNELS = ("jd", "pdd", "shopify", "taobao")


def _taobao_lines(order: dict[str, Any]) -> list[tuple[str, int, dict[str, str]]]:
    return [
        (x["outer_sku_id"], x["num"], {"num_iid": str(x["num_iid"]), "sku_id": str(x["sku_id"])})
        for x in order["orders"]["order"]
    ]


def _jd_lines(order: dict[str, Any]) -> list[tuple[str, int, dict[str, str]]]:
    return [
        (x["outerSkuId"], int(x["itemTotal"]), {"skuId": x["skuId"], "wareId": x["wareId"]})
        for x in order["itemInfoList"]
    ]


def _pdd_lines(order: dict[str, Any]) -> list[tuple[str, int, dict[str, str]]]:
    return [
        (
            x["outer_id"],
            x["goods_count"],
            {"goods_id": str(x["goods_id"]), "sku_id": str(x["sku_id"])},
        )
        for x in order["item_list"]
    ]


def _shopify_lines(order: dict[str, Any]) -> list[tuple[str, int, dict[str, str]]]:
    return [
        (x["sku"], x["quantity"], {"variant_id": str(x["variant_id"])}) for x in order["line_items"]
    ]


# Each channel's order payload as (merchant SKU code, quantity, the channel's ids of that SKU).
LINES: dict[str, Callable[[dict[str, Any]], list[tuple[str, int, dict[str, str]]]]] = {
    "taobao": _taobao_lines,
    "jd": _jd_lines,
    "pdd": _pdd_lines,
    "shopify": _shopify_lines,
}


@dataclass
class Sim:
    name: str
    server: RunningServer

    @classmethod
    def start(cls, name: str) -> Sim:
        options = SimulatorOptions(app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN)
        return cls(name, RunningServer(channel(name).make_simulator(options)).start())

    def client(self, *, max_attempts: int = 10) -> ChannelClient:
        connection = ShopConnection(
            shop="s1",
            base_url=self.server.url,
            app_key=APP_KEY,
            app_secret=SECRET,
            access_token=TOKEN,
            timeout_s=2.0,
            max_attempts=max_attempts,
            rate_per_s=500,
        )
        return channel(self.name).make_client(connection)

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.server.url}{path}")
        response.raise_for_status()
        return response.json()

    def listings(self) -> dict[str, dict[str, Any]]:
        """The simulator's own record of each listing, by merchant SKU code."""
        return {x["channel_sku"]: x for x in self.get("/_sim/listings")["listings"]}

    def stock_calls(self) -> int:
        return int(self.get("/_sim/listings")["stock_calls"])

    def order(self, no: str) -> dict[str, Any]:
        truth: dict[str, Any] = self.get("/_sim/orders")["orders"][no]
        return truth

    def faults(self, **rates: float) -> None:
        httpx.put(f"{self.server.url}/_sim/faults", json=rates).raise_for_status()

    def fault_hits(self) -> int:
        hits = self.get("/_sim/faults")["hits"]
        return int(hits.get("rate_429", 0) + hits.get("rate_500", 0))

    def lines(self, client: ChannelClient, no: str) -> list[tuple[str, int, dict[str, str]]]:
        payload = client.fetch_order(no)
        assert payload is not None, f"{self.name} does not know order {no}"
        return LINES[self.name](payload)

    def paid_order(
        self, client: ChannelClient, *, min_lines: int = 2, min_quantity: int = 1
    ) -> tuple[str, list[tuple[str, int, dict[str, str]]]]:
        """A paid order nobody asked to refund with at least `min_lines` lines, the first of
        which has at least `min_quantity` units; and its lines."""
        httpx.post(f"{self.server.url}/_sim/orders", json={"count": 60}).raise_for_status()
        for no, o in sorted(self.get("/_sim/orders")["orders"].items()):
            if o["state"] != "paid" or o["refund_requested"] or not o["visible"]:
                continue
            lines = self.lines(client, no)
            if len(lines) >= min_lines and lines[0][1] >= min_quantity:
                return no, lines
        raise AssertionError(f"no paid {self.name} order with {min_lines}+ lines was made")
