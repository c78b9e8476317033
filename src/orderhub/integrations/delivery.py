"""A Sender for every outbox target: the WMS of a warehouse, a shop's channel, the broker, and an
alert recipient's channel (`alert:<code>`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from orderhub.domain.fulfilment import EVENTS_TARGET, MessageKind, shipment_of
from orderhub.domain.notifications import Recipient
from orderhub.domain.shops import Shop
from orderhub.domain.warehouses import Warehouse
from orderhub.integrations.notifications import Notifiers
from orderhub.services.ports import (
    ChannelConnector,
    ChannelUnavailable,
    DeliveryResult,
    OutboxMessage,
    Outcome,
    Sender,
    ShipmentRefused,
    StockRefused,
    WmsConnector,
)


class ChannelSender:
    """A shop's messages through its channel client: shipments (one call per order) and
    listing stock updates (one call per listing)."""

    batch_size = 20

    def __init__(self, shop: Shop, channels: ChannelConnector) -> None:
        self._shop, self._channels = shop, channels

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        # Each call on its own: several at once, so one slow or retried call (a timeout, a 429
        # backing off) does not hold up the rest. The client paces them.
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="channel") as pool:
            return list(pool.map(self._send_one, messages))

    def _send_one(self, message: OutboxMessage) -> DeliveryResult:
        client = self._channels.client(self._shop)
        try:
            if message.kind == MessageKind.CHANNEL_SHIPMENT:
                reference = client.ship(shipment_of(message.payload))
                answer: dict[str, object] | None = {"reference": reference} if reference else None
            elif message.kind == MessageKind.CHANNEL_STOCK:
                quantity = int(message.payload["quantity"])
                client.set_stock(message.payload["ids"], quantity)
                answer = {"quantity": quantity}
            else:
                return _unknown(message, self._shop.code)
        except (ShipmentRefused, StockRefused) as refusal:
            return DeliveryResult(
                message.message_id, Outcome.REFUSED, refusal.reason, code=refusal.code
            )
        except ChannelUnavailable as error:
            return DeliveryResult(
                message.message_id,
                Outcome.RETRY,
                str(error),
                retry_after_s=getattr(error, "retry_after_s", None),
            )
        return DeliveryResult(message.message_id, Outcome.DELIVERED, answer=answer)

    def close(self) -> None:
        pass  # the channel connector owns the client


def _unknown(message: OutboxMessage, where: str) -> DeliveryResult:
    return DeliveryResult(
        message.message_id,
        Outcome.REFUSED,
        f"{where} takes no '{message.kind}' messages",
        code="unknown_kind",
    )


class RecipientOff:
    """A switched-off recipient's messages: refused with `recipient_disabled`, so they stay on
    the outbox (replayable with `orderhub outbox retry`) instead of all arriving at once when it
    is switched on again."""

    batch_size = 500

    def __init__(self, recipient: Recipient) -> None:
        self._detail = (
            f"recipient {recipient.code} is disabled; enable it (`orderhub recipients set "
            f"{recipient.code} --enabled`) and retry the message to send it"
        )

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        return [
            DeliveryResult(m.message_id, Outcome.REFUSED, self._detail, code="recipient_disabled")
            for m in messages
        ]

    def close(self) -> None:
        pass


class Deliveries:
    """Finds the Sender for a target; one per target, kept while its configuration is unchanged."""

    def __init__(
        self,
        *,
        wms: WmsConnector,
        channels: ChannelConnector,
        warehouse: Callable[[str], Warehouse],
        shop: Callable[[str], Shop],
        events: Callable[[], Sender] | None = None,
        recipient: Callable[[str], Recipient] | None = None,
        notifiers: Notifiers | None = None,
    ) -> None:
        self._wms, self._channels = wms, channels
        self._warehouse, self._shop, self._events = warehouse, shop, events
        # An unknown recipient raises (NotFound names it): the relay retries, then dead-letters.
        self._recipient, self._notifiers = recipient, notifiers or Notifiers()
        self._senders: dict[tuple[str, object], Sender] = {}
        self._lock = threading.Lock()

    def targets_served(self, target: str) -> bool:
        return target != EVENTS_TARGET or self._events is not None

    def sender(self, target: str) -> Sender:
        """The target's sender; raises LookupError naming the target when none can serve it."""
        kind, _, name = target.partition(":")
        config: object
        if kind == "wms":
            config = self._warehouse(name)
        elif kind == "channel":
            config = self._shop(name)
        elif target == EVENTS_TARGET and self._events is not None:
            config = None
        elif kind == "alert" and self._recipient is not None:
            config = self._recipient(name)
        else:
            raise LookupError(f"no sender for outbox target '{target}'")
        key = (target, getattr(config, "updated_at", None))
        with self._lock:
            if key not in self._senders:
                self._senders[key] = self._make(config)
            return self._senders[key]

    def rate_per_s(self, target: str) -> float | None:
        kind, _, name = target.partition(":")
        if kind == "wms":
            return self._warehouse(name).rate_per_s
        if kind == "channel":
            return self._shop(name).settings.rate_per_s
        if kind == "alert" and self._recipient is not None:
            return self._notifiers.rate_per_s(self._recipient(name))
        return None

    def _make(self, config: object) -> Sender:
        if isinstance(config, Warehouse):
            return self._wms.client(config)
        if isinstance(config, Shop):
            return ChannelSender(config, self._channels)
        if isinstance(config, Recipient):
            if not config.enabled:
                return RecipientOff(config)
            return self._notifiers.notifier(config)
        assert self._events is not None
        return self._events()

    def close(self) -> None:
        with self._lock:
            for sender in self._senders.values():
                sender.close()
            self._senders.clear()
