"""The fast transactions export (worker thread, integer microseconds) against the straightforward one.

`cdr_reference` is the first implementation (datetimes, zoneinfo per row, one
sample query per session): for any sessions, samples, TOU periods and time
zone (DST days, slots past midnight or emptied by a DST gap, offsets that are
not whole hours), both must write the same bytes. Then the plumbing: a
consumer that stops (cancelled, client gone, write failing) stops the worker
thread promptly, the queue stays bounded, and the event loop keeps running.
"""

from __future__ import annotations

import asyncio
import string
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgectl.adapters.store import Store, open_store
from edgectl.adapters.web import cdr
from edgectl.core.site import WEEKDAYS, Connector, Site, SiteSettings, Station, Tou, TouPeriod, TouSlot, Wiring, Zone

from . import cdr_reference
from .support import Env, basic

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu",
         "America/St_Johns", "Pacific/Chatham", "Europe/Dublin", "Europe/Amsterdam"]
# Around DST changes (EU, US, southern hemisphere), a plain day, and 1930 (Amsterdam then ran at +00:19:32).
ANCHORS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
           datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
           datetime(2026, 4, 5, 2, tzinfo=UTC), datetime(2026, 10, 4, 2, tzinfo=UTC),
           datetime(2026, 1, 7, 12, tzinfo=UTC), datetime(1930, 6, 1, tzinfo=UTC)]
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TEXT = st.text(alphabet=string.ascii_letters + string.digits + ',"\r\n é%', max_size=6)


def _site(timezone: str, periods: tuple[TouPeriod, ...]) -> Site:
    return Site(
        settings=SiteSettings(timezone=timezone),
        zones=(Zone("main", "Main", 100),),
        stations=(
            Station("S1", "Station 1", "generic_ac", "main",
                    (Connector(1, Wiring.TRI123, 32, "T2"), Connector(2, Wiring.MONO1, 32, 'T,"E"'))),
            Station("S2", 'Station, "two" 100%', "generic_ac", "main", (Connector(1, Wiring.MONO1, 32, "TE"),)),
        ),
        tou=Tou(enabled=False, periods=periods),
    )


slot_times = st.builds(dtime, st.integers(0, 23), st.sampled_from([0, 0, 15, 30, 45, 59]))
periods = st.lists(
    st.builds(
        TouPeriod,
        name=st.text(alphabet=string.ascii_letters + ', "', min_size=1, max_size=5),
        percent=st.just(50),
        days=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(tuple),
        slots=st.lists(st.builds(TouSlot, slot_times, slot_times), min_size=1, max_size=3).map(tuple),
    ),
    max_size=3,
).map(tuple)
samples = st.lists(st.tuples(st.integers(-3600, 30 * 3600), st.one_of(st.none(), st.floats(-5e3, 9e4))), max_size=5)
sessions = st.lists(
    st.fixed_dictionaries({
        "station": st.sampled_from(["S1", "S2", "GONE,1"]),
        "connector": st.integers(1, 2),
        "tag": TEXT,
        "start_s": st.integers(-2 * 86_400, 2 * 86_400),
        "start_us": st.sampled_from([0, 0, 0, 1, 500_000, 999_999]),
        "duration_s": st.one_of(st.integers(0, 3 * 86_400), st.sampled_from([0, 1, 3600, 86_400])),
        "duration_us": st.sampled_from([0, 0, 500_000, 123]),
        "meter_start": st.one_of(st.integers(0, 10_000), st.integers(0, 10**12)),
        "delta": st.integers(-100, 200_000),
        "open": st.booleans(),
        "samples": samples,
        "comment": TEXT,
    }),
    min_size=1, max_size=6,
)


async def _seed(store: Store, anchor: datetime, spec: list[dict[str, Any]]) -> None:
    for s in spec:
        start = anchor + timedelta(seconds=s["start_s"], microseconds=s["start_us"])
        started = await store.sessions.start(s["station"], s["connector"], s["tag"], start, s["meter_start"])
        tid = started.session.transaction_id
        if started.replayed:
            continue
        energy = float(s["meter_start"])
        for offset_s, step in s["samples"]:
            energy = energy if step is None else energy + step
            await store.sessions.add_meter_values(tid, start + timedelta(seconds=offset_s),
                                                  energy_wh=None if step is None else energy)
        if not s["open"]:
            stop = start + timedelta(seconds=s["duration_s"], microseconds=s["duration_us"])
            await store.sessions.stop(tid, stop, s["meter_start"] + s["delta"], comment=s["comment"] or None)


async def _export(module: Any, store: Store, site: Site, lo: datetime | None, hi: datetime | None,
                  now: datetime, keep: Callable[[str], bool] | None) -> tuple[str, int]:
    parts: list[str] = []

    async def write(text: str) -> None:
        parts.append(text)

    count = await module.write_csv(write, store, site, lo, hi, now, keep)
    return "".join(parts), count


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), anchor=st.sampled_from(ANCHORS), tou=periods, spec=sessions,
       now_s=st.integers(-86_400, 6 * 86_400), bounds=st.sampled_from(["none", "from", "to", "both"]),
       scoped=st.booleans())
