"""Rule sets in SQL: every save a new version, the highest in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.storage.shared_cache import SharedCache
from orderhub.storage.tables import rule_sets


def _rule_set(row: RowMapping) -> RuleSet:
    return RuleSet(
        kind=RuleSetKind(row["kind"]),
        rules=tuple(Rule(r["name"], r["condition"], r["outcome"]) for r in row["rules"]),
        default=row["default_outcome"],
        version=row["version"],
        notes=row["notes"],
        saved_at=row["created_at"],
        saved_by=row["created_by"],
    )


class RuleCache(SharedCache[dict[RuleSetKind, RuleSet]]):
    """The rule sets in force: every paid order is routed and reviewed by them."""

    def __init__(self, ttl_s: float = 1.0) -> None:
        super().__init__(ttl_s)


class SqlRuleRepository:
    def __init__(self, conn: Connection, cache: RuleCache) -> None:
        self._conn, self._cache = conn, cache
        self.saved = False  # the unit of work clears the cache after it commits

    def current(self, kind: RuleSetKind) -> RuleSet | None:
        return self._cache.get(self._read_current).get(kind)

    def _read_current(self) -> dict[RuleSetKind, RuleSet]:
        latest = (
            select(rule_sets.c.kind, func.max(rule_sets.c.version).label("version"))
            .group_by(rule_sets.c.kind)
            .subquery()
        )
        query = select(rule_sets).join(
            latest,
            (rule_sets.c.kind == latest.c.kind) & (rule_sets.c.version == latest.c.version),
        )
        return {RuleSetKind(r["kind"]): _rule_set(r) for r in self._conn.execute(query).mappings()}

    def versions(self, kind: RuleSetKind) -> list[RuleSet]:
        query = (
            select(rule_sets)
            .where(rule_sets.c.kind == kind.value)
            .order_by(rule_sets.c.version.desc())
        )
        return [_rule_set(r) for r in self._conn.execute(query).mappings()]

    def add(self, rule_set: RuleSet, *, at: datetime, by: str) -> RuleSet:
        """Store as the next version (the unique key refuses a concurrent save of the same)."""
        latest = self._conn.execute(
            select(func.max(rule_sets.c.version)).where(rule_sets.c.kind == rule_set.kind.value)
        ).scalar_one()
        version = (latest or 0) + 1
        self._conn.execute(
            rule_sets.insert(),
            {
                "kind": rule_set.kind.value,
                "version": version,
                "rules": [
                    {"name": r.name, "condition": r.condition, "outcome": r.outcome}
                    for r in rule_set.rules
                ],
                "default_outcome": rule_set.default,
                "notes": rule_set.notes,
                "created_at": at,
                "created_by": by,
            },
        )
        self.saved = True
        return RuleSet(
            rule_set.kind, rule_set.rules, rule_set.default, version, rule_set.notes, at, by
        )
