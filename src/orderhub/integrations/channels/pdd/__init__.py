"""Pinduoduo (拼多多) through the PDD open platform: signed POP gateway calls, incremental pull."""

from __future__ import annotations

from pathlib import Path

from orderhub.integrations.channels.pdd.client import PddClient
from orderhub.integrations.channels.pdd.simulator import create_app
from orderhub.integrations.channels.registry import ChannelSpec

CHANNEL = ChannelSpec(
    name="pdd",
    title="Pinduoduo (拼多多)",
    mapping_file=Path(__file__).parent / "mapping.yaml",
    make_client=PddClient,
    make_simulator=create_app,
    # PDD pushes order messages over its own websocket message service, not signed webhooks.
    webhook=None,
)
