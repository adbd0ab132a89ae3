"""The supervisor in-process: named tasks, readiness, failure, liveness checks."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from edgectl.clock import FakeClock
from edgectl.sdnotify import Notifier
from edgectl.supervisor import Supervisor, WatchdogService


class Forever:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    async def run(self) -> None:
        try:
            await asyncio.Future()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


class Boom:
    name = "boom"

    async def run(self) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("broken service")


def _listener(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "n.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    return sock, path


def _drain(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


async def test_named_tasks_ready_and_clean_stop(tmp_path: Path) -> None:
    sock, path = _listener(tmp_path)
    a, b = Forever("alpha"), Forever("beta")
    sup = Supervisor(Notifier({"NOTIFY_SOCKET": path}))
    sup.add(a)
    sup.add(b)
    with pytest.raises(ValueError, match="two services"):
        sup.add(Forever("alpha"))
    stop = asyncio.Event()
    runner = asyncio.create_task(sup.run(stop, "ok"))
    for _ in range(10):
        await asyncio.sleep(0)
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert {"alpha", "beta"} <= names
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert a.cancelled and b.cancelled
    assert _drain(sock) == [b"READY=1\nSTATUS=ok", b"STOPPING=1\nSTATUS=stopping"]
    sock.close()


async def test_a_failing_service_stops_everything() -> None:
    keep = Forever("keep")
    sup = Supervisor(Notifier({}))
    sup.add(keep)
    sup.add(Boom())
    with pytest.raises(ExceptionGroup) as info:
        await asyncio.wait_for(sup.run(asyncio.Event()), 2)
    assert info.group_contains(RuntimeError, match="broken service")
    assert keep.cancelled


async def test_watchdog_pings_only_while_healthy(tmp_path: Path) -> None:
    sock, path = _listener(tmp_path)
    clock = FakeClock()
    healthy = True
    service = WatchdogService(Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}), clock)
    service.add_check(lambda: healthy)
    task = asyncio.create_task(service.run())
    start = clock.monotonic()
    for _ in range(5):
        await asyncio.sleep(0)
    pings = _drain(sock)
    assert pings and set(pings) == {b"WATCHDOG=1"}
    assert clock.monotonic() - start == pytest.approx(len(pings) * 1.0)  # every half WatchdogSec
    healthy = False
    for _ in range(5):
        await asyncio.sleep(0)
    _drain(sock)  # the ping that was already due
    for _ in range(5):
        await asyncio.sleep(0)
    assert _drain(sock) == []
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sock.close()
