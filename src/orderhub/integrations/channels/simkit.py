"""What every channel simulator shares: realistic orders, their versions, faults, control routes.

A channel's simulator (e.g. `taobao/simulator.py`) keeps its orders in a `SimStore` as
channel-neutral `SimOrder`s, renders them in its own protocol (field names, status words, amount
and time formats, signing, paging) and mounts `control_router` for tests and the demo:

    POST /_sim/orders   {"count": 50}            create orders now (webhooks fire for push channels)
    POST /_sim/advance  {"count": 20}            move orders on: pay, ship, complete, cancel, refund
    PUT  /_sim/faults   {"rate_429": 0.1, ...}   what to inject from now on
    GET  /_sim/orders                             the ground truth: every order number and version

Faults, each a probability: 429 (with Retry-After), 500, timeout (the answer comes after
`timeout_s`), duplicate (a page repeats an order), out_of_order (a page carries an older version
of an order after the newer one), drop_webhook (a push is never sent), late_commit (an order
becomes visible with a modified time already in the past, as a row committed late does).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from orderhub.domain.mapping import ChannelState


@dataclass(frozen=True)
class SimLine:
    sku: str
    title: str
    quantity: int
    unit_price: int  # minor units
    discount: int = 0


@dataclass(frozen=True)
class SimOrder:
    """One version of an order as the channel holds it (frozen: each change is a new version)."""

    no: str
    created_at: datetime
    modified_at: datetime
    state: ChannelState
    buyer_id: str
    buyer_nick: str
    receiver: dict[str, str]
    lines: tuple[SimLine, ...]
    currency: str = "CNY"
    shipping_fee: int = 0
    discount: int = 0
    paid_at: datetime | None = None
    buyer_note: str = ""
    tags: tuple[str, ...] = ()
    order_type: str = "normal"
    refund_requested: bool = False
    carrier: str = ""
    tracking_no: str = ""
    version: int = 1

    @property
    def goods_total(self) -> int:
        return sum(x.quantity * x.unit_price - x.discount for x in self.lines)

    @property
    def paid_total(self) -> int:
        return self.goods_total + self.shipping_fee - self.discount


_CN_NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄晓明",
    "周杰",
    "吴婷",
    "徐丽",
    "孙强",
    "胡雪",
    "朱琳",
    "高峰",
    "林涛",
    "何欢",
    "郭靖",
    "马超",
    "罗敏",
]
_CN_PLACES = [
    ("浙江省", "杭州市", "西湖区", "文三路 90 号东部软件园 3 幢", "310012"),
    ("广东省", "深圳市", "南山区", "科技园南区高新南七道 18 号", "518057"),
    ("上海市", "上海市", "浦东新区", "张江路 665 号 2 楼", "201203"),
    ("北京市", "北京市", "海淀区", "中关村大街 27 号 1101 室", "100080"),
    ("四川省", "成都市", "武侯区", "天府大道中段 1388 号", "610041"),
    ("江苏省", "南京市", "鼓楼区", "中山北路 30 号", "210008"),
    ("湖北省", "武汉市", "洪山区", "珞喻路 1037 号", "430074"),
    ("福建省", "厦门市", "思明区", "鹭江道 8 号", "361001"),
]
_EN_NAMES = [
    "Olivia Smith",
    "Liam Johnson",
    "Emma Brown",
    "Noah Davis",
    "Ava Wilson",
    "Lucas Martin",
    "Mia Taylor",
    "Ethan Moore",
]
_EN_PLACES = [
    ("California", "San Francisco", "", "1 Market St, Suite 300", "94105"),
    ("New York", "New York", "", "350 5th Ave", "10118"),
    ("Ontario", "Toronto", "", "100 King St W", "M5X 1A9"),
    ("Washington", "Seattle", "", "400 Broad St", "98109"),
]
CATALOGUE = [
    ("TS-WHITE-L", "纯棉短袖T恤 白色 L", "Cotton T-shirt white L", 5900),
    ("TS-BLACK-M", "纯棉短袖T恤 黑色 M", "Cotton T-shirt black M", 5900),
    ("HOODIE-GRY-XL", "加绒连帽卫衣 灰色 XL", "Fleece hoodie grey XL", 16900),
    ("MUG-350", "陶瓷马克杯 350ml", "Ceramic mug 350ml", 3900),
    ("TEA-LONGJING-250", "明前龙井 250g 礼盒", "Longjing tea gift box 250g", 32800),
    ("SOCKS-5P", "中筒棉袜 5双装", "Cotton socks 5 pairs", 2990),
    ("BAG-CANVAS", "帆布托特包", "Canvas tote bag", 8800),
    ("SET-TEA-MUG", "茶具礼盒套装（龙井+马克杯）", "Tea and mug gift set", 34900),
]


class OrderFactory:
    """Realistic orders: Chinese names and addresses (or English ones), several SKUs, discounts,
    live-stream and presale orders, a buyer note now and then."""

    def __init__(self, seed: int = 7, *, english: bool = False, currency: str = "CNY") -> None:
        self.rng = random.Random(seed)
        self.english, self.currency = english, currency

    def make(self, no: str, at: datetime) -> SimOrder:
        rng = self.rng
        picks = rng.sample(CATALOGUE, rng.randint(1, 3))
        lines = tuple(
            SimLine(
                sku,
                en if self.english else zh,
                rng.randint(1, 3),
                price,
                rng.choice([0, 0, 0, 500]),
            )
            for sku, zh, en, price in picks
        )
        goods = sum(x.quantity * x.unit_price - x.discount for x in lines)
        kind = rng.choices(["normal", "live_stream", "presale", "gift"], weights=[80, 12, 6, 2])[0]
        tags = {"live_stream": ("#LIVE2026", "直播专享券"), "presale": ("预售",)}.get(kind, ())
        name = rng.choice(_EN_NAMES if self.english else _CN_NAMES)
        province, city, district, street, postcode = rng.choice(
            _EN_PLACES if self.english else _CN_PLACES
        )
        phone = (
            f"+1 415 555 {rng.randrange(10000):04d}"
            if self.english
            else f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        )
        return SimOrder(
            no=no,
            created_at=at,
            modified_at=at,
            state=ChannelState.AWAITING_PAYMENT,
            buyer_id=f"b{rng.randrange(10**6)}",
            buyer_nick=f"buyer_{rng.randrange(10**5)}",
            receiver={
                "name": name,
                "phone": phone,
                "province": province,
                "city": city,
                "district": district,
                "address": street,
                "postcode": postcode,
            },
            lines=lines,
            currency=self.currency,
            shipping_fee=0 if goods >= 9900 else 1000,
            discount=rng.choice([0, 0, 500, 1000]) if goods > 5000 else 0,
            buyer_note=rng.choice(["", "", "", "请尽快发货", "不要放快递柜"])
            if not self.english
            else "",
            tags=tags,
            order_type=kind,
        )


@dataclass
class Faults:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_s: float = 3.0
    duplicate: float = 0.0
    out_of_order: float = 0.0
    drop_webhook: float = 0.0
    late_commit: float = 0.0
    late_commit_s: float = 20.0
    seed: int = 11

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def roll(self, name: str) -> bool:
        rate = float(getattr(self, name))
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def update(self, values: dict[str, float]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(known)}")
        for name, value in values.items():
            setattr(self, name, value)


class SimStore:
    """The channel's orders, every version kept, thread-safe. Times come from `now`."""

    def __init__(
        self,
        factory: OrderFactory,
        *,
        prefix: str,
        faults: Faults,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.factory, self.prefix, self.faults = factory, prefix, faults
        self.now = now or (lambda: datetime.now(UTC))
        self.orders: dict[str, SimOrder] = {}
        self.history: dict[str, list[SimOrder]] = {}
        self.listeners: list[Callable[[SimOrder, str], None]] = []
        self._lock = threading.RLock()
        self._serial = 0

    def _save(self, order: SimOrder, topic: str) -> SimOrder:
        with self._lock:
            self.orders[order.no] = order
            self.history.setdefault(order.no, []).append(order)
        for listener in self.listeners:
            listener(order, topic)
        return order

    def create(self, count: int) -> list[SimOrder]:
        made = []
        for _ in range(count):
            with self._lock:
                self._serial += 1
                no = f"{self.prefix}{self._serial:09d}"
            at = self.now()
            if self.faults.roll("late_commit"):
                at -= timedelta(seconds=self.faults.late_commit_s)
            order = self.factory.make(no, at)
            if self.factory.rng.random() < 0.85:  # most buyers pay at once
                order = replace(order, state=ChannelState.PAID, paid_at=at)
            made.append(self._save(order, "create"))
        return made

    def change(self, no: str, **changes: Any) -> SimOrder:
        with self._lock:
            current = self.orders[no]
            at = max(self.now(), current.modified_at + timedelta(seconds=1))
            return self._save(
                replace(current, modified_at=at, version=current.version + 1, **changes), "update"
            )

    def advance(self, count: int) -> list[SimOrder]:
        """Move `count` open orders one step on, as buyers and the platform would."""
        rng = self.factory.rng
        with self._lock:
            open_orders = [
                o
                for o in self.orders.values()
                if o.state not in (ChannelState.COMPLETED, ChannelState.CANCELLED)
            ]
        moved = []
        for order in rng.sample(open_orders, min(count, len(open_orders))):
            if order.state is ChannelState.AWAITING_PAYMENT:
                if rng.random() < 0.2:
                    moved.append(self.change(order.no, state=ChannelState.CANCELLED))
                else:
                    moved.append(self.change(order.no, state=ChannelState.PAID, paid_at=self.now()))
            elif order.state is ChannelState.PAID and rng.random() < 0.1:
                moved.append(self.change(order.no, refund_requested=True))
            elif order.state is ChannelState.PAID:
                moved.append(
                    self.change(
                        order.no,
                        state=ChannelState.SHIPPED,
                        carrier="SF",
                        tracking_no=f"SF{rng.randrange(10**12):012d}",
                    )
                )
            else:
                moved.append(self.change(order.no, state=ChannelState.COMPLETED))
        return moved

    def changed(self, since: datetime, until: datetime) -> list[SimOrder]:
        """Current versions modified in [since, until), oldest first (the channel's list call)."""
        with self._lock:
            found = [o for o in self.orders.values() if since <= o.modified_at < until]
        return sorted(found, key=lambda o: (o.modified_at, o.no))

    def with_faults(self, page: list[SimOrder]) -> list[SimOrder]:
        """The page as a flaky channel serves it: repeats and stale versions mixed in."""
        served: list[SimOrder] = []
        for order in page:
            served.append(order)
            older = self.history.get(order.no, [])[:-1]
            if older and self.faults.roll("out_of_order"):
                served.append(older[-1])  # an older version after the newer one
            if self.faults.roll("duplicate"):
                served.append(order)
        return served


def fault_middleware(
    app: FastAPI,
    faults: Faults,
    *,
    error_body: Callable[[int], bytes],
    content_type: str = "application/json",
) -> None:
    """Inject 429 / 500 / timeouts on the channel's API routes (not on /_sim)."""

    @app.middleware("http")
    async def inject(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/_sim"):
            return await call_next(request)
        if faults.roll("rate_timeout"):
            await asyncio.sleep(faults.timeout_s)
        if faults.roll("rate_429"):
            return Response(
                error_body(429),
                status_code=429,
                media_type=content_type,
                headers={"Retry-After": "1"},
            )
        if faults.roll("rate_500"):
            return Response(error_body(500), status_code=500, media_type=content_type)
        return await call_next(request)


class _Count(BaseModel):
    count: int = Field(1, ge=1, le=100_000)


def control_router(store: SimStore) -> APIRouter:
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    @router.post("/orders")
    def create(body: _Count) -> dict[str, Any]:
        return {"created": [o.no for o in store.create(body.count)]}

    @router.post("/advance")
    def advance(body: _Count) -> dict[str, Any]:
        return {"moved": [o.no for o in store.advance(body.count)]}

    @router.put("/faults")
    def set_faults(body: dict[str, float]) -> dict[str, Any]:
        try:
            store.faults.update(body)
        except ValueError as error:
            return {"error": str(error)}
        return {f.name: getattr(store.faults, f.name) for f in fields(store.faults)}

    @router.get("/orders")
    def truth() -> dict[str, Any]:
        with store._lock:
            return {
                "orders": {
                    no: {
                        "version": o.version,
                        "state": o.state.value,
                        "modified_at": o.modified_at.isoformat(),
                    }
                    for no, o in store.orders.items()
                }
            }

    return router


@dataclass
class RunningServer:
    """An ASGI app served by uvicorn in a daemon thread (tests, `orderhub simulate channels`)."""

    app: Any
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RunningServer:
        import socket

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        for _ in range(500):
            if self._server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError(f"the simulator on port {self.port} did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
