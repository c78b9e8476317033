"""/api/v1/wms/{warehouse}/callbacks: the warehouse's reports, verified by their signature.

Answered in the WMS's own protocol: success once the reports are applied (or were applied
before), failure with the reason otherwise, so the WMS keeps the fact and sends it again.
A callback that cannot be read is kept in the inbox with the reason, never dropped silently.
"""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from orderhub.access import PUBLIC, hub_of
from orderhub.bootstrap import Hub
from orderhub.errors import OrderHubError
from orderhub.services.fulfilment.warehouse_reports import apply_reports
from orderhub.services.ports import CallbackRejected

router = APIRouter(prefix="/api/v1", tags=["warehouse"])
log = structlog.get_logger()


@router.post("/wms/{warehouse}/callbacks", dependencies=[Depends(PUBLIC)])
async def callback(warehouse: str, request: Request) -> Response:
    """A WMS callback. Public, because the signature over the query and raw body is the
    credential."""
    body = await request.body()
    query = dict(request.query_params)
    content_type, answer = await run_in_threadpool(
        _receive, hub_of(request), warehouse, query, body
    )
    return Response(answer, media_type=content_type)


def _receive(hub: Hub, code: str, query: dict[str, str], body: bytes) -> tuple[str, bytes]:
    with hub.uow.read_only() as uow:
        warehouse = uow.warehouses.get(code)
    try:
        reports = hub.wms.parse_callback(warehouse, query, body)
        outcomes = apply_reports(hub.uow, code, reports)
    except CallbackRejected as rejected:
        _keep_rejected(hub, code, str(rejected), query, body)
        return hub.wms.answer(warehouse, str(rejected))
    except OrderHubError as error:
        log.warning("wms callback not applied", warehouse=code, error=error.detail)
        return hub.wms.answer(warehouse, error.detail)
    log.info("wms callback", warehouse=code, outcomes=[o.outcome for o in outcomes])
    return hub.wms.answer(warehouse, None)


def _keep_rejected(hub: Hub, code: str, reason: str, query: dict[str, str], body: bytes) -> None:
    log.warning("wms callback rejected", warehouse=code, reason=reason)
    with hub.uow() as uow:
        key = f"rejected:{uuid.uuid4()}"
        uow.inbox.claim(key, source=f"wms:{code}", kind="rejected", at=uow.clock.now())
        raw = body.decode("utf-8", "replace")
        uow.inbox.set_outcome(key, f"{reason}\nquery: {query}\nbody: {raw}")
        uow.commit()
