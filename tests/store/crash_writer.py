"""Run by test_store_crash.py: write sessions as fast as possible and print each
acknowledged transaction id once its write returned (= committed)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from edgectl.adapters.store import Event, EventType, open_store
from edgectl.clock import SystemClock


async def main(path: Path, round_no: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # keep stdout for ACKs
    base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=round_no)
    async with open_store(path, SystemClock(), max_events=100) as store:
        i = 0
        while True:
            started = await store.sessions.start("S1", 1 + i % 2, f"R{round_no}-{i}", base + timedelta(seconds=i), i)
            tid = started.session.transaction_id
            print(f"START {tid}", flush=True)
            await store.sessions.add_meter_values(tid, base + timedelta(seconds=i, milliseconds=500), energy_wh=i + 5)
            await store.events.append(Event(EventType.TRANSACTION, "started", source="S1", details={"tid": tid}))
            await store.sessions.stop(tid, base + timedelta(seconds=i + 1), i + 10, "Local")
            print(f"STOP {tid}", flush=True)
            i += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
