"""A realistic demo data set: orders from every channel, spread over the last week and all states.

Each order goes through the same use cases a real one would (create, then actions), with a clock
the loader moves, so timelines and dwell times look like a real week's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.channels import Component
from orderhub.domain.orders import (
    Amounts,
    Invoice,
    Order,
    OrderLine,
    OrderType,
    PaymentStatus,
    Receiver,
)
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.domain.transitions import Action, ExceptionReason
from orderhub.domain.warehouses import WmsCredentials
from orderhub.services import catalogue, inventory, orders, shops, warehouses
from orderhub.services.ports import ChannelConnector, UnitOfWorkFactory, WmsConnector

DEMO_PASSWORD = "orderhub-demo"
DEMO_USERS = {
    "admin": "admin",
    "supervisor": "supervisor",
    "operator": "operator",
    "warehouse": "warehouse",
    "service": "customer_service",
    "agent": "agent",
}

_SKUS = [
    ("TS-WHITE-L", "纯棉短袖T恤 白色 L", 5900),
    ("TS-BLACK-M", "纯棉短袖T恤 黑色 M", 5900),
    ("HOODIE-GRY-XL", "加绒连帽卫衣 灰色 XL", 16900),
    ("MUG-350", "陶瓷马克杯 350ml", 3900),
    ("TEA-LONGJING-250", "明前龙井 250g 礼盒", 32800),
    ("SOCKS-5P", "中筒棉袜 5双装", 2990),
    ("BAG-CANVAS", "帆布托特包", 8800),
    ("CASE-IP16", "手机壳 iPhone 16", 4500),
    ("LAMP-DESK", "LED 护眼台灯", 19900),
    ("SCARF-WOOL", "羊毛围巾 驼色", 25900),
]
_PLACES = [
    ("浙江省", "杭州市", "西湖区", "文三路 90 号 东部软件园 3 幢"),
    ("广东省", "深圳市", "南山区", "科技园南区 高新南七道 18 号"),
    ("上海市", "上海市", "浦东新区", "张江路 665 号 2 楼"),
    ("北京市", "北京市", "海淀区", "中关村大街 27 号 1101 室"),
    ("四川省", "成都市", "武侯区", "天府大道中段 1388 号"),
    ("江苏省", "南京市", "鼓楼区", "中山北路 30 号"),
    ("湖北省", "武汉市", "洪山区", "珞喻路 1037 号"),
]
_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄晓明", "周杰", "吴婷"]
_CHANNELS = [  # channel, shops, share, masks receivers like the platform does
    ("taobao", ["tmall-flagship", "taobao-outlet"], 35, True),
    ("jd", ["jd-self"], 20, False),
    ("pdd", ["pdd-store"], 20, True),
    ("shopify", ["shopify-global"], 10, False),
    ("manual", ["wholesale"], 15, False),
]
_HAPPY_PATH = [
    Action.PAY,
    Action.APPROVE,
    Action.ALLOCATE,
    Action.SEND_TO_WAREHOUSE,
    Action.START_PICKING,
    Action.SHIP,
    Action.DELIVER,
    Action.COMPLETE,
]
# How often a demo order stops after each step of the happy path (the first: still unpaid).
_STOP_WEIGHTS = [10, 14, 5, 5, 8, 5, 15, 10, 15]
_PATHS: list[tuple[int, list[Action]]] = [
    *((weight, _HAPPY_PATH[:steps]) for steps, weight in enumerate(_STOP_WEIGHTS)),
    (5, [Action.CANCEL]),
    (6, [Action.PAY, Action.RAISE_EXCEPTION]),
    (2, [Action.PAY, Action.APPROVE, Action.HOLD]),
]
_CARRIERS = ["SF", "ZTO", "YTO", "JD", "YUNDA"]


class _ActionInput(TypedDict, total=False):
    reason: str
    reason_code: str
    params: dict[str, Any]


class MovableClock:
    """The demo's clock: the loader sets the time of each step."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class DemoSummary:
    orders: int
    by_channel: dict[str, int]


def _receiver(rng: random.Random, masked: bool) -> Receiver:
    province, city, district, street = rng.choice(_PLACES)
    name = rng.choice(_NAMES)
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    if masked:
        name, phone, street = name[0] + "**", phone[:3] + "****" + phone[-4:], street[:4] + "***"
    return Receiver(
        name, phone, province, city, district, street, f"{rng.randrange(100000, 999999)}", masked
    )


def _draft(rng: random.Random, n: int, created_at: datetime) -> Order:
    channel, shops, _, masks = rng.choices(_CHANNELS, weights=[c[2] for c in _CHANNELS])[0]
    lines = tuple(
        OrderLine(
            sku=sku,
            title=title,
            quantity=rng.randint(1, 3),
            unit_price=price,
            line_discount=rng.choice([0, 0, 0, 500]),
            channel_sku=f"{channel}-{sku}",
        )
        for sku, title, price in rng.sample(_SKUS, rng.randint(1, 3))
    )
    goods = sum(line.amount for line in lines)
    shipping = 0 if goods >= 9900 else 1000
    discount = rng.choice([0, 0, 500, 1000]) if goods > 5000 else 0
    tags = rng.sample(["#LIVE2026", "VIP", "预售", "赠品", "加急"], rng.choice([0, 0, 1, 1, 2]))
    order_type = (
        OrderType.LIVE_STREAM
        if "#LIVE2026" in tags
        else rng.choices(
            [OrderType.NORMAL, OrderType.PRESALE, OrderType.GIFT, OrderType.CROSS_BORDER],
            weights=[85, 7, 3, 5],
        )[0]
    )
    currency = "USD" if channel == "shopify" else "CNY"
    return Order(
        channel=channel,
        channel_order_no="" if channel == "manual" else f"{n + 3_000_000_000}",
        shop=rng.choice(shops),
        currency=currency,
        amounts=Amounts(goods, shipping, discount, 0, goods + shipping - discount),
        lines=lines,
        receiver=_receiver(rng, masks),
        created_at=created_at,
        order_type=order_type,
        payment_status=PaymentStatus.UNPAID,
        buyer_id=f"buyer{rng.randrange(5000)}",
        buyer_nick=f"tb_{rng.randrange(10**6)}" if channel == "taobao" else None,
        buyer_note=rng.choice([None, None, None, "请尽快发货", "不要放快递柜", "送人的，别放发票"]),
        invoice=Invoice("杭州某某科技有限公司", "91330100MA2XXXXX1A")
        if rng.random() < 0.05
        else None,
        tags=tuple(tags),
        priority=10 if "加急" in tags else 0,
    )


