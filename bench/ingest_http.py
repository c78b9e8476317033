"""The HTTP phase of bench/ingest.py: uvicorn in a subprocess, wrk with bench/ingest.lua.

Run as a script (`ingest_http.py --serve-port N`) it is the server: what `orderhub serve` does,
on the database named by ORDERHUB_DATABASE_URL, one worker, no access log.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchkit import free_port

LUA = Path(__file__).resolve().parent / "ingest.lua"


def log(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


def serve(port: int) -> None:
    """The `orderhub serve` equivalent, run as a subprocess: one worker, no access log."""
    import uvicorn

    from orderhub.app import create_app
    from orderhub.bootstrap import bootstrap
    from orderhub.config import Settings

    uvicorn.run(
        create_app(bootstrap(Settings())),
        host="127.0.0.1",
        port=port,
        workers=1,
        access_log=False,
        log_level="warning",
    )


def wait_for_port(port: int, server: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port} within {timeout_s} s")


def wrk(
    port: int,
    env: dict[str, str],
    phase: str,
    duration_s: float,
    opts: argparse.Namespace,
    delay_ms: float,
) -> dict[str, Any]:
    env = {**env, "BENCH_PHASE": phase, "BENCH_DELAY_MS": f"{max(0.0, delay_ms):.3f}"}
    seconds = max(1, round(duration_s))
    command = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}/api/v1/orders"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
            failed = [k for k in result if k.endswith("_errors") or k == "timeouts"]
            result["failed"] = sum(result[k] for k in failed)
            if result["failed"]:
                log(f"wrk {phase}: {result['failed']} requests failed: {result}")
            return result
    raise RuntimeError(f"wrk printed no BENCH_RESULT line:\n{done.stdout}\n{done.stderr}")


def run(
    url: str, token: str, body: dict[str, Any], directory: Path, opts: argparse.Namespace
) -> dict[str, Any]:
    """Full-load rate, then p99 at half that rate, of POST /api/v1/orders with `body`."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    port = free_port()
    env = {**os.environ, "ORDERHUB_DATABASE_URL": url, "ORDERHUB_SECRET_KEY": "bench"}
    env["ORDERHUB_LOG_LEVEL"] = "WARNING"
    wrk_env = {**os.environ, "BENCH_TOKEN": token}
    wrk_env["BENCH_BODY"] = json.dumps(body, ensure_ascii=False)
    server_log = directory / "server.log"
    with server_log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve-port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server)
        wrk(port, wrk_env, "warm", 1.0, opts, 0)
        log(f"http: wrk -t{opts.threads} -c{opts.connections} for {opts.duration:g} s")
        full = wrk(port, wrk_env, "full", opts.duration, opts, 0)
        log(f"http: {full['rate']:.0f} orders/s, p99 {full['p99_us'] / 1000:.1f} ms at full load")
        # wrk has no fixed-rate mode: each connection pauses after every response (ingest.lua
        # draws the pause at random around a mean) so that connections / (pause + latency) is
        # half the rate just measured. A short run at a first guess calibrates the mean pause.
        target = full["rate"] / 2
        delay_ms = max(0.0, opts.connections * 1000 / target - full["latency_mean_us"] / 1000)
        probe = wrk(port, wrk_env, "probe", max(2.0, opts.duration / 5), opts, delay_ms)
        cycle_ms = opts.connections * 1000 / probe["rate"]
        delay_ms = max(0.0, delay_ms + opts.connections * 1000 / target - cycle_ms)
        half = wrk(port, wrk_env, "half", opts.duration, opts, delay_ms)
        log(
            f"http: {half['rate']:.0f} orders/s (target {target:.0f}, mean pause "
            f"{delay_ms:.1f} ms), p50 {half['p50_us'] / 1000:.2f} ms, "
            f"p99 {half['p99_us'] / 1000:.2f} ms"
        )
        half["failed"] += probe["failed"]
        return {"full": full, "half": half, "target": target}
    except Exception:
        sys.stderr.write(server_log.read_text(errors="replace")[-4000:])
        raise
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the benchmark's server")
    parser.add_argument("--serve-port", type=int, required=True)
    serve(parser.parse_args().serve_port)
