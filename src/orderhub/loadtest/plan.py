"""What a load test drives, found through the running server's API before any load starts.

The shops come from `GET /api/v1/shops` (each one's channel and the address it pulls from); only
shops served by a channel simulator (they answer `/_sim/faults`) take part, so a load test never
places orders with a real channel. The warehouse comes from `GET /api/v1/warehouses` (its WMS
simulator's address, app key and customer id); the API never shows a WMS signing secret, so it
is given (`--wms-secret`) or, for the demo's simulated WMS, known.

Everything here runs before Locust is imported, in the `orderhub loadtest` process; the plan is
then handed as JSON to the process that runs the load.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.loadtest.profiles import PROFILES, Pacer, Profile, daily_rate

# The permissions the load test's token uses, and what for.
NEEDED_PERMISSIONS = {
    "order.read": "read the backlog (GET /api/v1/orders/counts)",
    "shop.read": "find the shops (GET /api/v1/shops)",
    "warehouse.read": "find the warehouse (GET /api/v1/warehouses)",
    "stock.read": "read the warehouse's stock (GET /api/v1/stock)",
}
APPROVE_PERMISSION = "order.approve"
RESTOCK_PERMISSION = "stock.adjust"
HOW_TO_TOKEN = "make one with `orderhub create-token admin --name loadtest` and pass it as --token"
HOW_TO_SERVE = (
    "start it with `make run` (or `orderhub migrate && orderhub demo && orderhub serve "
    "--simulators`)"
)
# Units per expected order a restock makes available of each SKU: an order holds 1-3 of the 8
# demo SKUs, 1-3 of each (about 0.5 units of a given SKU on average, 0.75 with the combo's
# parts), so 3 leaves room to spare.
RESTOCK_UNITS_PER_ORDER = 3
RESTOCK_FLOOR = 500


class CannotRun(Exception):
    """The load test cannot start: the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class Targets:
    """What the merchant requires of the peak: PASS needs all three."""

    orders_per_s: float
    p99_ms: float
    max_error_rate: float


@dataclass(frozen=True)
class ShopTarget:
    code: str
    channel: str
    url: str
    weight: float


@dataclass(frozen=True)
class WarehouseTarget:
    code: str
    wms_url: str
    app_key: str
    customer_id: str
    secret: str

    @property
    def credentials(self) -> WmsCredentials:
        return WmsCredentials(self.app_key, self.secret, self.customer_id)


@dataclass(frozen=True)
class Plan:
    url: str
    token: str
    profile: str
    daily_orders: float
    load_s: float
    drain_s: float
    users: int  # concurrent simulated clients per stream
    approve: bool  # a review desk approves what waits in pending_review
    targets: Targets
    shops: tuple[ShopTarget, ...]
    warehouse: WarehouseTarget
    restocked: dict[str, int] = field(default_factory=dict)

    @property
    def the_profile(self) -> Profile:
        return PROFILES[self.profile]

    @property
    def base_per_s(self) -> float:
        return daily_rate(self.daily_orders)

    @property
    def peak_per_s(self) -> float:
        shape = self.the_profile.shape
        return self.base_per_s * self.the_profile.multiplier * max(f for _, f in shape)

    @property
    def offered_per_s(self) -> float:
        """Orders a second the run offers on average."""
        return self.base_per_s * self.the_profile.mean_factor()

    def expected_orders(self) -> float:
        return Pacer(self.base_per_s, self.load_s, self.the_profile).expected()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw: dict[str, Any] = json.loads(text)
        raw["targets"] = Targets(**raw["targets"])
        raw["shops"] = tuple(ShopTarget(**s) for s in raw["shops"])
        raw["warehouse"] = WarehouseTarget(**raw["warehouse"])
        return cls(**raw)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


def users_for(peak_per_s: float) -> int:
    """Concurrent clients a stream needs: enough for a 0.5 s answer at the peak rate."""
    return max(4, int(peak_per_s / 2) + 1)


