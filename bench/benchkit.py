"""What the benchmarks share: a free port, and the channel simulators in a process of their own.

Run as `python bench/benchkit.py`: every channel simulator on a free port, their URLs as one JSON
line on stdout, then serving until stdin closes (the benchmark that started it ended).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from orderhub.integrations.channels.simulate import start_simulators


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_simulators() -> None:
    running = start_simulators(first_port=0)
    print(json.dumps({name: server.url for name, server in running.items()}), flush=True)
    sys.stdin.read()


@contextmanager
def simulators(in_process: bool = False) -> Iterator[dict[str, str]]:
    """Fresh channel simulators (no orders yet): {channel: base URL}. In a process of their own
    unless `in_process`, so their serving does not share the benchmark's interpreter."""
    if in_process:
        running = start_simulators(first_port=0)
        try:
            yield {name: server.url for name, server in running.items()}
        finally:
            for server in running.values():
                server.stop()
        return
    process = subprocess.Popen(
        [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulators exited with {process.wait()} before starting")
        yield json.loads(line)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    serve_simulators()
