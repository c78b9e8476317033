"""/api/v1/custom-fields and /api/v1/health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from orderhub import __version__
from orderhub.access import PUBLIC, Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.orders import CustomFieldDef, CustomFieldType
from orderhub.permissions import Permission
from orderhub.services import orders

router = APIRouter(prefix="/api/v1", tags=["settings"])


class CustomFieldIn(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    type: CustomFieldType
    label: str = ""
    required: bool = False
    choices: list[str] = Field(default_factory=list)


class CustomFieldOut(CustomFieldIn):
    pass


@router.get("/custom-fields", response_model=list[CustomFieldOut])
def list_custom_fields(
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))],
) -> list[CustomFieldOut]:
    return [
        CustomFieldOut(
            name=d.name, type=d.type, label=d.label, required=d.required, choices=list(d.choices)
        )
        for d in orders.list_custom_fields(hub_of(request).uow.read_only(), actor=actor)
    ]


@router.post("/custom-fields", response_model=CustomFieldOut, status_code=201)
def declare_custom_field(
    body: CustomFieldIn,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.SETTINGS_MANAGE))],
) -> CustomFieldOut:
    orders.declare_custom_field(
        hub_of(request).uow(),
        CustomFieldDef(body.name, body.type, body.label, body.required, tuple(body.choices)),
        actor=actor,
    )
    return CustomFieldOut(**body.model_dump())


class HealthOut(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=HealthOut, dependencies=[Depends(PUBLIC)])
def health() -> HealthOut:
    return HealthOut(status="ok", version=__version__)
