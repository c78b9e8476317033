"""Alerts in SQL: raised once per order, rule and stay (a unique key, so two checkers cannot both
raise one), escalated and resolved by guarded updates, told to each recipient once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.alerts import (
    UNRESOLVED,
    Alert,
    AlertStatus,
    Pending,
    Resolution,
    Waiting,
)
from orderhub.domain.notifications import Notice, Severity
from orderhub.domain.sla import SlaRule
from orderhub.errors import NotFound
from orderhub.services.ports.alerts import DueOrder
from orderhub.storage.sla import moved_on_query, overdue_query
from orderhub.storage.tables import alert_notices, alert_notifications, alerts

_UNRESOLVED = [s.value for s in UNRESOLVED]


def alert_of(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        order_id=row["order_id"],
        rule=row["rule"],
        rule_version=row["rule_version"],
        state=row["state"],
        since=row["since"],
        since_at=row["since_at"],
        severity=Severity(row["severity"]),
        status=AlertStatus(row["status"]),
        raised_at=row["raised_at"],
        shop=row["shop"],
        channel=row["channel"],
        channel_order_no=row["channel_order_no"],
        escalated_at=row["escalated_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"],
        resolution=Resolution(row["resolution"]) if row["resolution"] else None,
        note=row["note"],
    )


_INDEXES_ONLY = text("SET LOCAL enable_seqscan = off")


class SqlAlertRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        dialect: Any = postgresql if self._postgres else sqlite
        self._raise = (
            dialect.insert(alerts)
            .on_conflict_do_nothing(index_elements=["order_id", "rule", "since_at"])
            .returning(alerts.c.id)
        )
        self._notify = dialect.insert(alert_notifications).on_conflict_do_nothing(
            index_elements=["alert_id", "recipient", "escalation"]
        )

    # --- the checker --------------------------------------------------------------------------

    def overdue(
        self,
        rule: SlaRule,
        *,
        now: datetime,
        limit: int,
        after: tuple[datetime, int] | None = None,
    ) -> tuple[list[DueOrder], bool]:
        query, exact = overdue_query(rule, now=now, limit=limit, after=after)
        if self._postgres:
            # PostgreSQL estimates `status = :state` and `state_since < :cut` apart, and old
            # times mostly belong to other statuses (shipped, delivered): it expects a fifth of
            # the table and may scan it, where the index finds the few really waiting. The
            # checker's statements are all made for their indexes; for the rest of its
            # transaction, they are what the planner may use.
            self._conn.execute(_INDEXES_ONLY)
        found = [
            DueOrder(
                r["id"], r["status"], r["since_at"], r["shop"], r["channel"], r["channel_order_no"]
            )
            for r in self._conn.execute(query).mappings()
        ]
        return found, exact

    def raise_alerts(self, rule: SlaRule, due: Sequence[DueOrder], *, at: datetime) -> list[int]:
        rows = [
            {
                "order_id": d.order_id,
                "rule": rule.name,
                "rule_version": rule.version,
                "state": d.state,
                "since": rule.since.value,
                "since_at": d.since_at,
                "severity": rule.severity.value,
                "status": AlertStatus.OPEN.value,
                "shop": d.shop,
                "channel": d.channel,
                "channel_order_no": d.channel_order_no,
                "raised_at": at,
            }
            for d in due
        ]
        if not rows:
            return []
        # One prebuilt statement, many rows: SQLAlchemy batches them ("insertmanyvalues") and
        # compiles once; RETURNING tells the rows inserted here from those another checker had.
        return sorted(self._conn.execute(self._raise, rows).scalars())

    def moved_on(self, rule: SlaRule, *, limit: int) -> list[int]:
        return list(self._conn.execute(moved_on_query(rule, limit=limit)).scalars())

    def orphaned(self, rules: Sequence[str], *, limit: int) -> list[int]:
        query = select(alerts.c.id).where(alerts.c.status.in_(_UNRESOLVED)).limit(limit)
        if rules:
            query = query.where(alerts.c.rule.not_in(list(rules)))
        return list(self._conn.execute(query).scalars())

    def close(self, alert_ids: Sequence[int], *, at: datetime, resolution: Resolution) -> int:
        closed = 0
        for start in range(0, len(alert_ids), 500):
            closed += self._conn.execute(
                update(alerts)
                .where(
                    alerts.c.id.in_(alert_ids[start : start + 500]),
                    alerts.c.status.in_(_UNRESOLVED),
                )
                .values(
                    status=AlertStatus.RESOLVED.value,
                    resolved_at=at,
                    resolved_by="system",
                    resolution=resolution.value,
                )
            ).rowcount
        return closed

    def escalation_due(self, rule: SlaRule, *, now: datetime, limit: int) -> list[int]:
        if rule.escalate_after is None:
            return []
        query = (
            select(alerts.c.id)
            .where(
                alerts.c.rule == rule.name,
                alerts.c.status == AlertStatus.OPEN.value,
                alerts.c.since_at < now - rule.escalate_after,
                alerts.c.escalated_at.is_(None),
            )
            .order_by(alerts.c.since_at)
            .limit(limit)
        )
        return list(self._conn.execute(query).scalars())

    def escalate(self, alert_ids: Sequence[int], *, at: datetime) -> list[int]:
        escalated: list[int] = []
        for start in range(0, len(alert_ids), 500):
            statement = (
                update(alerts)
                .where(
                    alerts.c.id.in_(alert_ids[start : start + 500]),
                    alerts.c.status == AlertStatus.OPEN.value,
                    alerts.c.escalated_at.is_(None),
                )
                .values(escalated_at=at)
                .returning(alerts.c.id)
            )
            escalated.extend(self._conn.execute(statement).scalars())
        return sorted(escalated)

    def add_notifications(
        self, alert_ids: Sequence[int], recipients: Sequence[str], *, escalation: bool, at: datetime
    ) -> None:
        rows = [
            {"alert_id": a, "recipient": r, "escalation": escalation, "created_at": at}
            for a in alert_ids
            for r in dict.fromkeys(recipients)
        ]
        if rows:
            self._conn.execute(self._notify, rows)

    def waiting(self) -> list[Waiting]:
        n = alert_notifications
        query = (
            select(n.c.recipient, n.c.escalation, func.min(n.c.created_at), func.count())
            .where(n.c.notice_id.is_(None))
            .group_by(n.c.recipient, n.c.escalation)
        )
        return [
            Waiting(row[0], bool(row[1]), _aware(row[2]), int(row[3]))
            for row in self._conn.execute(query)
        ]

    def pending(self, recipient: str, escalation: bool, *, limit: int) -> list[Pending]:
        n = alert_notifications
        query = (
            select(
                n.c.id.label("pending_id"),
                n.c.recipient,
                n.c.escalation,
                n.c.created_at.label("noted_at"),
                *alerts.c,
            )
            .join(alerts, alerts.c.id == n.c.alert_id)
            .where(
                n.c.notice_id.is_(None), n.c.recipient == recipient, n.c.escalation == escalation
            )
            .order_by(n.c.id)
            .limit(limit)
        )
        if self._postgres:
            # Two checkers at once: each plans the rows the other has not locked.
            query = query.with_for_update(of=n, skip_locked=True)
        return [
            Pending(
                row["pending_id"],
                alert_of(row),
                row["recipient"],
                row["escalation"],
                row["noted_at"],
            )
            for row in self._conn.execute(query).mappings()
        ]

    def add_notice(self, notice: Notice, pending_ids: Sequence[int], *, at: datetime) -> int:
        notice_id: int = self._conn.execute(
            alert_notices.insert().returning(alert_notices.c.id),
            {
                "recipient": notice.recipient,
                "severity": notice.severity.value,
                "title": notice.title,
                "count": notice.count,
                "digest": notice.digest,
                "escalation": notice.escalation,
                "link": notice.link,
                "created_at": at,
            },
        ).scalar_one()
        for start in range(0, len(pending_ids), 500):
            self._conn.execute(
                update(alert_notifications)
                .where(
                    alert_notifications.c.id.in_(pending_ids[start : start + 500]),
                    alert_notifications.c.notice_id.is_(None),
                )
                .values(notice_id=notice_id)
            )
        return notice_id

    # --- the inbox ----------------------------------------------------------------------------

    def get(self, alert_id: int) -> Alert:
        row = self._conn.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist; GET /api/v1/alerts lists them")
        return alert_of(row)

    def page(
        self,
        *,
        status: AlertStatus | None = None,
        rule: str | None = None,
        severity: str | None = None,
        order_id: int | None = None,
        shop: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        for column, value in (
            (alerts.c.status, status.value if status else None),
            (alerts.c.rule, rule),
            (alerts.c.severity, severity),
            (alerts.c.order_id, order_id),
            (alerts.c.shop, shop),
        ):
            if value is not None:
                query = query.where(column == value)
        if before_id is not None:
            query = query.where(alerts.c.id < before_id)
        return [alert_of(r) for r in self._conn.execute(query).mappings()]

    def save(self, alert: Alert, *, was: AlertStatus) -> bool:
        changed = self._conn.execute(
            update(alerts)
            .where(alerts.c.id == alert.id, alerts.c.status == was.value)
            .values(
                status=alert.status.value,
                acknowledged_at=alert.acknowledged_at,
                acknowledged_by=alert.acknowledged_by,
                resolved_at=alert.resolved_at,
                resolved_by=alert.resolved_by,
                resolution=alert.resolution.value if alert.resolution else None,
                note=alert.note,
            )
        ).rowcount
        return bool(changed)

    def counts(self) -> dict[str, int]:
        query = select(alerts.c.status, func.count()).group_by(alerts.c.status)
        return {str(row[0]): int(row[1]) for row in self._conn.execute(query)}

    def notices_of(self, alert_id: int) -> list[dict[str, Any]]:
        n, notice = alert_notifications, alert_notices
        query = (
            select(
                n.c.recipient,
                n.c.escalation,
                n.c.created_at.label("noted_at"),
                notice.c.id.label("notice_id"),
                notice.c.digest,
                notice.c.count,
                notice.c.title,
                notice.c.created_at.label("sent_at"),
            )
            .outerjoin(notice, notice.c.id == n.c.notice_id)
            .where(n.c.alert_id == alert_id)
            .order_by(n.c.id)
        )
        return [dict(r) for r in self._conn.execute(query).mappings()]


def _aware(value: Any) -> datetime:
    """MIN() of a time column comes back as the driver has it: text on SQLite, naive or aware."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
