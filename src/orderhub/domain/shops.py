"""A merchant's shop on a sales channel, and how OrderHub keeps it in sync."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from orderhub.errors import ValidationFailed

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class Credentials:
    """What the channel gave the merchant's app; kept encrypted at rest, shown to nobody."""

    app_key: str = ""
    app_secret: str = ""
    access_token: str = ""


@dataclass(frozen=True)
class SyncSettings:
    interval_s: int = 60
    # Each pull starts this far before the stored cursor, so rows the channel committed late
    # (with an earlier modified time) are not skipped; repeats are ignored by the ingest.
    overlap_s: int = 300
    # How far back the very first pull (and a reconcile without --since) looks.
    initial_lookback_s: int = 3 * 24 * 3600
    rate_per_s: float = 20.0
    timeout_s: float = 10.0
    max_attempts: int = 5


@dataclass
class Shop:
    code: str
    channel: str
    name: str
    base_url: str
    credentials: Credentials
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    settings: SyncSettings = field(default_factory=SyncSettings)
    cursor_at: datetime | None = None
    last_sync_at: datetime | None = None
    last_error: str | None = None
    # Where its orders ship from until routing rules decide (None: the default warehouse).
    warehouse: str | None = None
    id: int | None = None


def check_shop(shop: Shop, known_channels: frozenset[str]) -> Shop:
    if not _CODE.match(shop.code):
        raise ValidationFailed(
            f"shop code '{shop.code}' must be 2-64 lower-case letters, digits, '_' or '-'",
            field="code",
        )
    if shop.channel not in known_channels:
        raise ValidationFailed(
            f"channel '{shop.channel}' is not known; use one of "
            f"{', '.join(sorted(known_channels))}",
            field="channel",
        )
    if not shop.base_url.startswith(("http://", "https://")):
        raise ValidationFailed(
            f"base_url '{shop.base_url}' must start with http:// or https://", field="base_url"
        )
    s = shop.settings
    if s.interval_s < 5 or s.overlap_s < 0 or s.rate_per_s <= 0 or s.max_attempts < 1:
        raise ValidationFailed(
            "sync settings: interval_s >= 5, overlap_s >= 0, rate_per_s > 0, max_attempts >= 1",
            field="settings",
        )
    return shop
