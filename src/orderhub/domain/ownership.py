"""Who owns which facts of an order: one system per field group; a write from another is refused.

The sales channel owns what the buyer did (who, what, how much, paid how); OrderHub owns where
the order stands and where it ships from; the WMS owns what happened in the warehouse (shipped,
carrier, tracking no); the courier owns tracking after hand-off. An order OrderHub took itself
(manual, imported from a file) has OrderHub as its channel. docs/ownership.md has the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from orderhub.errors import OrderHubError


class System(StrEnum):
    CHANNEL = "channel"
    ORDERHUB = "orderhub"
    WMS = "wms"
    COURIER = "courier"


# Field group -> (owner, fields); the groups docs/ownership.md lists, by the same names.
GROUPS: dict[str, tuple[System, tuple[str, ...]]] = {
    "buyer": (System.CHANNEL, ("buyer_id", "buyer_nick", "buyer_note", "invoice")),
    "goods_and_payment": (
        System.CHANNEL,
        ("lines", "amounts", "payment_status", "payment_method", "transaction_no", "paid_at"),
    ),
    "receiver": (System.CHANNEL, ("receiver",)),
    "status": (System.ORDERHUB, ("status", "resume_status", "exception_reason")),
    "routing_and_priority": (System.ORDERHUB, ("warehouse", "priority", "tags", "seller_note")),
    "fulfilment": (System.WMS, ("carrier", "tracking_no", "stock_state")),
    "tracking": (System.COURIER, ("tracking_events",)),
}
# OrderHub staff may correct a channel order's receiver before the hand-off (on the timeline).
DELEGATED = {("receiver", System.ORDERHUB)}
OWN_CHANNELS = frozenset({"manual", "file"})


class NotOwner(OrderHubError):
    code = "not_owner"
    status = 409
    title = "Another system owns this fact"


def owner_of(group: str, channel: str) -> System:
    owner = GROUPS[group][0]
    if owner is System.CHANNEL and channel in OWN_CHANNELS:
        return System.ORDERHUB
    return owner


def check_write(channel: str, writer: System, fields: Iterable[str], *, how: str) -> None:
    """Refuse `writer` changing `fields` of an order from `channel` that it does not own."""
    for group, (_, members) in GROUPS.items():
        touched = sorted(set(fields) & set(members))
        owner = owner_of(group, channel)
        if touched and owner is not writer and (group, writer) not in DELEGATED:
            where = channel if owner is System.CHANNEL else owner.value
            raise NotOwner(
                f"{', '.join(touched)} ({group.replace('_', ' ')}) of a {channel} order belong to "
                f"{where}; {how}",
                group=group,
                owner=owner.value,
                writer=writer.value,
            )
