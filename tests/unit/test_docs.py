"""The docs name what the code has: settings, actions, permissions per role."""

from __future__ import annotations

import re
from pathlib import Path

from orderhub.config import Settings
from orderhub.domain.transitions import Action, ExceptionReason
from orderhub.permissions import ROLES, Permission

ROOT = Path(__file__).resolve().parents[2]


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("make run") and lines[2].startswith("make test")


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"ORDERHUB_{name.upper()}" not in readme]
    assert missing == []


def test_states_doc_lists_every_action_and_reason() -> None:
    doc = (ROOT / "docs" / "states.md").read_text(encoding="utf-8")
    assert [a for a in Action if f"| `{a.value}` |" not in doc] == []
    assert [r for r in ExceptionReason if f"`{r.value}`" not in doc] == []


def test_permission_matrix_matches_the_roles() -> None:
    doc = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    header = next(line for line in doc.splitlines() if line.startswith("| permission |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")[1:]]
    assert roles == list(ROLES)
    table: dict[str, set[str]] = {role: set() for role in roles}
    for line in doc.splitlines():
        match = re.match(r"\| `([a-z_.]+)` \|(.*)\|$", line)
        if match:
            for role, cell in zip(roles, match.group(2).split("|"), strict=True):
                if cell.strip() == "✓":
                    table[role].add(match.group(1))
    assert table == {role: {p.value for p in perms} for role, perms in ROLES.items()}
    assert {p.value for p in Permission} == set().union(*table.values())
