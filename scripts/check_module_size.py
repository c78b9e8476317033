"""Fail when a module under src/ grows past the size the design allows."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 400


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "src"
    too_big = sorted(
        (count, path.relative_to(root.parent))
        for path in root.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    )
    for count, path in too_big:
        print(
            f"{path}: {count} lines (limit {LIMIT}); split it into a package, one module per "
            "use case",
            file=sys.stderr,
        )
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