def test_same_bytes_as_the_reference(zone: str, anchor: datetime, tou: tuple[TouPeriod, ...],
                                     spec: list[dict[str, Any]], now_s: int, bounds: str, scoped: bool) -> None:
    site = _site(zone, tou)
    now = anchor + timedelta(seconds=now_s)
    lo = anchor - timedelta(hours=20) if bounds in ("from", "both") else None
    hi = anchor + timedelta(hours=20) if bounds in ("to", "both") else None
    keep = (lambda sid: sid != "S2") if scoped else None

    async def run() -> tuple[tuple[str, int], tuple[str, int]]:
        with tempfile.TemporaryDirectory() as tmp:
            async with open_store(Path(tmp) / "edgectl.db") as store:
                await _seed(store, anchor, spec)
                expected = await _export(cdr_reference, store, site, lo, hi, now, keep)
                return expected, await _export(cdr, store, site, lo, hi, now, keep)

    expected, got = asyncio.run(run())
    assert got == expected


def test_splitter_matches_the_reference_on_instants_and_overlaps() -> None:
    night = TouPeriod("night", 50, WEEKDAYS, (TouSlot(dtime(22), dtime(6)),))
    evening = TouPeriod("evening", 50, WEEKDAYS, (TouSlot(dtime(18), dtime(23, 30)), TouSlot(dtime(2, 30), dtime(3))))
    fast = cdr.TouSplitter((night, evening), "Europe/Paris")
    slow = cdr_reference.TouSplitter((night, evening), "Europe/Paris")
    day = datetime(2026, 3, 28, 12, tzinfo=UTC)  # the night into the spring change
    for points in (
        [(day, 0.0), (day + timedelta(hours=30), 7000.0)],
        [(day + timedelta(hours=9), 10.0), (day + timedelta(hours=9), 20.0)],  # an instant inside both
        [(day, 10.0), (day, 20.0), (day + timedelta(hours=13), 15.0), (day + timedelta(hours=14), 99.5)],
    ):
        assert fast.split(points) == slow.split(points)


# --- the plumbing -----------------------------------------------------------------------------------------------

def _bulk(db: Path, n: int) -> None:
    """n closed sessions, one a minute from 2026-01-01, straight into the table (fast)."""
    import sqlite3

    t0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO sessions (transaction_id, station_id, connector_id, id_tag, start_at_us, meter_start_wh,"
        " charge_type, received_at_us, stop_at_us, meter_stop_wh) VALUES (?, 'S1', 1, 'TAG', ?, 0, 'rfid', ?, ?, ?)",
        [(i, t0 + i * 60_000_000, t0, t0 + i * 60_000_000 + 3_600_000_000, 1000 + i) for i in range(1, n + 1)],
    )
    conn.commit()
    conn.close()


@pytest.fixture
async def big_store(tmp_path: Path) -> AsyncIterator[Store]:
    db = tmp_path / "edgectl.db"
    async with open_store(db):
        pass
    _bulk(db, 30_000)
    async with open_store(db) as store:
        yield store


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cdr-export"]


async def _gone(timeout_s: float = 2.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while _workers():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_cancelled_export_stops_the_worker(big_store: Store) -> None:
    site = _site("Europe/Paris", ())
    first = asyncio.Event()

    async def write(text: str) -> None:
        first.set()
        await asyncio.Event().wait()  # a client that stopped reading

    task = asyncio.create_task(cdr.write_csv(write, big_store, site, None, None, NOW))
    await asyncio.wait_for(first.wait(), 5)
    assert _workers()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _gone(1.0)  # write_csv returned once the worker let go of its connection


async def test_failing_write_stops_the_worker_and_raises(big_store: Store) -> None:
    site = _site("Europe/Paris", ())
    calls = 0

    async def write(text: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ConnectionResetError("client gone")

    with pytest.raises(ConnectionResetError):
        await cdr.write_csv(write, big_store, site, None, None, NOW)
    assert await _gone()


async def test_bounded_queue_and_a_live_event_loop(big_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow reader holds the worker back (flat memory); meanwhile the loop keeps its timers."""
    site = _site("Europe/Paris", (TouPeriod("peak", 50, WEEKDAYS, (TouSlot(dtime(8), dtime(12)),)),))
    produced = 0
    text = cdr._Rows.text

    def counting(self: Any, *args: Any) -> tuple[str, int]:
        nonlocal produced
        produced += 1
        return text(self, *args)

    monkeypatch.setattr(cdr._Rows, "text", counting)
    gate = asyncio.Event()
    written = 0

    async def write(chunk: str) -> None:
        nonlocal written
        written += 1
        await gate.wait()

    task = asyncio.create_task(cdr.write_csv(write, big_store, site, None, None, NOW))
    await asyncio.sleep(0.5)
    assert written == 1 and produced <= cdr.QUEUE_CHUNKS + 1  # the header, then at most the queue's worth
    gate.set()
    late = 0.0
    while not task.done():
        t = asyncio.get_running_loop().time()
        await asyncio.sleep(0.01)
        late = max(late, asyncio.get_running_loop().time() - t - 0.01)
    assert await task == 30_000
    assert late < 0.5, f"event loop blocked for {late:.3f} s"


async def test_client_disconnect_mid_download_stops_the_worker(env: Env) -> None:
    _bulk(env.store.sessions._db.path, 30_000)
    resp = await env.client.get("/api/v1/sessions/export", headers=basic("alice"))
    assert resp.status == 200
    await resp.content.read(10_000)
    resp.close()  # the connection goes away mid-download
    assert await _gone(5.0)
