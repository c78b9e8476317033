"""Rewrite the role table in docs/permissions.md from ROLES (run after changing permissions)."""

from __future__ import annotations

from pathlib import Path

from orderhub.permissions import ROLES, Permission

DOC = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"


def table() -> list[str]:
    roles = list(ROLES)
    rows = [f"| permission | {' | '.join(roles)} |", "|---" * (len(roles) + 1) + "|"]
    for permission in Permission:
        cells = "".join(" ✓ |" if permission in ROLES[r] else "  |" for r in roles)
        rows.append(f"| `{permission.value}` |{cells}")
    return rows


def main() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("| permission |"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    DOC.write_text("\n".join([*lines[:start], *table(), *lines[end:]]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
