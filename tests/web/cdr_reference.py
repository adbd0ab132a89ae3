"""The transactions export as it was first written (datetimes, aiosqlite, one session at a time): the
oracle the fast export (edgectl.adapters.web.cdr) must match byte for byte. Kept verbatim; only tests use it.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from edgectl.adapters.store import Session, Store
from edgectl.core.site import WEEKDAYS, Site, Station, TouPeriod

BASE_COLUMNS = [
    "Transaction number", "Station id", "Connector", "User id tag", "Charge type", "Start", "End", "Energy (kWh)",
    "Socket type", "Duration", "Comment", "Charge-box identity", "Station name", "Effective charge duration",
    "Energy outside any TOU period (kWh)",
]
FLUSH_CHARS = 64 * 1024


def columns(site: Site) -> list[str]:
    return BASE_COLUMNS + [f"Energy in TOU period {p.name} (kWh)" for p in site.tou.periods]


def hms(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class TouSplitter:
    """Splits energy over time by TOU windows; windows are cached per local day."""

    def __init__(self, periods: tuple[TouPeriod, ...], timezone: str) -> None:
        self.periods = periods
        self.tz = ZoneInfo(timezone)
        self._windows = lru_cache(maxsize=4096)(self._day_windows)

    def _day_windows(self, day: date) -> tuple[tuple[datetime, datetime, int], ...]:
        """(start, end, period index) in UTC for the slots that start on local `day`."""
        out = []
        weekday = WEEKDAYS[day.weekday()]
        for i, p in enumerate(self.periods):
            if weekday not in p.days:
                continue
            for slot in p.slots:
                start = datetime.combine(day, slot.start, self.tz)
                end_day = day if slot.end > slot.start else day + timedelta(days=1)
                end = datetime.combine(end_day, slot.end, self.tz)
                out.append((start.astimezone(UTC), end.astimezone(UTC), i))
        return tuple(out)

    def split(self, points: list[tuple[datetime, float]]) -> tuple[list[float], float]:
        """Energy (Wh) per period and outside, from (time, register Wh) points."""
        per = [0.0] * len(self.periods)
        outside = 0.0
        for (t0, e0), (t1, e1) in itertools.pairwise(points):
            energy = max(0.0, e1 - e0)
            if energy == 0.0:
                continue
            inside, covered = self._interval(t0, t1)
            span = (t1 - t0).total_seconds()
            if span <= 0:  # an instant: all of it where that instant is
                hits = [i for s, e, i in self._around(t0) if s <= t0 < e]
                for i in set(hits):
                    per[i] += energy
                outside += 0.0 if hits else energy
                continue
            for i, seconds in inside.items():
                per[i] += energy * seconds / span
            outside += energy * max(0.0, span - covered) / span
        return per, outside

    def _around(self, t: datetime) -> list[tuple[datetime, datetime, int]]:
        local = t.astimezone(self.tz).date()
        return [w for d in (local - timedelta(days=1), local) for w in self._windows(d)]

    def _interval(self, a: datetime, b: datetime) -> tuple[dict[int, float], float]:
        inside: dict[int, float] = {}
        segments: list[tuple[datetime, datetime]] = []
        day = a.astimezone(self.tz).date() - timedelta(days=1)  # a slot from the evening before may run into a
        last = b.astimezone(self.tz).date()
        while day <= last:
            for start, end, i in self._windows(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    inside[i] = inside.get(i, 0.0) + (hi - lo).total_seconds()
                    segments.append((lo, hi))
            day += timedelta(days=1)
        covered = 0.0
        cur_lo: datetime | None = None
        cur_hi: datetime | None = None
        for lo, hi in sorted(segments):  # the union, so overlapping periods count once for "outside"
            if cur_hi is None or lo > cur_hi:
                if cur_lo is not None and cur_hi is not None:
                    covered += (cur_hi - cur_lo).total_seconds()
                cur_lo, cur_hi = lo, hi
            else:
                cur_hi = max(cur_hi, hi)
        if cur_lo is not None and cur_hi is not None:
            covered += (cur_hi - cur_lo).total_seconds()
        return inside, covered


async def session_points(store: Store, s: Session, end: datetime) -> list[tuple[datetime, float]]:
    start = (s.start_at, float(s.meter_start_wh))
    final = (end, float(s.meter_start_wh) + s.energy_wh)
    if s.last_sample is None:  # no sample was ever stored for it: pro rata, and no query
        return [start, final]
    points = [start]
    for m in await store.sessions.samples(s.transaction_id):
        if m.energy_wh is not None and s.start_at <= m.at <= end:
            points.append((m.at, m.energy_wh))
    points.append(final)
    return points


async def rows(
    store: Store, site: Site, start_from: datetime | None, start_to: datetime | None,
    now: datetime, station_filter: Callable[[str], bool] | None = None,
) -> AsyncIterator[list[Any]]:
    stations: dict[str, Station] = {s.id: s for s in site.stations}
    splitter = TouSplitter(site.tou.periods, site.settings.timezone)
    tz = splitter.tz
    async for s in store.sessions.iter_range(start_from, start_to):
        if station_filter is not None and not station_filter(s.station_id):
            continue
        end = s.stop_at or now
        per, outside = splitter.split(await session_points(store, s, end)) if site.tou.periods else ([], s.energy_wh)
        station = stations.get(s.station_id)
        socket = ""
        if station is not None:
            socket = next((c.socket for c in station.connectors if c.id == s.connector_id), "")
        yield [
            s.transaction_id, s.station_id, s.connector_id, s.id_tag, s.charge_type.value,
            s.start_at.astimezone(tz).isoformat(), s.stop_at.astimezone(tz).isoformat() if s.stop_at else "",
            f"{s.energy_wh / 1000:.3f}", socket, hms((end - s.start_at).total_seconds()), s.comment,
            s.station_id, station.name if station else "", hms(s.effective_charge_duration_s),
            f"{outside / 1000:.3f}", *(f"{wh / 1000:.3f}" for wh in per),
        ]


async def write_csv(
    write: Callable[[str], Awaitable[None]], store: Store, site: Site, start_from: datetime | None,
    start_to: datetime | None, now: datetime, station_filter: Callable[[str], bool] | None = None,
) -> int:
    """Stream the CSV through `write` in ~64 KB chunks; returns the row count."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(columns(site))
    count = 0
    async for row in rows(store, site, start_from, start_to, now, station_filter):
        out.writerow(row)
        count += 1
        if buffer.tell() >= FLUSH_CHARS:
            await write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    await write(buffer.getvalue())
    return count
