"""Alibaba Qimen (奇门) WMS protocol: the client OrderHub pushes outbound orders with, the parser
for the WMS's callbacks, and a simulator beside them. The facts and their sources: PROTOCOL.md."""

from orderhub.integrations.wms.qimen.callbacks import answer, parse_callback
from orderhub.integrations.wms.qimen.client import QimenClient, QimenError
from orderhub.integrations.wms.qimen.protocol import PROTOCOL

__all__ = ["PROTOCOL", "QimenClient", "QimenError", "answer", "parse_callback"]
