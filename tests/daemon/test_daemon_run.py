"""`edgectl run` as systemd runs it: a subprocess, a NOTIFY_SOCKET, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgectl.adapters.store.db import load_migrations

CONFIG = """\
data_dir = "{data_dir}"
[ocpp]
host = "127.0.0.1"
port = 0
[web]
host = "127.0.0.1"
http_port = 0
https_port = 0
[files]
host = "127.0.0.1"
port = 0
[log]
level = "info"
format = "json"
"""


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    yield sock, path
    sock.close()


def _wait_for(sock: socket.socket, wanted: str, deadline_s: float, seen: list[str]) -> bool:
    end = time.monotonic() + deadline_s  # noqa: TID251 - a real subprocess: real time
    while time.monotonic() < end:  # noqa: TID251
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            continue
        seen.append(message)
        if wanted in message.split("\n"):
            return True
    return False


def _start(tmp_path: Path, notify_path: str, watchdog_usec: str | None) -> subprocess.Popen[str]:
    config = tmp_path / "edgectl.toml"
    config.write_text(CONFIG.format(data_dir=tmp_path / "data"))
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHDOG_USEC", "WATCHDOG_PID", "EDGECTL_CONFIG")}
    env["NOTIFY_SOCKET"] = notify_path
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = watchdog_usec
    return subprocess.Popen(
        [sys.executable, "-m", "edgectl", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_ready_watchdog_and_clean_stop(
    tmp_path: Path, notify_socket: tuple[socket.socket, str], stop_signal: signal.Signals
) -> None:
    sock, path = notify_socket
    proc = _start(tmp_path, path, watchdog_usec="400000")  # WatchdogSec=0.4 s: a ping every 0.2 s
    seen: list[str] = []
    try:
        assert _wait_for(sock, "READY=1", 20, seen), f"no READY=1: {seen} {proc.poll()}"
        assert _wait_for(sock, "WATCHDOG=1", 5, seen), f"no WATCHDOG=1: {seen}"
        assert _wait_for(sock, "WATCHDOG=1", 5, seen), "the watchdog pinged only once"
        proc.send_signal(stop_signal)
        assert _wait_for(sock, "STOPPING=1", 5, seen), f"no STOPPING=1: {seen}"
        _, stderr = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    for event in ("site.none", "daemon.ready", "daemon.stopping", "store.closed", "daemon.stopped"):
        assert f'"event": "{event}"' in stderr, (event, stderr)
    # the store was created, migrated, and left consistent
    with sqlite3.connect(tmp_path / "data" / "edgectl.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(load_migrations())
        messages = [r[0] for r in conn.execute("SELECT message FROM events ORDER BY id")]
        assert messages == ["daemon started", "daemon stopped"]


def test_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("no_such_key = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "edgectl", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "no_such_key" in proc.stderr


def test_newer_database_exits_1(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "edgectl.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    _, path = notify_socket
    proc = _start(tmp_path, path, watchdog_usec=None)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "daemon.failed" in stderr and "newer" in stderr
