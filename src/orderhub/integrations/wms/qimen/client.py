"""One warehouse's Qimen WMS: outbound orders in (batched), cancels (intercepts), stock pulled.

`send` never raises for a failed delivery; it reports each message's fate for the outbox relay,
which owns retrying: a timeout, a transport error, HTTP 429 or 5xx is RETRY (with the
Retry-After the WMS sent), a flag=failure answer is REFUSED with the WMS's code and message.
A timed-out create may still have been applied; the relay's retry carries the same message id
(`outBizCode`), and the WMS answers the repeat with success instead of a second order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from orderhub.domain.fulfilment import InterceptResult, MessageKind, StockCount
from orderhub.domain.warehouses import Warehouse
from orderhub.integrations.retry_after import retry_after
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.mapping import PayloadError, cancel_request, delivery_order
from orderhub.services.ports import DeliveryResult, OutboxMessage, Outcome

DEFAULT_TIMEOUT_S = 5.0
TOO_LATE_CODES = frozenset({qm.ORDER_SHIPPED})
NOT_FOUND_CODES = frozenset({qm.ORDER_NOT_FOUND})


class QimenError(Exception):
    """A stock query the WMS did not answer usefully; the message says what it answered."""


class _Retry(Exception):
    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.retry_after_s = detail, retry_after_s


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def _succeeded(fields: dict[str, Any]) -> bool:
    return str(fields.get("flag", "")).lower() == "success"


def _refused(fields: dict[str, Any], method: str) -> _Refused:
    code = str(fields.get("code") or "failure")
    return _Refused(code, f"{method}: {fields.get('message') or 'the WMS answered failure'}")


class QimenClient:
    protocol = qm.PROTOCOL

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        batch_size: int = 100,
        batch_create: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.credentials = warehouse.credentials
        self.batch_size = batch_size
        # Off for WMSs that never implemented deliveryorder.batchcreate (it is optional).
        self.batch_create = batch_create
        self.timeout_s = timeout_s
        self._now = clock or (lambda: datetime.now(UTC))
        # One pooled client: keep-alive matters at hundreds of calls a second.
        self._http = httpx.Client(
            base_url=warehouse.base_url.rstrip("/"),
            timeout=timeout_s,
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30.0),
        )

    # -- the outbox side ------------------------------------------------------------------
    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        results: dict[str, DeliveryResult] = {}
        creates: list[tuple[OutboxMessage, dict[str, Any]]] = []
        for message in messages:
            if message.kind == MessageKind.WMS_OUTBOUND_CREATE:
                try:
                    body = delivery_order(message.payload, message.message_id, self.credentials)
                except (PayloadError, TypeError, ValueError) as error:
                    results[message.message_id] = self._invalid(message, error)
                    continue
                creates.append((message, body))
            elif message.kind == MessageKind.WMS_OUTBOUND_CANCEL:
                results[message.message_id] = self._cancel(message)
            else:
                results[message.message_id] = DeliveryResult(
                    message.message_id,
                    Outcome.REFUSED,
                    detail=f"a Qimen WMS takes {MessageKind.WMS_OUTBOUND_CREATE} and "
                    f"{MessageKind.WMS_OUTBOUND_CANCEL}, not '{message.kind}'",
                    code="unknown-kind",
                )
        for start in range(0, len(creates), max(self.batch_size, 1)):
            chunk = creates[start : start + max(self.batch_size, 1)]
            if self.batch_create and len(chunk) > 1:
                results.update(self._batch(chunk))
            else:
                results.update(self._create(message, body) for message, body in chunk)
        return [results[m.message_id] for m in messages]

    @staticmethod
    def _invalid(message: OutboxMessage, error: Exception) -> DeliveryResult:
        return DeliveryResult(
            message.message_id,
            Outcome.REFUSED,
            detail=f"{message.kind} payload cannot be sent: {error}",
            code="invalid-payload",
        )

    def _create(self, message: OutboxMessage, body: dict[str, Any]) -> tuple[str, DeliveryResult]:
        mid = message.message_id
        try:
            fields = self._call(qm.CREATE, body)
            if not _succeeded(fields):
                raise _refused(fields, qm.CREATE)
        except _Retry as retry:
            return mid, _retry(mid, retry)
        except _Refused as refused:
            return mid, _refusal(mid, refused)
        answer = {"wms_order_id": fields.get("deliveryOrderId")}
        return mid, DeliveryResult(mid, Outcome.DELIVERED, answer=answer)

    def _batch(
        self, chunk: list[tuple[OutboxMessage, dict[str, Any]]]
    ) -> dict[str, DeliveryResult]:
        orders = [{"outBizCode": m.message_id, **body} for m, body in chunk]
        try:
            fields = self._call(qm.BATCH_CREATE, {"orders": {"order": orders}})
        except _Retry as retry:
            return {m.message_id: _retry(m.message_id, retry) for m, _ in chunk}
        except _Refused as refused:
            return {m.message_id: _refusal(m.message_id, refused) for m, _ in chunk}
        if not _succeeded(fields) and str(fields.get("code")) == qm.INVALID_METHOD:
            self.batch_create = False  # this WMS has no batch call: one order per call from now
            return dict(self._create(m, body) for m, body in chunk)
        # Qimen's answer lists the orders that failed ("出错的出库单号"); some WMSs list all.
        listed = {
            str(o.get("deliveryOrderCode")): o for o in qm.many(fields.get("orders"), "order")
        }
        results = {}
        for message, body in chunk:
            mid = message.message_id
            entry = listed.get(body["deliveryOrder"]["deliveryOrderCode"], {})
            verdict = entry if "flag" in entry else fields
            if _succeeded(verdict):
                answer = {"wms_order_id": entry.get("deliveryOrderId")}
                results[mid] = DeliveryResult(mid, Outcome.DELIVERED, answer=answer)
            else:
                results[mid] = _refusal(mid, _refused(verdict, qm.BATCH_CREATE))
        return results

    def _cancel(self, message: OutboxMessage) -> DeliveryResult:
        mid = message.message_id
        try:
            body = cancel_request(message.payload, mid, self.credentials)
            fields = self._call(qm.CANCEL, body)
        except (PayloadError, TypeError, ValueError) as error:
            return self._invalid(message, error)
        except _Retry as retry:
            return _retry(mid, retry)
        except _Refused as refused:
            return _refusal(mid, refused)
        code, text = str(fields.get("code") or ""), str(fields.get("message") or "")
        if _succeeded(fields):
            result = InterceptResult.INTERCEPTED
        elif code in TOO_LATE_CODES:
            result = InterceptResult.TOO_LATE
        elif code in NOT_FOUND_CODES:
            result = InterceptResult.NOT_FOUND
        else:
            return _refusal(mid, _refused(fields, qm.CANCEL))
        answer = {"result": result.value, "code": code, "message": text}
        return DeliveryResult(mid, Outcome.DELIVERED, detail=text or None, answer=answer)

    # -- the stock pull -------------------------------------------------------------------
    def stock_snapshot(self) -> list[StockCount]:
        """Sellable (ZP) on-hand per SKU, every page of taobao.qimen.stock.query; QimenError
        when the WMS does not answer or refuses."""
        counts: dict[str, int] = {}
        page = 1
        while True:
            query = {
                "warehouseCode": self.warehouse.code,
                "ownerCode": self.credentials.customer_id,
                "inventoryType": qm.INVENTORY_GOOD,
                "page": page,
                "pageSize": qm.MAX_PAGE_SIZE,
            }
            try:
                fields = self._call(qm.STOCK_QUERY, query)
            except (_Retry, _Refused) as error:
                raise QimenError(f"warehouse {self.warehouse.code}: {error}") from None
            if not _succeeded(fields):
                refused = _refused(fields, qm.STOCK_QUERY)
                raise QimenError(f"warehouse {self.warehouse.code}: {refused}")
            items = qm.many(fields.get("items"), "item")
            for item in items:
                sku = str(item.get("itemCode") or "")
                if sku:
                    counts[sku] = counts.get(sku, 0) + int(item.get("quantity") or 0)
            total = int(fields.get("totalCount") or 0)
            if not items or page * qm.MAX_PAGE_SIZE >= total:
                break
            page += 1
        as_of = self._now()
        return [StockCount(sku, on_hand, as_of) for sku, on_hand in sorted(counts.items())]

    # -- one signed call ------------------------------------------------------------------
    def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = qm.encode(payload)
        params = qm.signed_query(method, body, self.credentials, self._now())
        try:
            response = self._http.post(
                qm.ROUTER_PATH,
                params=params,
                content=body,
                headers={"Content-Type": qm.CONTENT_TYPE},
            )
        except httpx.TimeoutException:
            raise _Retry(f"{method}: no answer within {self.timeout_s}s") from None
        except httpx.TransportError as error:
            raise _Retry(f"{method}: {type(error).__name__}: {error}") from None
        status = response.status_code
        if status in (408, 429) or status >= 500:
            wait = retry_after(response.headers.get("Retry-After"))
            raise _Retry(f"{method}: HTTP {status}", wait)
        if status >= 400:
            raise _Refused(f"http-{status}", f"{method}: HTTP {status}: {response.text[:200]}")
        try:
            return qm.read_response(response.content)
        except ValueError:
            text = response.text[:200]
            raise _Retry(f"{method}: the answer is not Qimen JSON: {text!r}") from None

    def close(self) -> None:
        self._http.close()


def _retry(message_id: str, retry: _Retry) -> DeliveryResult:
    return DeliveryResult(
        message_id, Outcome.RETRY, detail=retry.detail, retry_after_s=retry.retry_after_s
    )


def _refusal(message_id: str, refused: _Refused) -> DeliveryResult:
    return DeliveryResult(message_id, Outcome.REFUSED, detail=refused.detail, code=refused.code)
