"""Channel-neutral simulated orders and a factory of realistic ones."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from orderhub.domain.channels import Component
from orderhub.domain.mapping import ChannelState


@dataclass(frozen=True)
class SimLine:
    sku: str
    title: str
    quantity: int
    unit_price: int  # minor units
    discount: int = 0


@dataclass(frozen=True)
class SimParcel:
    """One parcel the merchant said left: its carrier, tracking no and what it carried.

    `lines` are (sku, quantity) pairs; empty when the channel was told a waybill without its
    contents (PDD's extra waybills), `extra` then marks it as told beside the order's shipment.
    """

    carrier: str
    tracking_no: str
    lines: tuple[tuple[str, int], ...] = ()
    extra: bool = False


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
    # Every parcel told to the channel, in order; the first one's carrier and tracking no are
    # also `carrier` / `tracking_no` (what a channel that ships per order shows).
    parcels: tuple[SimParcel, ...] = ()
    version: int = 1

    @property
    def goods_total(self) -> int:
        return sum(x.quantity * x.unit_price - x.discount for x in self.lines)

    def shipped(self, sku: str) -> int:
        """How many of `sku` left in parcels so far."""
        return sum(q for p in self.parcels for s, q in p.lines if s == sku)

    def remaining(self) -> dict[str, int]:
        """What is still to ship, per SKU (only SKUs with something left)."""
        left = {line.sku: line.quantity - self.shipped(line.sku) for line in self.lines}
        return {sku: quantity for sku, quantity in left.items() if quantity > 0}

    def parcel_of(self, sku: str) -> SimParcel | None:
        """The first parcel that carried some of `sku`, if any did."""
        return next((p for p in self.parcels if any(s == sku for s, _ in p.lines)), None)

    def has_parcel(self, tracking_no: str) -> bool:
        return any(p.tracking_no == tracking_no for p in self.parcels)

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
# What the simulators sell as one item and the merchant ships as its parts (a combo SKU).
COMBOS: dict[str, tuple[Component, ...]] = {
    "SET-TEA-MUG": (Component("TEA-LONGJING-250", 1, 32800), Component("MUG-350", 1, 3900)),
}


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
