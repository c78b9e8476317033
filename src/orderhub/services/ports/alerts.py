"""What SLA checks and the alerts inbox need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orderhub.domain.alerts import Alert, AlertStatus, Pending, Resolution, Waiting
from orderhub.domain.notifications import Notice
from orderhub.domain.sla import SlaRule


@dataclass(frozen=True)
class DueOrder:
    """An order a rule is due to alert on: it has waited past `after` and has no alert yet."""

    order_id: int
    state: str
    since_at: datetime  # when the rule's clock started: the stay
    shop: str
    channel: str
    channel_order_no: str


class AlertRepository(Protocol):
    # --- the checker: every query is bounded by an index, none scans the orders ---------------
    def overdue(
        self,
        rule: SlaRule,
        *,
        now: datetime,
        limit: int,
        after: tuple[datetime, int] | None = None,
    ) -> tuple[list[DueOrder], bool]:
        """Orders in the rule's states whose clock started before now - after and that have no
        alert from the rule for this stay, oldest first (from after (clock start, order id));
        and whether the rule's condition was checked in full in SQL (False: what SQL could check
        was, the rest is the caller's)."""
        ...

    def raise_alerts(self, rule: SlaRule, due: Sequence[DueOrder], *, at: datetime) -> list[int]:
        """Insert an open alert per order; one that exists for the stay is left alone (another
        checker raised it). Returns the ids raised here."""
        ...

    def moved_on(self, rule: SlaRule, *, limit: int) -> list[int]:
        """Unresolved alerts of the rule whose order left the stay (another status, or its clock
        restarted)."""
        ...

    def orphaned(self, rules: Sequence[str], *, limit: int) -> list[int]:
        """Unresolved alerts of rules not among `rules` (removed from the rules in force)."""
        ...

    def close(self, alert_ids: Sequence[int], *, at: datetime, resolution: Resolution) -> int:
        """Resolve unresolved alerts by themselves; how many were."""
        ...

    def escalation_due(self, rule: SlaRule, *, now: datetime, limit: int) -> list[int]:
        """Open (not acknowledged) alerts of the rule, not yet escalated, whose clock started
        before now - escalate_after."""
        ...

    def escalate(self, alert_ids: Sequence[int], *, at: datetime) -> list[int]:
        """Mark them escalated; returns those this call escalated (not another checker)."""
        ...

    def add_notifications(
        self, alert_ids: Sequence[int], recipients: Sequence[str], *, escalation: bool, at: datetime
    ) -> None:
        """Note that each alert is to be told to each recipient (once: a repeat is ignored)."""
        ...

    def waiting(self) -> list[Waiting]:
        """Per recipient and kind (raised, escalated): the alerts waiting to be told."""
        ...

    def pending(self, recipient: str, escalation: bool, *, limit: int) -> list[Pending]:
        """The alerts waiting to be told to the recipient, oldest first (rows another writer
        is planning are left out on PostgreSQL)."""
        ...

    def add_notice(self, notice: Notice, pending_ids: Sequence[int], *, at: datetime) -> int:
        """Store the notice and mark the pending rows as told in it; returns its id."""
        ...

    # --- the inbox ---------------------------------------------------------------------------
    def get(self, alert_id: int) -> Alert:
        """The alert, or NotFound naming the id."""
        ...

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
        """Newest first, a page at a time (keyset on the id)."""
        ...

    def save(self, alert: Alert, *, was: AlertStatus) -> bool:
        """Write an acknowledgement or a resolution if the alert is still `was`; False when it
        changed meanwhile (the checker resolved it)."""
        ...

    def counts(self) -> dict[str, int]:
        """Alerts per status."""
        ...

    def notices_of(self, alert_id: int) -> list[dict[str, Any]]:
        """The notices the alert went into: recipient, digest, escalation, when."""
        ...