class Discovery:
    """Reads what the plan needs from the server (and checks it answers), over plain HTTP."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str) -> Any:
        try:
            response = self.http.get(path)
        except httpx.HTTPError as error:
            raise CannotRun(
                f"OrderHub is not reachable at {self.url} ({type(error).__name__}); {HOW_TO_SERVE}"
            ) from None
        if response.status_code == 401:
            raise CannotRun(f"the token was refused at {self.url}; {HOW_TO_TOKEN}")
        if response.status_code == 403:
            raise CannotRun(f"the token may not {path}: {_detail(response)}")
        if not response.is_success:
            raise CannotRun(f"GET {path} answered {response.status_code}: {_detail(response)}")
        return response.json()

    def check_server(self, *, approve: bool, restock: bool) -> None:
        """Reachable, the token accepted and allowed what the run does."""
        try:
            health = self.http.get("/api/v1/health")
        except httpx.HTTPError as error:
            raise CannotRun(
                f"OrderHub is not reachable at {self.url} ({type(error).__name__}); {HOW_TO_SERVE}"
            ) from None
        if not health.is_success:
            raise CannotRun(
                f"{self.url}/api/v1/health answered {health.status_code}; is it OrderHub?"
            )
        held = set(self._get("/api/v1/me")["permissions"])
        needed = dict(NEEDED_PERMISSIONS)
        if approve:
            needed[APPROVE_PERMISSION] = "approve orders waiting in review (--no-approve skips it)"
        if restock:
            needed[RESTOCK_PERMISSION] = "receive stock for the run (--no-restock skips it)"
        missing = [f"{p} ({why})" for p, why in needed.items() if p not in held]
        if missing:
            raise CannotRun(
                "the token's user lacks " + "; ".join(missing) + "; use an admin's token"
            )

    def shops(self, mix: dict[str, float]) -> tuple[ShopTarget, ...]:
        found = [s for s in self._get("/api/v1/shops") if s["enabled"]]
        simulated = [s for s in found if _answers(f"{s['base_url'].rstrip('/')}/_sim/faults")]
        if not simulated:
            raise CannotRun(
                f"none of the {len(found)} enabled shops pulls from a channel simulator, and a "
                f"load test never orders from a real channel; {HOW_TO_SERVE}"
            )
        per_channel: dict[str, int] = {}
        for shop in simulated:
            per_channel[shop["channel"]] = per_channel.get(shop["channel"], 0) + 1
        fallback = min(mix.values(), default=1.0)
        return tuple(
            ShopTarget(
                code=s["code"],
                channel=s["channel"],
                url=s["base_url"].rstrip("/"),
                weight=mix.get(s["channel"], fallback) / per_channel[s["channel"]],
            )
            for s in simulated
        )

    def warehouse(self, code: str | None, secret: str | None) -> WarehouseTarget:
        listed = [w for w in self._get("/api/v1/warehouses") if w["enabled"]]
        if code is not None:
            chosen = [w for w in listed if w["code"] == code]
            if not chosen:
                known = ", ".join(w["code"] for w in listed) or "none"
                raise CannotRun(f"no enabled warehouse '{code}' (enabled: {known})")
        else:
            chosen = [
                w
                for w in listed
                if w["wms"] == qm.PROTOCOL
                and _answers(f"{w['base_url'].rstrip('/')}/_sim/callbacks")
            ]
            if not chosen:
                raise CannotRun(
                    "no enabled warehouse is run by a Qimen WMS simulator to ship the orders; "
                    + HOW_TO_SERVE
                )
            if len(chosen) > 1:
                names = ", ".join(w["code"] for w in chosen)
                raise CannotRun(
                    f"several simulated warehouses ({names}): choose one with --warehouse"
                )
        found = chosen[0]
        wms_url = found["base_url"].rstrip("/")
        if found["wms"] != qm.PROTOCOL or not _answers(f"{wms_url}/_sim/callbacks"):
            raise CannotRun(
                f"warehouse {found['code']} is not run by a Qimen WMS simulator (at '{wms_url}')"
            )
        return WarehouseTarget(
            code=found["code"],
            wms_url=wms_url,
            app_key=found["app_key"],
            customer_id=found["customer_id"],
            secret=secret or _demo_secret(found),
        )

    def check_wms_secret(self, warehouse: WarehouseTarget) -> None:
        """One signed callback that changes nothing (a process report OrderHub ignores), so a
        wrong secret stops the run here rather than failing every shipment."""
        payload = {
            "order": {"orderCode": "LOADTEST-SECRET-CHECK", "warehouseCode": warehouse.code},
            "process": {"processStatus": "NEW", "operateTime": qm.qimen_time(datetime.now(UTC))},
        }
        body = qm.encode(payload)
        query = qm.signed_query(qm.PROCESS_REPORT, body, warehouse.credentials, datetime.now(UTC))
        response = self.http.post(
            f"/api/v1/wms/{warehouse.code}/callbacks",
            params=query,
            content=body,
            headers={"Content-Type": qm.CONTENT_TYPE},
        )
        try:
            answer = qm.read_response(response.content)
        except ValueError:
            answer = {"message": f"HTTP {response.status_code}, not a Qimen answer"}
        if not response.is_success or answer.get("flag") != "success":
            raise CannotRun(
                f"warehouse {warehouse.code} refused a signed callback "
                f"({answer.get('message') or response.status_code}); pass the secret stored for "
                "it as --wms-secret"
            )

    def restock(self, warehouse: WarehouseTarget, expected_orders: float) -> dict[str, int]:
        """Goods in for every SKU of the warehouse short of what the run needs, so the peak is
        not cut short by the demo's opening stock: received through OrderHub's API (a count
        from the WMS would wait while orders are at the warehouse unconfirmed), then the WMS
        simulator's books set to the same on-hand. Returns the on-hand figures set."""
        wanted = max(int(expected_orders * RESTOCK_UNITS_PER_ORDER), RESTOCK_FLOOR)
        levels = self._get(f"/api/v1/stock?warehouse={warehouse.code}")
        # A receipt's reference is unique: it makes a repeated receipt a no-op.
        run = f"loadtest-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        received: dict[str, int] = {}
        for level in levels:
            short = wanted - int(level["available"])
            if short <= 0:
                continue
            answer = self.http.post(
                "/api/v1/stock/receive",
                json={
                    "sku": level["sku"],
                    "warehouse": warehouse.code,
                    "quantity": short,
                    "reason": "orderhub loadtest: stock for the peak",
                    "reference": f"{run}-{level['sku']}",
                },
            )
            if not answer.is_success:
                raise CannotRun(
                    f"receiving {short} x {level['sku']} for the run failed ({answer.status_code}"
                    f": {_detail(answer)}); --no-restock skips it"
                )
            received[level["sku"]] = int(answer.json()["on_hand"])
        if received:
            with httpx.Client(base_url=warehouse.wms_url, timeout=30.0) as wms:
                wms.put("/_sim/stock", json=received).raise_for_status()
                wms.post("/_sim/flush", params={"timeout_s": 30}).raise_for_status()
        return received


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3.0).is_success
    except httpx.HTTPError:
        return False


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail") or response.text[:200])
    except ValueError:
        return response.text[:200]


def _demo_secret(warehouse: dict[str, Any]) -> str:
    from orderhub.integrations.wms.simulate import SIM_WMS_CREDENTIALS

    demo = SIM_WMS_CREDENTIALS
    if (warehouse["app_key"], warehouse["customer_id"]) == (demo.app_key, demo.customer_id):
        return demo.secret
    raise CannotRun(
        f"the API never shows warehouse {warehouse['code']}'s WMS signing secret: pass it as "
        "--wms-secret (or ORDERHUB_LOADTEST_WMS_SECRET)"
    )
