"""Migration 0008 gives existing orders their dwell data from their timelines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from orderhub.storage.database import make_engine, migrate

ORDER = (
    "INSERT INTO orders (id, channel, channel_order_no, shop, order_type, status, payment_status,"
    " currency, goods_total, shipping_fee, discount, tax, paid_total, receiver_name,"
    " receiver_phone, receiver_province, receiver_city, receiver_district, receiver_address,"
    " receiver_masked, tags, priority, custom_fields, created_at, paid_at, updated_at, version,"
    " never_merge) VALUES (:id, 'manual', :no, 'east', 'normal', :status, 'paid', 'CNY', 1, 0,"
    " 0, 0, 1, 'a', '1', 'p', 'c', 'd', 'x', false, :tags, 0, '{}', '2026-11-01 00:00:00',"
    " '2026-11-01 00:30:00', '2026-11-03 00:00:00', 1, false)"
)
EVENT = (
    "INSERT INTO order_events (order_id, action, from_status, to_status, at, actor_id,"
    " actor_name, source, detail) VALUES (:o, :a, :f, :t, :at, 'x', 'x', 'x', '{}')"
)


def _at(hours: float) -> datetime:
    return datetime.fromtimestamp(datetime(2026, 11, 1, tzinfo=UTC).timestamp() + hours * 3600, UTC)


def test_0008_backfills_state_since_milestones_and_pending_stays(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0007")
    moves = [
        ("create", None, "paid", 1),
        ("approve", "paid", "approved", 1.5),
        ("allocate", "approved", "allocated", 1.75),
        ("send_to_warehouse", "allocated", "sent_to_warehouse", 2),
        ("wms_accepted", "sent_to_warehouse", "sent_to_warehouse", 2.1),
        ("ship", "sent_to_warehouse", "shipped", 5),
    ]
    with engine.begin() as conn:
        conn.execute(text(ORDER), {"id": 1, "no": "A", "status": "shipped", "tags": '["vip"]'})
        conn.execute(text(ORDER), {"id": 2, "no": "B", "status": "paid", "tags": "[]"})
        for action, frm, to, hours in moves:
            at = _at(hours).replace(tzinfo=None).isoformat(" ")
            conn.execute(text(EVENT), {"o": 1, "a": action, "f": frm, "t": to, "at": at})
    migrate(engine)
    with engine.connect() as conn:
        orders = conn.execute(
            text("SELECT id, state_since, handed_off_at, shipped_at FROM orders ORDER BY id")
        ).all()
        stays = conn.execute(
            text("SELECT kind, step, seconds, tags FROM state_stays_pending ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(str(v)[:19] if v else v for v in o[1:]) for o in orders] == [
        ("2026-11-01 05:00:00", "2026-11-01 02:00:00", "2026-11-01 05:00:00"),
        # No timeline: its last update.
        ("2026-11-03 00:00:00", None, None),
    ]
    assert [(k, s, sec) for k, s, sec, _ in stays] == [
        ("state", "paid", 1800.0),
        ("state", "approved", 900.0),
        ("state", "allocated", 900.0),
        ("state", "sent_to_warehouse", 3 * 3600.0),
        ("hop", "payment_to_handoff", 1.5 * 3600),
        ("hop", "handoff_to_shipped", 3 * 3600.0),
    ]
    assert stays[0][3] == '["vip"]'
