"""JD (京东) through the JD open platform (JOS): pull by modified time, masked receivers."""

from __future__ import annotations

from pathlib import Path

from orderhub.integrations.channels.jd.client import JdClient
from orderhub.integrations.channels.jd.simulator import create_app
from orderhub.integrations.channels.registry import ChannelSpec

CHANNEL = ChannelSpec(
    name="jd",
    title="JD 京东",
    mapping_file=Path(__file__).parent / "mapping.yaml",
    make_client=JdClient,
    make_simulator=create_app,
    webhook=None,
)
