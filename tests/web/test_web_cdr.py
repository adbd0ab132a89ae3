"""Transactions CSV: SPEC §6 columns, TOU split from samples or pro rata, streamed over HTTP and CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from edgectl.adapters.store import Store
from edgectl.adapters.web import cdr

from .support import Env, basic

T = lambda h, m=0: datetime(2026, 1, 5, h, m, tzinfo=UTC)  # noqa: E731  (a Monday; Paris = UTC+1)


async def _sessions(store: Store) -> None:
    a = (await store.sessions.start("S1", 1, "CARD1", T(6), 0)).session  # 07:00-10:00 Paris, no samples
    await store.sessions.stop(a.transaction_id, T(9), 3000)
    b = (await store.sessions.start("S2", 1, "CARD2", T(6, 1), 1000)).session
    await store.sessions.add_meter_values(b.transaction_id, T(7, 1), energy_wh=3000)
    await store.sessions.stop(b.transaction_id, T(9, 1), 3500)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_columns_and_tou_split(env: Env) -> None:
    await _sessions(env.store)
    resp = await env.client.get("/api/v1/sessions/export?from=2026-01-05T00:00:00Z", headers=basic("alice"))
    assert resp.status == 200 and resp.content_type == "text/csv"
    text = await resp.text()
    header = text.splitlines()[0].split(",")
    assert header == [*cdr.BASE_COLUMNS, "Energy in TOU period peak (kWh)"]
    a, b = _rows(text)
    # Pro rata: 1 h of 3 before 08:00 Paris, 2 h inside the peak slot.
    assert a["Energy (kWh)"] == "3.000" and a["Energy outside any TOU period (kWh)"] == "1.000"
    assert a["Energy in TOU period peak (kWh)"] == "2.000"
    assert a["Start"] == "2026-01-05T07:00:00+01:00" and a["Duration"] == "3:00:00"
    assert a["Socket type"] == "T2" and a["Station name"] == "Station 1" and a["Charge-box identity"] == "S1"
    # From samples: 2 kWh before 08:01 Paris (outside, except the last minute), 0.5 kWh after.
    assert b["Energy (kWh)"] == "2.500" and b["Socket type"] == "TE"
    assert b["Energy in TOU period peak (kWh)"] == "0.533"  # 0.5 kWh + 1 min of the first 60-min interval
    assert b["Energy outside any TOU period (kWh)"] == "1.967"


async def test_scoped_export_and_period(env: Env) -> None:
    await _sessions(env.store)
    resp = await env.client.get("/api/v1/sessions/export", headers=basic("carol"))
    assert [r["Station id"] for r in _rows(await resp.text())] == ["S1"]
    resp = await env.client.get("/api/v1/sessions/export?from=2026-01-05T06:00:30Z", headers=basic("alice"))
    assert [r["Station id"] for r in _rows(await resp.text())] == ["S2"]
    resp = await env.client.get("/api/v1/sessions/export?from=yesterday", headers=basic("alice"))
    assert resp.status == 400


def test_splitter_past_midnight_slot() -> None:
    from datetime import time

    from edgectl.core.site import TouPeriod, TouSlot

    night = TouPeriod("night", 50, ("mon",), (TouSlot(time(22), time(6)),))
    s = cdr.TouSplitter((night,), "UTC")
    per, outside = s.split([(T(21), 0.0), (T(23), 2000.0)])
    assert per == [1000.0] and outside == 1000.0
    # Tuesday 05:00 still belongs to Monday's night slot.
    tue = datetime(2026, 1, 6, 5, tzinfo=UTC)
    per, outside = s.split([(tue, 0.0), (datetime(2026, 1, 6, 7, tzinfo=UTC), 2000.0)])
    assert per == [1000.0] and outside == 1000.0
