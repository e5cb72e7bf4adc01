"""What the telemetry costs per request: one HTTP request through `RequestTelemetry` (request id,
trace, latency histogram) against the same request without it, and the metric updates a klantbeeld
makes (a source call observed, a cache lookup counted, a decision counted), in a single process and
in prometheus-client's multiprocess mode (`dgkb run --workers N`: every update is a write to a
memory-mapped file). Traces are off, as they are unless an OTLP endpoint is configured.

Each figure is CPU time per operation (best of 5 rounds, `time.process_time`), and, where `perf` may
count them, instructions per operation (the difference between two runs of different length, so the
interpreter's start-up cancels out): the measure the klantbeeld benchmark uses.

    .venv/bin/python bench/telemetry.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, ClassVar

ROUNDS = 7


class _Route:
    path_format = "/api/v1/contacten/{contact_id}/klantbeeld"
    path = "/contacten/{contact_id}/klantbeeld"
    path_regex = None
    param_convertors: ClassVar[dict[str, Any]] = {"contact_id": None}


ROUTE = _Route()


async def endpoint(scope: Any, receive: Any, send: Any) -> None:
    scope["route"] = ROUTE  # what the router sets
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> Any:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/contacten/0b7c3e1e-1d7f-4c43-9a8e-5ad1c2b5e3f1/klantbeeld",
        "headers": [(b"host", b"dgkb"), (b"authorization", b"Bearer x"), (b"accept", b"application/json")],
        "path_params": {"contact_id": "0b7c3e1e-1d7f-4c43-9a8e-5ad1c2b5e3f1"},
    }


def request_loop(app: Any, n: int) -> None:
    async def run() -> None:
        for _ in range(n):
            await app(_scope(), _receive, _send)

    asyncio.run(run())


def operations() -> dict[str, Callable[[int], None]]:
    from dgkb.api.telemetry import RequestTelemetry
    from dgkb.telemetry import metrics

    wrapped = RequestTelemetry(endpoint)
    source = metrics.SourceMetrics("brp")
    decisions = [(metrics.DECISIONS.labels("permit", ""), 9), (metrics.DECISIONS.labels("deny", "X"), 5)]

    def loop(body: Callable[[], None]) -> Callable[[int], None]:
        def run(n: int) -> None:
            for _ in range(n):
                body()

        return run

    def decided() -> None:
        for child, count in decisions:
            child.inc(count)

    return {
        "request without telemetry": lambda n: request_loop(endpoint, n),
        "request with telemetry": lambda n: request_loop(wrapped, n),
        "source call observed": loop(lambda: source.observe("ok", 0.012)),
        "cache lookup counted": loop(metrics.CACHE_HIT.inc),
        "decision counted": loop(decided),
    }


def cpu_per_op(names: list[str], n: int) -> dict[str, float]:
    """Best CPU time per operation of each, the operations' rounds interleaved (a shared machine's
    noise then falls on all of them alike)."""
    ops = operations()
    best = dict.fromkeys(names, float("inf"))
    for name in names:
        ops[name](min(n, 1000))  # warm: children bound, caches filled
    for _ in range(ROUNDS):
        for name in names:
            started = time.process_time()
            ops[name](n)
            best[name] = min(best[name], time.process_time() - started)
    return {name: b / n for name, b in best.items()}


def instructions(name: str, n: int, env: dict[str, str]) -> float | None:
    """Instructions retired by a fresh interpreter running `name` n times (perf stat), or None."""
    if shutil.which("perf") is None:
        return None
    done = subprocess.run(
        [
            "perf",
            "stat",
            "-x",
            ",",
            "-e",
            "instructions:u",
            sys.executable,
            __file__,
            "--child",
            name,
            str(n),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in done.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith("instructions") and parts[0].isdigit():
            return float(parts[0])
    return None


def child(name: str, n: int) -> None:
    run = operations()[name]
    run(n)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=2, metavar=("NAME", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--cpu-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, default=20_000, help="operations per round (20000)")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    if args.cpu_only:
        for name, seconds in cpu_per_op(list(operations()), args.n).items():
            print(f"{name}\t{seconds * 1e6:.2f}")
        return
    multiproc = tempfile.mkdtemp(prefix="dgkb-bench-metrics-")
    try:
        modes = {
            "one process": {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
            "multiprocess": {**os.environ, "PROMETHEUS_MULTIPROC_DIR": multiproc},
        }
        for mode, env in modes.items():
            print(f"\n{mode}: µs CPU per operation (best of {ROUNDS}), instructions per operation")
            # CPU time in a process of its own: the mode is chosen when prometheus_client is imported
            cpu = subprocess.run(
                [sys.executable, __file__, "--cpu-only", "-n", str(args.n)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout.splitlines()
            for line in cpu:
                name, us = line.split("\t")
                small = instructions(name, args.n, env)
                large = instructions(name, args.n * 3, env)
                per = f"{(large - small) / (args.n * 2):,.0f}" if small and large else "-"
                print(f"  {name:28} {float(us):7.2f} µs  {per:>8} instructions")
    finally:
        shutil.rmtree(multiproc, ignore_errors=True)


if __name__ == "__main__":
    main()
