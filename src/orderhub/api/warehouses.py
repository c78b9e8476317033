"""/api/v1/warehouses: where orders ship from, the WMS that runs each one, and what waits in each
warehouse's queues.

The WMS signing secret is write-only: it is taken, sealed at rest, and answered as `has_secret`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from orderhub.access import Requires, hub_of, read_connection
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.warehouses import Warehouse, WmsCredentials
from orderhub.permissions import Permission
from orderhub.services import warehouses
from orderhub.storage.warehouse_queues import QueueCounts, warehouse_queues

router = APIRouter(prefix="/api/v1", tags=["warehouses"])
Reader = Annotated[Actor, Depends(Requires(Permission.WAREHOUSE_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.WAREHOUSE_MANAGE))]


class CredentialsIn(Strict):
    app_key: str = ""
    secret: Annotated[
        str, Field(description="the signing secret the WMS shares; never shown again")
    ] = ""
    customer_id: Annotated[
        str, Field(description="the owner (customer) id the WMS knows you by")
    ] = ""


class CredentialsPatch(Strict):
    app_key: str | None = None
    secret: str | None = None
    customer_id: str | None = None


class WarehouseIn(Strict):
    code: str = Field(description="1-32 letters, digits, '_' or '-', e.g. WH-MAIN")
    name: Annotated[str, Field(min_length=1, max_length=128)]
    wms: Annotated[
        str, Field(description="the WMS protocol: 'qimen', or 'none' to ship by hand")
    ] = "none"
    base_url: Annotated[
        str, Field(description="the WMS's http(s) address (needed unless wms is none)")
    ] = ""
    credentials: CredentialsIn = CredentialsIn()
    rate_per_s: Annotated[
        float, Field(gt=0, description="messages a second the relay sends it")
    ] = 50.0


class WarehousePatch(Strict):
    name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    wms: str | None = None
    base_url: str | None = None
    enabled: bool | None = None
    credentials: Annotated[
        CredentialsPatch | None,
        Field(description="only the fields given change; the others are kept"),
    ] = None
    rate_per_s: Annotated[float | None, Field(gt=0)] = None


class WarehouseOut(BaseModel):
    code: str
    name: str
    wms: str
    base_url: str
    enabled: bool
    rate_per_s: float
    app_key: str
    customer_id: str
    has_secret: bool = Field(description="whether a signing secret is stored (it is never shown)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, warehouse: Warehouse) -> WarehouseOut:
        return cls(
            code=warehouse.code,
            name=warehouse.name,
            wms=warehouse.wms,
            base_url=warehouse.base_url,
            enabled=warehouse.enabled,
            rate_per_s=warehouse.rate_per_s,
            app_key=warehouse.credentials.app_key,
            customer_id=warehouse.credentials.customer_id,
            has_secret=bool(warehouse.credentials.secret),
            created_at=warehouse.created_at,
            updated_at=warehouse.updated_at,
        )


class QueueCountsOut(BaseModel):
    queue: str = Field(description="the queue's name; empty for the warehouse as a whole")
    total: int
    by_stage: dict[str, int] = Field(
        description="out_of_stock, allocated, sent_to_warehouse, picking: how many wait at each"
    )
    oldest_waiting_since: datetime | None = Field(
        description="when the longest-waiting order was paid (UTC)"
    )
    oldest_waiting_s: float | None = Field(description="how long it has waited, in seconds")
    top_priority: int | None

    @classmethod
    def of(cls, counts: QueueCounts, now: datetime) -> QueueCountsOut:
        return cls(
            queue=counts.queue,
            total=counts.total,
            by_stage=counts.by_stage,
            oldest_waiting_since=counts.oldest_since,
            oldest_waiting_s=counts.oldest_wait_s(now),
            top_priority=counts.top_priority,
        )


class WaitingOrderOut(BaseModel):
    id: int
    channel: str
    channel_order_no: str
    shop: str
    status: str
    stage: str
    queue: str
    priority: int
    effective_priority: float = Field(
        description="the priority plus what waiting added (ORDERHUB_PRIORITY_AGING_PER_MIN "
        "points a minute): the queue is worked highest first"
    )
    waiting_since: datetime
    receiver_province: str
    tags: list[str]


class WarehouseQueueOut(BaseModel):
    warehouse: str
    queue: str | None = Field(description="the queue asked for; null: every queue")
    overall: QueueCountsOut
    queues: list[QueueCountsOut]
    orders: list[WaitingOrderOut] = Field(
        description="highest effective priority first (priority plus aging), then the "
        "longest waiting; at most `limit`"
    )
    limit: int


@router.get("/warehouses/{code}/queue", response_model=WarehouseQueueOut)
def warehouse_queue(
    code: str,
    request: Request,
    actor: Reader,
    conn: Annotated[Connection, Depends(read_connection)],
    queue: Annotated[str | None, Query(min_length=1, description="one queue only")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="orders listed")] = 200,
) -> WarehouseQueueOut:
    """What waits in the warehouse, per queue: allocated, sent, picking and out of stock (not
    yet shipped), with counts, the oldest wait, and the orders in priority order."""
    hub = hub_of(request)
    warehouses.get_warehouse(hub.uow.read_only(), code, actor=actor)  # 404 for an unknown code
    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    found = warehouse_queues(
        conn,
        code,
        queue=queue,
        limit=limit,
        aging_per_min=hub.settings.priority_aging_per_min,
        now=now,
    )
    return WarehouseQueueOut(
        warehouse=found.warehouse,
        queue=found.queue,
        overall=QueueCountsOut.of(found.overall, now),
        queues=[QueueCountsOut.of(q, now) for q in found.queues],
        orders=[WaitingOrderOut(**o) for o in found.orders],
        limit=found.limit,
    )


@router.get("/warehouses", response_model=list[WarehouseOut])
def list_warehouses(request: Request, actor: Reader) -> list[WarehouseOut]:
    """Every warehouse, by code."""
    found = warehouses.list_warehouses(hub_of(request).uow.read_only(), actor=actor)
    return [WarehouseOut.of(w) for w in found]


@router.get("/warehouses/{code}", response_model=WarehouseOut)
def get_warehouse(code: str, request: Request, actor: Reader) -> WarehouseOut:
    """One warehouse (404 names the command that adds it)."""
    return WarehouseOut.of(
        warehouses.get_warehouse(hub_of(request).uow.read_only(), code, actor=actor)
    )


@router.post("/warehouses", response_model=WarehouseOut, status_code=201)
def create_warehouse(body: WarehouseIn, request: Request, actor: Manager) -> WarehouseOut:
    """Add a warehouse; 409 if the code is taken, 422 for an unknown protocol or a bad URL."""
    hub = hub_of(request)
    return WarehouseOut.of(
        warehouses.create_warehouse(
            hub.uow(),
            hub.wms,
            actor=actor,
            code=body.code,
            name=body.name,
            protocol=body.wms,
            base_url=body.base_url,
            credentials=WmsCredentials(**body.credentials.model_dump()),
            rate_per_s=body.rate_per_s,
        )
    )


@router.patch("/warehouses/{code}", response_model=WarehouseOut)
def update_warehouse(
    code: str, body: WarehousePatch, request: Request, actor: Manager
) -> WarehouseOut:
    """Change what is given: name, wms, base_url, enabled, credentials (per field), rate_per_s."""
    hub = hub_of(request)
    changes = body.model_dump(exclude_none=True)
    return WarehouseOut.of(
        warehouses.update_warehouse(hub.uow(), hub.wms, code, actor=actor, changes=changes)
    )
