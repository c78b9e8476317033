"""The ChannelConnector services use: a client per shop, the mapping per channel."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from orderhub.domain.shops import Shop
from orderhub.integrations.channels.registry import (
    ShopConnection,
    channel,
    channels,
    load_mapping,
)
from orderhub.integrations.files.template import load_template
from orderhub.services.ports import ChannelClient

# Orders from uploaded files: no client, but a mapping, so their quarantine entries replay too.
FILE_CHANNEL = "file"


class Channels:
    def __init__(self, mapping_dir: Path | None = None) -> None:
        self._mapping_dir = mapping_dir
        self._mappings: dict[str, Mapping[str, Any]] = {}
        # One client per shop version, so its connection pool and pacing carry across pulls.
        self._clients: dict[tuple[str, datetime], ChannelClient] = {}
        self._lock = threading.Lock()

    def channels(self) -> frozenset[str]:
        return frozenset(channels())

    def mapping(self, name: str) -> Mapping[str, Any]:
        with self._lock:
            if name not in self._mappings:
                self._mappings[name] = (
                    load_template(self._mapping_dir).mapping
                    if name == FILE_CHANNEL
                    else load_mapping(channel(name), self._mapping_dir)
                )
            return self._mappings[name]

    def client(self, shop: Shop) -> ChannelClient:
        key = (shop.code, shop.updated_at)
        with self._lock:
            if key not in self._clients:
                spec = channel(shop.channel)
                self._clients[key] = spec.make_client(
                    ShopConnection(
                        shop=shop.code,
                        base_url=shop.base_url,
                        app_key=shop.credentials.app_key,
                        app_secret=shop.credentials.app_secret,
                        access_token=shop.credentials.access_token,
                        timeout_s=shop.settings.timeout_s,
                        max_attempts=shop.settings.max_attempts,
                        rate_per_s=shop.settings.rate_per_s,
                    )
                )
            return self._clients[key]

    def reload(self) -> None:
        """Read the mappings again (after a merchant changed an extension file)."""
        with self._lock:
            self._mappings.clear()

    def check(self) -> None:
        """Load every mapping now, so a broken one stops start-up with its reason."""
        for name in channels():
            self.mapping(name)
