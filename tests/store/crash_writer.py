"""Run by test_store_crash.py: write sessions as fast as possible and print each
acknowledged transaction id once its write returned (= committed), from
several concurrent writers that share group commits."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from edgectl.adapters.store import Event, EventType, MeterSample, Store, open_store
from edgectl.clock import SystemClock

WRITERS = 6  # concurrent writers: they share group commits, like stations do


async def writer(store: Store, base: datetime, round_no: int, k: int) -> None:
    i = 0
    while True:
        at = base + timedelta(seconds=i)
        started = await store.sessions.start("S1", 1 + k, f"R{round_no}-{k}-{i}", at, i)
        tid = started.session.transaction_id
        print(f"START {tid}", flush=True)
        await store.sessions.add_meter_values(tid, at + timedelta(milliseconds=500), energy_wh=i + 5)
        recorded = await store.sessions.record_meter_values(
            "S1", tid, [MeterSample(at + timedelta(milliseconds=600), float(i + 6))]
        )
        assert recorded.stored == 1
        print(f"SAMPLE {tid}", flush=True)
        await store.events.append(Event(EventType.TRANSACTION, "started", source="S1", details={"tid": tid}))
        await store.sessions.stop(tid, at + timedelta(seconds=1), i + 10, "Local")
        print(f"STOP {tid}", flush=True)
        i += 1


async def main(path: Path, round_no: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # keep stdout for ACKs
    base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=round_no)
    async with open_store(path, SystemClock(), max_events=100) as store:
        await asyncio.gather(*(writer(store, base, round_no, k) for k in range(WRITERS)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
