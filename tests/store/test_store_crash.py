"""Kill a writer with SIGKILL at random points; every acknowledged write must survive.

"Acknowledged" = the store call returned and the writer printed the id, which
is exactly when the daemon would answer the station.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgectl.adapters.store import open_store
from edgectl.clock import FakeClock

WRITER = Path(__file__).with_name("crash_writer.py")
ROUNDS = 6


def _run_and_kill(db_path: Path, round_no: int, rng: random.Random) -> tuple[set[int], set[int], set[int]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db_path), str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    started: set[int] = set()
    stopped: set[int] = set()
    sampled: set[int] = set()
    enough = threading.Event()
    target_acks = rng.randint(5, 60)

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.endswith("\n"):
                break  # torn by the kill: never acknowledged
            kind, _, tid = line.strip().partition(" ")
            {"START": started, "SAMPLE": sampled, "STOP": stopped}[kind].add(int(tid))
            if len(started) >= target_acks:
                enough.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    if not enough.wait(timeout=60):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"writer made no progress: {err[-2000:]}")
    # kill at a random moment after enough acknowledgements, mid-write most likely
    threading.Event().wait(rng.uniform(0.0, 0.05))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    thread.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return started, sampled, stopped


@pytest.mark.slow
async def test_sigkill_never_loses_an_acknowledged_session(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    rng = random.Random(1234)
    acked_started: set[int] = set()
    acked_stopped: set[int] = set()
    acked_sampled: set[int] = set()
    for round_no in range(ROUNDS):
        started, sampled, stopped = _run_and_kill(db_path, round_no, rng)
        assert started, "no acknowledged write in this round"
        assert not (started & acked_started), "a transaction id was handed out twice"
        acked_started |= started
        acked_stopped |= stopped
        acked_sampled |= sampled

        with sqlite3.connect(db_path) as conn:  # a plain reader first: recovery from the WAL
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        async with open_store(db_path, FakeClock()) as store:
            assert await store.integrity_check() == "ok"
            rows = {s.transaction_id: s async for s in store.sessions.iter_range()}
            missing = acked_started - rows.keys()
            assert not missing, f"acknowledged starts lost: {sorted(missing)}"
            not_stopped = {tid for tid in acked_stopped if rows[tid].stop_at is None}
            assert not not_stopped, f"acknowledged stops lost: {sorted(not_stopped)}"
            for tid in acked_sampled:
                energies = {m.energy_wh for m in await store.sessions.samples(tid)}
                assert len(energies) >= 2, f"acknowledged meter values of {tid} lost: {energies}"
