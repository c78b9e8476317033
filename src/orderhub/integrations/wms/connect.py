"""The WmsConnector services use: a client per warehouse, callbacks read per protocol."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from orderhub.domain.fulfilment import WarehouseReport
from orderhub.domain.warehouses import Warehouse
from orderhub.integrations.wms import qimen
from orderhub.integrations.wms.qimen.client import DEFAULT_TIMEOUT_S
from orderhub.services.ports import CallbackRejected, WmsClient


class Wms:
    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S, batch_size: int = 100) -> None:
        self.timeout_s, self.batch_size = timeout_s, batch_size
        # One client per warehouse code, so its keep-alive pool carries across relay rounds.
        self._clients: dict[str, tuple[Warehouse, qimen.QimenClient]] = {}
        self._lock = threading.Lock()

    def protocols(self) -> frozenset[str]:
        return frozenset({qimen.PROTOCOL})

    def _check(self, warehouse: Warehouse) -> None:
        if warehouse.wms != qimen.PROTOCOL:
            raise ValueError(
                f"warehouse {warehouse.code} uses WMS protocol '{warehouse.wms}'; "
                f"this connector speaks {', '.join(sorted(self.protocols()))}"
            )

    def client(self, warehouse: Warehouse) -> WmsClient:
        self._check(warehouse)
        with self._lock:
            held = self._clients.get(warehouse.code)
            if held is not None and _same_connection(held[0], warehouse):
                return held[1]
            if held is not None:
                held[1].close()  # the address or credentials changed: start afresh
            client = qimen.QimenClient(
                warehouse, timeout_s=self.timeout_s, batch_size=self.batch_size
            )
            self._clients[warehouse.code] = (warehouse, client)
            return client

    def parse_callback(
        self, warehouse: Warehouse, query: Mapping[str, str], body: bytes
    ) -> list[WarehouseReport]:
        if warehouse.wms != qimen.PROTOCOL:
            raise CallbackRejected(
                f"warehouse {warehouse.code} has WMS protocol '{warehouse.wms}', which sends no "
                "callbacks OrderHub reads; set it to 'qimen' or point the WMS elsewhere"
            )
        return qimen.parse_callback(warehouse, query, body)

    def answer(self, warehouse: Warehouse, error: str | None) -> tuple[str, bytes]:
        return qimen.answer(warehouse, error)

    def close(self) -> None:
        with self._lock:
            held, self._clients = list(self._clients.values()), {}
        for _, client in held:
            client.close()


def _same_connection(a: Warehouse, b: Warehouse) -> bool:
    return a.base_url == b.base_url and a.credentials == b.credentials
