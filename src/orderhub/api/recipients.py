"""/api/v1/recipients: who alerts go to (email, WeCom, DingTalk, Feishu/Lark robots, webhooks).

The signing secret is write-only: it is taken, sealed at rest, and answered as `has_secret`. A
robot's address carries its credential (WeCom's key, DingTalk's access_token, Feishu's hook id),
so it is answered masked; send the whole address again to change it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.notifications import Recipient, RecipientKind, masked_address
from orderhub.permissions import Permission
from orderhub.services import notifications
from orderhub.services.ports import DeliveryResult

router = APIRouter(prefix="/api/v1", tags=["recipients"])
Reader = Annotated[Actor, Depends(Requires(Permission.RECIPIENT_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.RECIPIENT_MANAGE))]

ADDRESS_HELP = (
    "email: addresses, comma-separated; wecom: https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    "?key=...; dingtalk: https://oapi.dingtalk.com/robot/send?access_token=...; feishu: "
    "https://open.feishu.cn/open-apis/bot/v2/hook/...; webhook: your https endpoint"
)
SECRET_HELP = (
    "signs each message: DingTalk's SEC... (加签), Feishu's 签名校验 secret, the webhook's HMAC "
    "key (required for a webhook); none for email and WeCom. Never shown again"
)


class RecipientIn(Strict):
    code: str = Field(description="1-32 letters, digits, '_', '.' or '-'; alert rules name it")
    name: Annotated[str, Field(min_length=1, max_length=128)]
    kind: RecipientKind
    address: Annotated[str, Field(min_length=1, description=ADDRESS_HELP)]
    secret: Annotated[str, Field(description=SECRET_HELP)] = ""
    enabled: bool = True


class RecipientPatch(Strict):
    name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    kind: RecipientKind | None = None
    address: Annotated[str | None, Field(min_length=1, description=ADDRESS_HELP)] = None
    secret: Annotated[
        str | None, Field(description=SECRET_HELP + "; an empty string removes it")
    ] = None
    enabled: bool | None = None


class RecipientOut(BaseModel):
    code: str
    name: str
    kind: RecipientKind
    address: str = Field(description="a robot's credential in it masked (key…)")
    has_secret: bool = Field(description="whether a signing secret is stored (never shown)")
    enabled: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientOut:
        return cls(
            code=recipient.code,
            name=recipient.name,
            kind=recipient.kind,
            address=masked_address(recipient),
            has_secret=bool(recipient.secret),
            enabled=recipient.enabled,
            created_at=recipient.created_at,
            updated_at=recipient.updated_at,
        )


class TestResultOut(BaseModel):
    recipient: str
    outcome: str = Field(description="delivered, retry (not reached, rate-limited) or refused")
    detail: str | None = Field(description="what went wrong, in the channel's words")
    code: str | None = Field(description="the channel's code for a refusal (e.g. 310000)")
    answer: dict[str, Any] | None

    @classmethod
    def of(cls, code: str, result: DeliveryResult) -> TestResultOut:
        return cls(
            recipient=code,
            outcome=result.outcome.value,
            detail=result.detail,
            code=result.code,
            answer=result.answer,
        )


@router.get("/recipients", response_model=list[RecipientOut])
def list_recipients(request: Request, actor: Reader) -> list[RecipientOut]:
    """Every recipient, by code."""
    found = notifications.list_recipients(hub_of(request).uow.read_only(), actor=actor)
    return [RecipientOut.of(r) for r in found]


@router.get("/recipients/{code}", response_model=RecipientOut)
def get_recipient(code: str, request: Request, actor: Reader) -> RecipientOut:
    """One recipient (404 names how to add it)."""
    return RecipientOut.of(
        notifications.get_recipient(hub_of(request).uow.read_only(), code, actor=actor)
    )


@router.post("/recipients", response_model=RecipientOut, status_code=201)
def add_recipient(body: RecipientIn, request: Request, actor: Manager) -> RecipientOut:
    """Add a recipient; 409 if the code is taken, 422 for an address or secret that does not fit
    its kind (the detail says what it should look like)."""
    return RecipientOut.of(
        notifications.add_recipient(
            hub_of(request).uow(),
            actor=actor,
            code=body.code,
            name=body.name,
            kind=body.kind.value,
            address=body.address,
            secret=body.secret,
            enabled=body.enabled,
        )
    )


@router.patch("/recipients/{code}", response_model=RecipientOut)
def update_recipient(
    code: str, body: RecipientPatch, request: Request, actor: Manager
) -> RecipientOut:
    """Change what is given: name, kind, address, secret, enabled."""
    changes = body.model_dump(exclude_none=True)
    return RecipientOut.of(
        notifications.update_recipient(hub_of(request).uow(), code, actor=actor, changes=changes)
    )


@router.post("/recipients/{code}/test", response_model=TestResultOut)
def test_recipient(code: str, request: Request, actor: Manager) -> TestResultOut:
    """Send the recipient a test notice now and answer what its channel said (also for a
    disabled recipient, to try it before switching it on). Alerts go through the outbox."""
    hub = hub_of(request)
    result = notifications.send_test_notice(hub.uow.read_only(), hub.notifiers, code, actor=actor)
    return TestResultOut.of(code, result)
