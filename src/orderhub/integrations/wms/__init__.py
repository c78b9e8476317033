"""Warehouse management systems OrderHub hands orders to; one package per protocol."""

from orderhub.integrations.wms.connect import Wms

__all__ = ["Wms"]
