"""Taobao/Tmall over the TOP open platform (router/rest): pull, one trade, reconcile."""

from __future__ import annotations

from pathlib import Path

from orderhub.integrations.channels.registry import ChannelSpec
from orderhub.integrations.channels.taobao.client import TaobaoClient
from orderhub.integrations.channels.taobao.simulator import create_app

CHANNEL = ChannelSpec(
    name="taobao",
    title="Taobao / Tmall",
    mapping_file=Path(__file__).parent / "mapping.yaml",
    make_client=TaobaoClient,
    make_simulator=create_app,
    webhook=None,  # TOP pushes through TMC (a websocket), not webhooks; see PROTOCOL.md
)
