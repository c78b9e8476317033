"""What changed between two versions of a rule set, rule by rule (matched by name).

A rule is *added*, *removed*, *changed* (its condition, its outcome, and/or its place in the
order) or *unchanged*; the default outcome and the notes are compared too. The result is plain
data, shown as JSON by the API and as a table by the console.

Order matters because the first matching rule decides, but positions alone would mislead: one
rule inserted at the top shifts every rule below it without changing which of them wins over
which. So a rule counts as *moved* only when its order relative to the other rules kept in both
versions changed: the rules outside the longest common subsequence of the kept names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind


class RuleChange(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


class RulePart(StrEnum):
    CONDITION = "condition"
    OUTCOME = "outcome"
    POSITION = "position"


@dataclass(frozen=True)
class ValueChange:
    """One key of an outcome: its value before and after (None: absent)."""

    key: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RuleDiff:
    name: str
    change: RuleChange
    parts: tuple[RulePart, ...]  # what changed, for a changed rule; empty otherwise
    before: Rule | None  # None: added
    after: Rule | None  # None: removed
    position_before: int | None  # 1-based, as people count rules
    position_after: int | None
    outcome_changes: tuple[ValueChange, ...] = ()


@dataclass(frozen=True)
class RuleSetDiff:
    kind: RuleSetKind
    from_version: int  # 0: nothing was saved before `to_version`
    to_version: int
    rules: tuple[RuleDiff, ...]  # in the newer version's order, a removed rule where it was
    default_before: Mapping[str, Any] | None  # None: nothing was saved before
    default_after: Mapping[str, Any]
    notes_before: str
    notes_after: str

    def having(self, change: RuleChange | str) -> list[RuleDiff]:
        return [r for r in self.rules if r.change == change]

    @property
    def default_changed(self) -> bool:
        return self.default_before is None or dict(self.default_before) != dict(self.default_after)

    @property
    def default_changes(self) -> tuple[ValueChange, ...]:
        return _outcome_changes(self.default_before or {}, self.default_after)

    @property
    def notes_changed(self) -> bool:
        return self.notes_before != self.notes_after

    @property
    def identical(self) -> bool:
        """Nothing that decides differs (notes aside)."""
        return not self.default_changed and all(
            r.change is RuleChange.UNCHANGED for r in self.rules
        )


def diff_rule_sets(before: RuleSet | None, after: RuleSet) -> RuleSetDiff:
    """Compare `after` with `before` (None: the first version, every rule added)."""
    if before is not None and before.kind is not after.kind:
        raise ValueError(f"cannot compare {before.kind} rules with {after.kind} rules")
    old_rules = before.rules if before is not None else ()
    old = {rule.name: (n, rule) for n, rule in enumerate(old_rules)}
    new = {rule.name: (n, rule) for n, rule in enumerate(after.rules)}
    kept_in_new_order = [r.name for r in after.rules if r.name in old]
    kept_in_old_order = [r.name for r in old_rules if r.name in new]
    in_place = _longest_common_subsequence(kept_in_old_order, kept_in_new_order)

    entries: dict[str, RuleDiff] = {}
    for name, (n, rule) in new.items():
        if name not in old:
            entries[name] = RuleDiff(name, RuleChange.ADDED, (), None, rule, None, n + 1)
            continue
        m, was = old[name]
        parts = []
        if dict(was.condition) != dict(rule.condition):
            parts.append(RulePart.CONDITION)
        if dict(was.outcome) != dict(rule.outcome):
            parts.append(RulePart.OUTCOME)
        if name not in in_place:
            parts.append(RulePart.POSITION)
        entries[name] = RuleDiff(
            name,
            RuleChange.CHANGED if parts else RuleChange.UNCHANGED,
            tuple(parts),
            was,
            rule,
            m + 1,
            n + 1,
            _outcome_changes(was.outcome, rule.outcome),
        )
    removed = {
        name: RuleDiff(name, RuleChange.REMOVED, (), rule, None, m + 1, None)
        for name, (m, rule) in old.items()
        if name not in new
    }
    return RuleSetDiff(
        kind=after.kind,
        from_version=before.version if before is not None else 0,
        to_version=after.version,
        rules=tuple(_interleave(old_rules, after.rules, entries, removed)),
        default_before=before.default if before is not None else None,
        default_after=after.default,
        notes_before=before.notes if before is not None else "",
        notes_after=after.notes,
    )


def _outcome_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[ValueChange, ...]:
    keys = [*before, *(k for k in after if k not in before)]
    return tuple(
        ValueChange(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)
    )


def _longest_common_subsequence(a: Sequence[str], b: Sequence[str]) -> set[str]:
    """The names of one longest common subsequence (names are unique within a version)."""
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            lengths[i][j] = (
                lengths[i + 1][j + 1] + 1
                if a[i] == b[j]
                else max(lengths[i + 1][j], lengths[i][j + 1])
            )
    found: set[str] = set()
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            found.add(a[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return found


def _interleave(
    old_rules: Sequence[Rule],
    new_rules: Sequence[Rule],
    entries: Mapping[str, RuleDiff],
    removed: Mapping[str, RuleDiff],
) -> list[RuleDiff]:
    """The newer order, each removed rule placed after the rule that preceded it before (and
    still exists), so a reader sees it where it used to be."""
    after_anchor: dict[str | None, list[RuleDiff]] = {}
    anchor: str | None = None
    for rule in old_rules:
        if rule.name in removed:
            after_anchor.setdefault(anchor, []).append(removed[rule.name])
        else:
            anchor = rule.name
    ordered = list(after_anchor.get(None, []))
    for rule in new_rules:
        ordered.append(entries[rule.name])
        ordered.extend(after_anchor.get(rule.name, []))
    return ordered
