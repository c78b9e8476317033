"""What the warehouse reports: progress, shipments with tracking, proof of delivery, stock counts.

The WMS owns these facts, so they apply even to an order that is held meanwhile (the hold is
released with the reason). Each report is applied once: the inbox remembers its message id, and
a repeat changes nothing. One callback is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderhub.domain.fulfilment import ReportKind, WarehouseReport, order_id_of
from orderhub.domain.parcels import parcel_of
from orderhub.errors import NotFound
from orderhub.services.fulfilment import flow, parcel_reports
from orderhub.services.fulfilment.stock import apply_count
from orderhub.services.fulfilment.warehouse_moves import moves_for
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory, WmsConnector


@dataclass(frozen=True)
class ReportOutcome:
    message_id: str
    kind: str
    outcome: str  # applied / duplicate / ignored / not applied, with why


def apply_reports(
    uows: UnitOfWorkFactory, warehouse: str, reports: Sequence[WarehouseReport]
) -> list[ReportOutcome]:
    outcomes: list[ReportOutcome] = []
    with uows() as uow:
        uow.warehouses.get(warehouse)  # NotFound names the code: a callback for nobody
        now = uow.clock.now()
        uow.orders.prefetch([i for r in reports if (i := order_id_of(r.outbound_no or ""))])
        keys = [f"wms:{warehouse}:{r.message_id}" for r in reports]
        fresh = uow.inbox.claim_many(
            {key: r.kind.value for key, r in zip(keys, reports, strict=True)},
            source=f"wms:{warehouse}",
            at=now,
        )
        for report, key in zip(reports, keys, strict=True):
            if key not in fresh:
                outcomes.append(ReportOutcome(report.message_id, report.kind, "duplicate"))
                continue
            fresh.discard(key)  # a repeat within the same callback is a duplicate too
            outcome = _apply(uow, warehouse, report)
            if outcome != "applied":
                uow.inbox.set_outcome(key, outcome)
            outcomes.append(ReportOutcome(report.message_id, report.kind, outcome))
        uow.commit()
    return outcomes


def _apply(uow: UnitOfWork, warehouse: str, report: WarehouseReport) -> str:
    if report.kind is ReportKind.STOCK:
        notes = [
            apply_count(uow, warehouse, count, reference=f"wms:{warehouse}:{report.message_id}")
            for count in report.stock
        ]
        return "applied" if all(ok for ok, _ in notes) else "; ".join(n for _, n in notes)
    parcel_no = parcel_of(report.outbound_no or "")
    if parcel_no is not None:
        return parcel_reports.apply_report(uow, warehouse, report, parcel_no)
    order_id = order_id_of(report.outbound_no or "")
    if order_id is None:
        return f"ignored: '{report.outbound_no}' is not an OrderHub outbound number"
    try:
        order = uow.orders.get(order_id)
    except NotFound:
        return f"ignored: order {order_id} does not exist"
    if order.warehouse != warehouse:
        return f"ignored: order {order_id} ships from {order.warehouse}, not {warehouse}"
    events = moves_for(order, warehouse, report)
    if not events:
        return f"ignored: order {order_id} is {order.status.value}"
    flow.record(uow, order, events, save=True)
    return "applied"


def pull_stock(uows: UnitOfWorkFactory, wms: WmsConnector, warehouse: str) -> list[ReportOutcome]:
    """The periodic pull: the WMS's on-hand figures, applied like a pushed stock report."""
    with uows.read_only() as uow:
        found = uow.warehouses.get(warehouse)
    counts = wms.client(found).stock_snapshot()
    if not counts:
        return []
    as_of = max(c.as_of for c in counts)
    report = WarehouseReport(
        message_id=f"pull:{as_of.isoformat()}",
        warehouse=warehouse,
        kind=ReportKind.STOCK,
        at=as_of,
        stock=tuple(counts),
    )
    return apply_reports(uows, warehouse, [report])
