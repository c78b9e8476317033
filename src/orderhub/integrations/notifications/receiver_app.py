"""Local stand-ins for the chat robots and a webhook endpoint, for tests and the demo.

Each route has its provider's real path and checks what the provider checks, computing each
signature afresh from the provider's documented recipe (not with the senders' code, so a wrong
recipe on either side shows): the robot's token, the signature and its timestamp's age, the
message shape and size. It answers as the provider does, error bodies included (PROTOCOL.md),
records every message it took, and can be told to fail the next requests to a robot:

    rate_limit   the provider's own "too fast" answer (the webhook: HTTP 429, Retry-After: 1)
    server_error HTTP 500
    slow         answer after `slow_s` seconds (longer than the sender's timeout)

Paths: WeCom POST /cgi-bin/webhook/send?key=K; DingTalk POST /robot/send?access_token=T
[&timestamp&sign]; Feishu POST /open-apis/bot/v2/hook/{hook}; webhook POST /hooks/{name}.
GET /_recv/messages lists what arrived (?channel=). Answers marked "(local receiver)" are this
receiver's own, where the provider's exact words could not be confirmed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

WECOM, DINGTALK, FEISHU, WEBHOOK = "wecom", "dingtalk", "feishu", "webhook"
FAULTS = ("rate_limit", "server_error", "slow")
SIGN_MAX_AGE_S = 3600  # DingTalk and Feishu both take a timestamp within an hour
WEBHOOK_MAX_AGE_S = 300
FEISHU_SIGN_FAILED = "sign match fail or timestamp is not within one hour from current time"
DINGTALK_SIGN_FAILED = (
    "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"
)
WECOM_TOO_LONG = "markdown.content exceed max length 4096. invalid Request Parameter"


@dataclass(frozen=True)
class Received:
    channel: str
    robot: str  # the WeCom key, DingTalk token, Feishu hook id or webhook name
    body: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]
    at: float


@dataclass
class RobotDesk:
    """The robots the receiver knows, what they took and the faults waiting for them."""

    slow_s: float = 10.0
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    # Every request answered with an error, with what was said: proof of a refusal.
    refusals: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[tuple[str, str], deque[str]] = field(default_factory=dict)
    seen_ids: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, channel: str, robot: str, secret: str = "") -> None:
        with self.lock:
            self.secrets[(channel, robot)] = secret

    def fail_next(self, channel: str, robot: str, *faults: str) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
        with self.lock:
            self.faults.setdefault((channel, robot), deque()).extend(faults)

    def messages(self, channel: str | None = None, robot: str | None = None) -> list[Received]:
        with self.lock:
            return [
                m
                for m in self.received
                if (channel is None or m.channel == channel) and (robot is None or m.robot == robot)
            ]

    def _fault(self, channel: str, robot: str) -> str | None:
        with self.lock:
            waiting = self.faults.get((channel, robot))
            return waiting.popleft() if waiting else None

    def _known(self, channel: str, robot: str) -> bool:
        with self.lock:
            return (channel, robot) in self.secrets

    def _secret(self, channel: str, robot: str) -> str:
        with self.lock:
            return self.secrets.get((channel, robot), "")

    def _take(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def _refuse(self, channel: str, robot: str, answer: dict[str, Any], status: int) -> Response:
        with self.lock:
            self.refusals.append({"channel": channel, "robot": robot, **answer})
        return _json(answer, status)


def _json(
    document: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _body(raw: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _fresh(timestamp: str, unit_per_s: int, max_age_s: float) -> bool:
    try:
        sent_s = int(timestamp) / unit_per_s
    except ValueError:
        return False
    return abs(time.time() - sent_s) <= max_age_s


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def make_receiver_app(desk: RobotDesk) -> FastAPI:
    app = FastAPI(title="Notification receivers (WeCom, DingTalk, Feishu, webhook)")
    app.state.desk = desk

    async def faulted(channel: str, robot: str) -> Response | None:
        fault = desk._fault(channel, robot)
        if fault == "slow":
            await asyncio.sleep(desk.slow_s)
            return None
        if fault == "server_error":
            return _json({"error": "internal error (local receiver)"}, 500)
        if fault == "rate_limit":
            return _json(*RATE_LIMITED[channel])
        return None

    @app.post("/cgi-bin/webhook/send")
    async def wecom(request: Request, key: str = "") -> Response:
        if not desk._known(WECOM, key):
            return desk._refuse(
                WECOM, key, {"errcode": 93000, "errmsg": "invalid webhook url"}, 200
            )
        if (answer := await faulted(WECOM, key)) is not None:
            return answer
        body = _body(await request.body())
        content = ((body or {}).get("markdown") or {}).get("content")
        if body is None or body.get("msgtype") != "markdown" or not isinstance(content, str):
            return desk._refuse(
                WECOM,
                key,
                {"errcode": 40008, "errmsg": "invalid message type (local receiver)"},
                200,
            )
        if len(content.encode()) > 4096:
            return desk._refuse(
                WECOM,
                key,
                {
                    "errcode": 40058,
                    "errmsg": WECOM_TOO_LONG,
                },
                200,
            )
        desk._take(
            Received(
                WECOM, key, body, dict(request.headers), dict(request.query_params), time.time()
            )
        )
        return _json({"errcode": 0, "errmsg": "ok"})

    @app.post("/robot/send")
    async def dingtalk(
        request: Request, access_token: str = "", timestamp: str = "", sign: str = ""
    ) -> Response:
        if not desk._known(DINGTALK, access_token):
            return desk._refuse(
                DINGTALK, access_token, {"errcode": 300001, "errmsg": "token is not exist"}, 200
            )
        secret = desk._secret(DINGTALK, access_token)
        # 加签: Base64(HMAC-SHA256(secret, f"{timestamp}\n{secret}")), timestamp in ms; the query
        # string arrives URL-decoded.
        if secret and not (
            _fresh(timestamp, 1000, SIGN_MAX_AGE_S)
            and hmac.compare_digest(
                _b64_hmac(secret.encode(), f"{timestamp}\n{secret}".encode()), sign
            )
        ):
            return desk._refuse(
                DINGTALK,
                access_token,
                {
                    "errcode": 310000,
                    "errmsg": DINGTALK_SIGN_FAILED,
                },
                200,
            )
        if (answer := await faulted(DINGTALK, access_token)) is not None:
            return answer
        body = _body(await request.body())
        markdown = (body or {}).get("markdown") or {}
        if (
            body is None
            or body.get("msgtype") != "markdown"
            or not isinstance(markdown.get("title"), str)
            or not isinstance(markdown.get("text"), str)
        ):
            return desk._refuse(
                DINGTALK,
                access_token,
                {"errcode": 400, "errmsg": "markdown needs title and text (local receiver)"},
                200,
            )
        desk._take(
            Received(
                DINGTALK,
                access_token,
                body,
                dict(request.headers),
                dict(request.query_params),
                time.time(),
            )
        )
        return _json({"errcode": 0, "errmsg": "ok"})

    @app.post("/open-apis/bot/v2/hook/{hook}")
    async def feishu(hook: str, request: Request) -> Response:
        if not desk._known(FEISHU, hook):
            return desk._refuse(
                FEISHU, hook, {"code": 404, "msg": "no such hook (local receiver)"}, 404
            )
        raw = await request.body()
        body = _body(raw)
        secret = desk._secret(FEISHU, hook)
        if secret:
            # 签名校验: Base64(HMAC-SHA256(key=f"{timestamp}\n{secret}", msg="")), seconds.
            stamp, signed = (
                str((body or {}).get("timestamp", "")),
                str((body or {}).get("sign", "")),
            )
            expected = _b64_hmac(f"{stamp}\n{secret}".encode(), b"")
            if not (_fresh(stamp, 1, SIGN_MAX_AGE_S) and hmac.compare_digest(expected, signed)):
                return desk._refuse(
                    FEISHU,
                    hook,
                    {
                        "code": 19021,
                        "data": {},
                        "msg": FEISHU_SIGN_FAILED,
                    },
                    200,
                )
        if (answer := await faulted(FEISHU, hook)) is not None:
            return answer
        post = (((body or {}).get("content") or {}).get("post") or {}).get("zh_cn") or {}
        if (
            body is None
            or len(raw) > 20 * 1024
            or body.get("msg_type") != "post"
            or not isinstance(post.get("content"), list)
        ):
            return desk._refuse(FEISHU, hook, {"code": 9499, "msg": "Bad Request", "data": {}}, 200)
        desk._take(
            Received(
                FEISHU, hook, body, dict(request.headers), dict(request.query_params), time.time()
            )
        )
        return _json(
            {
                "code": 0,
                "msg": "success",
                "data": {},
                "Extra": None,
                "StatusCode": 0,
                "StatusMessage": "success",
            }
        )

    @app.post("/hooks/{name}")
    async def webhook(name: str, request: Request) -> Response:
        if not desk._known(WEBHOOK, name):
            return desk._refuse(WEBHOOK, name, {"error": "no such webhook"}, 404)
        raw = await request.body()
        stamp = request.headers.get("X-OrderHub-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                desk._secret(WEBHOOK, name).encode(), stamp.encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
        )
        given = request.headers.get("X-OrderHub-Signature", "")
        if not (_fresh(stamp, 1, WEBHOOK_MAX_AGE_S) and hmac.compare_digest(expected, given)):
            return desk._refuse(WEBHOOK, name, {"error": "bad signature or stale timestamp"}, 401)
        if (answer := await faulted(WEBHOOK, name)) is not None:
            return answer
        body = _body(raw)
        key = request.headers.get("Idempotency-Key", "")
        if body is None or not key or not isinstance(body.get("notice"), dict):
            return desk._refuse(WEBHOOK, name, {"error": "expected a notice and an id"}, 422)
        with desk.lock:
            repeat = (name, key) in desk.seen_ids
            desk.seen_ids.add((name, key))
        if repeat:  # taken before: say yes, do nothing
            return _json({"received": key, "duplicate": True})
        desk._take(
            Received(
                WEBHOOK, name, body, dict(request.headers), dict(request.query_params), time.time()
            )
        )
        return _json({"received": key, "duplicate": False})

    @app.get("/_recv/messages")
    def messages(channel: str | None = None) -> dict[str, Any]:
        return {
            "messages": [
                {"channel": m.channel, "robot": m.robot, "body": m.body, "at": m.at}
                for m in desk.messages(channel)
            ],
            "refusals": list(desk.refusals),
        }

    return app


# What each provider answers when a robot sends too fast (PROTOCOL.md).
RATE_LIMITED: dict[str, tuple[dict[str, Any], int, dict[str, str] | None]] = {
    WECOM: ({"errcode": 45009, "errmsg": "api freq out of limit"}, 200, None),
    DINGTALK: (
        {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
        200,
        None,
    ),
    FEISHU: ({"code": 11232, "msg": "frequency limited (local receiver)", "data": {}}, 200, None),
    WEBHOOK: ({"error": "too many requests"}, 429, {"Retry-After": "1"}),
}
