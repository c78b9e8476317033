"""The load process: `python -m orderhub.loadtest PLAN.json RESULT.json [--live]`.

Started by `orderhub loadtest`, which found the targets and wrote the plan. Exit 0: the run
happened and its result is in RESULT.json (the verdict is the command's to give); 2: it could
not run (the reason on stderr).
"""

# Locust patches sockets, ssl and threads with gevent's: that must come before anything imports
# them, so this import is the first thing the process does.
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main(argv: list[str]) -> int:
    import json

    from orderhub.loadtest.plan import Plan
    from orderhub.loadtest.runner import run

    if len(argv) < 2:
        sys.stderr.write("usage: python -m orderhub.loadtest PLAN.json RESULT.json [--live]\n")
        return 2
    plan = Plan.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    result = run(plan, live="--live" in argv[2:])
    Path(argv[1]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