def load_demo(
    uow_factory: UnitOfWorkFactory,
    clock: MovableClock,
    *,
    count: int,
    now: datetime,
    actor: Actor,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Create `count` orders over the week before `now`, each moved along a realistic path."""
    rng = random.Random(seed)
    by_channel: dict[str, int] = {}
    channel_actor = Actor(
        id="channel", name="channel-sync", kind=ActorKind.CHANNEL, permissions=actor.permissions
    )
    for n in range(count):
        created_at = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
        clock.at = created_at + timedelta(seconds=rng.randrange(5, 90))
        draft = _draft(rng, n, created_at)
        order = orders.create_order(
            uow_factory(), draft, actor=channel_actor, source=draft.channel, review_required=True
        ).order
        assert order.id is not None
        by_channel[order.channel] = by_channel.get(order.channel, 0) + 1
        path = rng.choices([p for _, p in _PATHS], weights=[w for w, _ in _PATHS])[0]
        for action in path:
            step = timedelta(minutes=rng.randrange(2, 240))
            if clock.at + step >= now:
                break
            clock.at += step
            orders.apply_action(
                uow_factory(),
                order.id,
                action,
                actor=actor,
                review_required=True,
                **_inputs(rng, action),
            )
        if progress is not None:
            progress(n + 1)
    return DemoSummary(count, by_channel)


def _inputs(rng: random.Random, action: Action) -> _ActionInput:
    if action is Action.SHIP:
        carrier = rng.choice(_CARRIERS)
        return {"params": {"carrier": carrier, "tracking_no": f"{carrier}{rng.randrange(10**12)}"}}
    if action is Action.PAY:
        return {
            "params": {
                "payment_method": rng.choice(["alipay", "wechat_pay", "card"]),
                "transaction_no": f"2026{rng.randrange(10**16):016d}",
            }
        }
    if action is Action.ALLOCATE:
        return {"params": {"warehouse": rng.choice(["WH-HZ", "WH-SZ", "WH-LIVE"])}}
    if action is Action.CANCEL:
        return {"reason": rng.choice(["买家拍错了", "buyer changed mind", "缺货协商取消"])}
    if action is Action.RAISE_EXCEPTION:
        return {
            "reason_code": rng.choice(
                [
                    ExceptionReason.OUT_OF_STOCK,
                    ExceptionReason.RISK,
                    ExceptionReason.ADDRESS_CHANGED,
                    ExceptionReason.REFUND_REQUESTED,
                    ExceptionReason.UNMAPPED_SKU,
                ]
            ).value,
            "reason": "demo",
        }
    if action is Action.HOLD:
        return {"reason_code": ExceptionReason.BUYER_REQUEST.value, "reason": "买家要求暂缓发货"}
    return {}


def load_catalogue(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    products: Sequence[tuple[str, str]],
    combos: Mapping[str, Sequence[Component]],
) -> None:
    """Products (SKU, title), the combos among them made of their components."""
    for sku, title in products:
        if sku not in combos:
            catalogue.add_product(uows(), actor=actor, sku=sku, title=title)
    titles = dict(products)
    for sku, parts in combos.items():
        catalogue.add_product(
            uows(), actor=actor, sku=sku, title=titles.get(sku, sku), components=list(parts)
        )


def load_demo_channels(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    *,
    actor: Actor,
    products: Sequence[tuple[str, str]],
    combos: Mapping[str, Sequence[Component]],
    simulators: dict[str, str],
    credentials: Credentials,
) -> list[str]:
    """The SKU catalogue and one shop per channel, pulling from the local simulators."""
    load_catalogue(uows, actor=actor, products=products, combos=combos)
    codes = []
    for name, url in sorted(simulators.items()):
        shop = shops.create_shop(
            uows(),
            connector,
            actor=actor,
            code=f"{name}-demo",
            channel=name,
            name=f"{name} demo shop",
            base_url=url,
            credentials=credentials,
            settings=SyncSettings(interval_s=10, overlap_s=60, initial_lookback_s=3600),
        )
        codes.append(shop.code)
    return codes


def load_demo_warehouse(
    uows: UnitOfWorkFactory,
    wms: WmsConnector,
    *,
    actor: Actor,
    code: str,
    base_url: str,
    credentials: WmsCredentials,
    stock: Mapping[str, int],
    name: str = "Main warehouse (simulated WMS)",
    rate_per_s: float = 50.0,
) -> None:
    """A warehouse run by a (simulated) Qimen WMS, with `stock` received for each SKU."""
    warehouses.create_warehouse(
        uows(),
        wms,
        actor=actor,
        code=code,
        name=name,
        protocol="qimen",
        base_url=base_url,
        credentials=credentials,
        rate_per_s=rate_per_s,
    )
    for sku, quantity in stock.items():
        inventory.receive(
            uows(),
            actor=actor,
            sku=sku,
            warehouse=code,
            quantity=quantity,
            reason="demo opening stock",
        )
