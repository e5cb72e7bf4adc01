"""Infrastructure servers a fault test owns: a redis-server or nats-server of its own on a free port,
which the test may stop, kill, pause (SIGSTOP) or restart without touching the shared ones that
other tests use. Skipped only where the binary is absent (CI installs both)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest


def _binary(name: str, debian_path: str) -> str:
    """The server binary on PATH, or where Debian installs it (/usr/sbin is not on every PATH)."""
    return shutil.which(name) or (debian_path if Path(debian_path).exists() else "")


REDIS_SERVER = _binary("redis-server", "/usr/bin/redis-server")
NATS_SERVER = _binary("nats-server", "/usr/sbin/nats-server")

needs_redis_server = pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed")
needs_nats_server = pytest.mark.skipif(not NATS_SERVER, reason="nats-server is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _accepting(port: int) -> None:
    """Wait until something accepts connections on the port (the server started)."""
    for _ in range(500):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise AssertionError(f"no server came up on port {port}")


class OwnServer:
    """One server process on a fixed port that can be stopped and started again on that port."""

    def __init__(self, argv: list[str], port: int) -> None:
        self._argv = argv
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, argv: list[str] | None = None) -> None:
        assert self.process is None, "already running"
        if argv is not None:
            self._argv = argv
        self.process = subprocess.Popen(  # noqa: ASYNC220 (a short-lived spawn, not a wait)
            self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await _accepting(self.port)

    async def stop(self) -> None:
        """Kill it (SIGKILL: nothing is saved) and wait until it is gone."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)  # a paused process cannot die
            process.kill()
        await asyncio.to_thread(process.wait)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel does), nothing answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@contextlib.asynccontextmanager
async def own_redis() -> AsyncIterator[OwnServer]:
    port = free_port()
    server = OwnServer(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        port,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def nats_argv(port: int, store: Path) -> list[str]:
    return [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)]


@contextlib.asynccontextmanager
async def own_nats(store: Path) -> AsyncIterator[OwnServer]:
    port = free_port()
    await asyncio.to_thread(store.mkdir, parents=True, exist_ok=True)
    server = OwnServer(nats_argv(port, store), port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


__all__ = [
    "NATS_SERVER",
    "REDIS_SERVER",
    "OwnServer",
    "free_port",
    "nats_argv",
    "needs_nats_server",
    "needs_redis_server",
    "own_nats",
    "own_redis",
]
