"""/api/v1/webhooks/{channel}/{shop}: channel pushes, verified by their signature."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from orderhub.access import PUBLIC, hub_of
from orderhub.api.quarantine import IngestedOut
from orderhub.bootstrap import Hub
from orderhub.errors import NotAuthenticated, NotFound
from orderhub.integrations.channels.registry import channel as channel_spec
from orderhub.services.channel_ingest import Ingested, ingest_payloads

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
log = structlog.get_logger()


@router.post(
    "/webhooks/{channel}/{shop}", dependencies=[Depends(PUBLIC)], response_model=list[IngestedOut]
)
async def webhook(channel: str, shop: str, request: Request) -> JSONResponse:
    """A channel's push. Public, because the signature over the raw body is the credential."""
    body = await request.body()  # the raw bytes: the signature covers exactly these
    results = await run_in_threadpool(
        _receive, hub_of(request), channel, shop, dict(request.headers), body
    )
    return JSONResponse([vars(r) for r in results])


def _receive(
    hub: Hub, channel: str, shop: str, headers: dict[str, str], body: bytes
) -> list[Ingested]:
    spec = channel_spec(channel) if channel in hub.channels.channels() else None
    if spec is None or spec.webhook is None:
        raise NotFound(f"no webhook for channel '{channel}'")
    with hub.uow.read_only() as uow:
        found = [s for s in uow.shops.list() if s.code == shop and s.channel == channel]
    if not found:
        raise NotFound(f"no {channel} shop '{shop}'")
    refused = spec.webhook.verify(headers, body, found[0].credentials.app_secret)
    if refused is not None:
        log.warning("webhook refused", channel=channel, shop=shop, reason=refused)
        raise NotAuthenticated(f"webhook signature refused: {refused}")
    return ingest_payloads(
        hub.uow,
        channel=channel,
        shop=shop,
        mapping=hub.channels.mapping(channel),
        payloads=spec.webhook.payloads(body),
        source="webhook",
        review_required=hub.settings.review_required,
    )
