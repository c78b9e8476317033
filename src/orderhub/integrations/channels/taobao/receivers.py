"""Masked receivers made whole: `taobao.top.oaid.decrypt` for the trades that still need an address.

TOP hides receiver names, phones and street addresses from third-party apps and gives an `oaid`
(Open Addressee ID) instead; the decrypt call answers the real values for up to 20 (tid, oaid)
pairs at a time, each with `matched` (false when the trade's address changed after this version
was read: that version stays masked, the newer one brings its own oaid).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from orderhub.integrations.channels.taobao.protocol import MAX_DECRYPT_BATCH

# Decrypting spends the shop's privacy quota: only trades the warehouse may still ship need it.
DECRYPT_STATUSES = frozenset(
    {
        "TRADE_NO_CREATE_PAY",
        "WAIT_BUYER_PAY",
        "PAY_PENDING",
        "WAIT_PRE_AUTH_CONFIRM",
        "WAIT_SELLER_SEND_GOODS",
        "PAID_FORBID_CONSIGN",
        "SELLER_CONSIGNED_PART",
    }
)
# OrderHub's own mark on a payload whose receiver_* fields it filled from the decrypt call.
RECEIVER_MARK = "orderhub_receiver_source"
DECRYPTED = "oaid_decrypt"
# decrypt answer field -> trade field
_TRADE_FIELD = {
    "name": "receiver_name",
    "mobile": "receiver_mobile",
    "phone": "receiver_phone",
    "state": "receiver_state",
    "city": "receiver_city",
    "district": "receiver_district",
    "town": "receiver_town",
    "address_detail": "receiver_address",
    "country": "receiver_country",
}

Call = Callable[[str, dict[str, str]], dict[str, Any]]


def tid_of(trade: dict[str, Any]) -> str:
    return str(trade.get("tid_str") or trade.get("tid") or "")


def with_receivers(call: Call, trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trades, those awaiting shipment with their receivers decrypted (new dicts)."""
    wanted = sorted(
        {
            (tid_of(t), str(t["oaid"]))
            for t in trades
            if t.get("oaid") and t.get("status") in DECRYPT_STATUSES
        }
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for batch in _batches(wanted):
        query = json.dumps([{"tid": tid, "oaid": oaid} for tid, oaid in batch])
        body = call("taobao.top.oaid.decrypt", {"query_list": query})
        for receiver in (body.get("receiver_list") or {}).get("receiver") or []:
            if receiver.get("matched", True):
                found[(str(receiver.get("tid")), str(receiver.get("oaid")))] = receiver
    return [_filled(t, found.get((tid_of(t), str(t.get("oaid"))))) for t in trades]


def _filled(trade: dict[str, Any], receiver: dict[str, Any] | None) -> dict[str, Any]:
    if receiver is None:
        return trade
    plain = {field: receiver[key] for key, field in _TRADE_FIELD.items() if receiver.get(key)}
    return {**trade, **plain, RECEIVER_MARK: DECRYPTED}


def _batches(items: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    for i in range(0, len(items), MAX_DECRYPT_BATCH):
        yield items[i : i + MAX_DECRYPT_BATCH]
