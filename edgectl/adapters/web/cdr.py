"""The transactions export (SPEC §6): one CSV row per charging session.

Rules:
- rows are the sessions that *started* in [from, to), oldest first (start,
  then transaction id), from one consistent snapshot of the store;
- energy per time-of-use period: the energy between two consecutive meter
  readings (start register, every stored sample with an energy register,
  stop register) is spread evenly over that interval and split by the time
  it overlaps each period's windows; a session without stored samples is
  split pro rata over its whole duration (start -> stop). Periods are the
  site's TOU time windows (weekdays x slots, site time zone), whether or
  not TOU capping is enabled; where periods overlap, the energy counts in
  each of them, and "outside any TOU period" is the energy in no window;
- times are ISO 8601 in the site's time zone; energies in kWh (3 decimals);
  durations as H:MM:SS; an open session has an empty end and its energy so
  far.

How (a million sessions in seconds, in constant memory): reading, splitting
and formatting run on one worker thread (`store.sessions.export_scan`: the
stdlib sqlite3 on a read connection of its own, the samples of a chunk of
sessions in one query), in integer microseconds, with the local offsets
cached per UTC hour and the TOU windows per local day. Chunks of text go to
the event loop through a queue bounded by `QUEUE_CHUNKS`; when the consumer
stops (client gone, task cancelled, write failed) the worker stops at its
next chunk and the read is interrupted. The arithmetic is the one of the
straightforward datetime version (tests keep that version as the oracle):
same operations in the same order, so the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import threading
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from edgectl.adapters.store import Store
from edgectl.adapters.store.codec import from_us, to_us
from edgectl.adapters.store.sessions import ExportRow, ExportSamples
from edgectl.core.site import WEEKDAYS, Site, TouPeriod

BASE_COLUMNS = [
    "Transaction number", "Station id", "Connector", "User id tag", "Charge type", "Start", "End", "Energy (kWh)",
    "Socket type", "Duration", "Comment", "Charge-box identity", "Station name", "Effective charge duration",
    "Energy outside any TOU period (kWh)",
]
CHUNK_ROWS = 1000  # sessions per read (and per chunk of text, ~140 KB)
QUEUE_CHUNKS = 4  # chunks of text in flight between the worker and the writer
_US = 1_000_000
_HOUR_US = 3600 * _US
_DAY_US = 86_400 * _US
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CACHE_MAX = 100_000  # entries per cache: bounds memory for any range


def columns(site: Site) -> list[str]:
    return BASE_COLUMNS + [f"Energy in TOU period {p.name} (kWh)" for p in site.tou.periods]


def hms(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def quote(field: str) -> str:
    """A text field as csv.writer (QUOTE_MINIMAL, CRLF) writes it."""
    if '"' in field:
        return '"' + field.replace('"', '""') + '"'
    if "," in field or "\n" in field or "\r" in field:
        return '"' + field + '"'
    return field


_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]  # second of the hour -> "MM:SS"


class LocalClock:
    """Instants (µs since the epoch) as local wall time, cached per UTC hour."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        # UTC hour -> (offset, offset text, "YYYY-MM-DDTHH:" or None, local day); the prefix and the day
        # are None / unused when the offset changes within that hour or is not a whole number of hours.
        self.hours: dict[int, tuple[int | None, str, str | None, int]] = {}

    def _hour(self, hour: int) -> tuple[int | None, str, str | None, int]:
        first = from_us(hour * _HOUR_US).astimezone(self.tz)
        last = from_us((hour + 1) * _HOUR_US - 1).astimezone(self.tz)
        offset = first.utcoffset()
        entry: tuple[int | None, str, str | None, int] = (None, "", None, 0)
        if offset is not None and offset == last.utcoffset():
            offset_us = offset // timedelta(microseconds=1)
            suffix = first.isoformat()[len(first.replace(tzinfo=None).isoformat()):]
            prefix = None
            if offset_us % _HOUR_US == 0:  # local hours line up with UTC hours
                prefix = f"{first.date().isoformat()}T{first.hour:02d}:"
            entry = (offset_us, suffix, prefix, first.toordinal() - _EPOCH_ORDINAL)
        if len(self.hours) >= _CACHE_MAX:
            self.hours.clear()
        self.hours[hour] = entry
        return entry

    def stamp(self, us: int) -> tuple[str, int]:
        """What `from_us(us).astimezone(tz).isoformat()` gives, and the local date as days since 1970-01-01."""
        entry = self.hours.get(us // _HOUR_US) or self._hour(us // _HOUR_US)
        if entry[2] is not None:
            rest = us % _HOUR_US
            if not rest % _US:
                return entry[2] + _MMSS[rest // _US] + entry[1], entry[3]
        offset = entry[0]
        if offset is None:
            local = from_us(us).astimezone(self.tz)
            return local.isoformat(), local.toordinal() - _EPOCH_ORDINAL
        local_us = us + offset
        day, rest = divmod(local_us, _DAY_US)
        seconds, micro = divmod(rest, _US)
        text = f"{date.fromordinal(_EPOCH_ORDINAL + day).isoformat()}T{seconds // 3600:02d}:"
        text += _MMSS[seconds % 3600] + (f".{micro:06d}" if micro else "") + entry[1]
        return text, day

    def day(self, us: int) -> int:
        """The local date, as days since 1970-01-01."""
        return self.stamp(us)[1]


class TouSplitter:
    """Splits energy over time by TOU windows; times in µs since the epoch, windows cached per local day."""

    def __init__(self, periods: tuple[TouPeriod, ...], timezone: str) -> None:
        self.periods = periods
        self.tz = ZoneInfo(timezone)
        self.clock = LocalClock(self.tz)
        self._n = len(periods)
        self._days: dict[int, tuple[tuple[int, int, int], ...]] = {}
        self.spans: dict[tuple[int, int], tuple[tuple[int, int, int], ...]] = {}  # (first day, last day) -> windows
        # The same windows by start, with the running maximum of their ends: finds the overlapping ones in a bisect.
        self.indexes: dict[tuple[int, int], tuple[list[int], tuple[tuple[int, int, int], ...], list[int]]] = {}

    def windows(self, day: int) -> tuple[tuple[int, int, int], ...]:
        """(start, end, period index) for the slots that start on local `day` (days since 1970-01-01)."""
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= _CACHE_MAX:
                self._days.clear()
            found = self._days[day] = self._day_windows(day)
        return found

    def _day_windows(self, day_index: int) -> tuple[tuple[int, int, int], ...]:
        day = date.fromordinal(_EPOCH_ORDINAL + day_index)
        out = []
        weekday = WEEKDAYS[day.weekday()]
        for i, p in enumerate(self.periods):
            if weekday not in p.days:
                continue
            for slot in p.slots:
                start = datetime.combine(day, slot.start, self.tz)
                end_day = day if slot.end > slot.start else day + timedelta(days=1)
                end = datetime.combine(end_day, slot.end, self.tz)
                start_us, end_us = to_us(start), to_us(end)
                if end_us > start_us:  # not emptied by a DST gap: an empty window never overlaps anything
                    out.append((start_us, end_us, i))
        return tuple(out)

    def split(self, points: list[tuple[datetime, float]]) -> tuple[list[float], float]:
        """Energy (Wh) per period and outside, from (time, register Wh) points."""
        return self.split_us([(to_us(t), e) for t, e in points])

    def split_us(self, points: list[tuple[int, float]]) -> tuple[list[float], float]:
        per = [0.0] * self._n
        outside = 0.0
        for (t0, e0), (t1, e1) in itertools.pairwise(points):
            outside = self.add_interval(per, outside, t0, e0, t1, e1)
        return per, outside

    def _span(self, first: int, last: int) -> tuple[tuple[int, int, int], ...]:
        """The windows of the local days first..last, in order."""
        found = tuple(w for day in range(first, last + 1) for w in self.windows(day))
        if len(self.spans) >= _CACHE_MAX:
            self.spans.clear()
            self.indexes.clear()
        by_start = tuple(sorted(found))
        self.indexes[(first, last)] = ([w[0] for w in by_start], by_start, list(itertools.accumulate(
            (w[1] for w in by_start), max)))
        self.spans[(first, last)] = found
        return found

    def add_interval(self, per: list[float], outside: float, a: int, e0: float, b: int, e1: float,
                     day_a: int | None = None, day_b: int | None = None) -> float:
        """Adds the energy of the interval a -> b to `per`; returns the new `outside`.

        `day_a`, `day_b`: the local dates of a and b when the caller has them.
        """
        energy = max(0.0, e1 - e0)
        if energy == 0.0:
            return outside
        if day_a is None:
            day_a = self.clock.day(a)
        if b <= a:  # an instant: all of it where that instant is
            hits = {i for s, e, i in self.spans.get((day_a - 1, day_a)) or self._span(day_a - 1, day_a)
                    if s <= a < e}
            for i in hits:
                per[i] += energy
            return outside + (0.0 if hits else energy)
        span = (b - a) / _US
        # The windows from the day before a's (a slot of the evening before may run into it) to b's,
        # in the datetime version's order: the float sums come out the same.
        if day_b is None:
            day_b = self.clock.day(b)
        windows = self.spans.get((day_a - 1, day_b)) or self._span(day_a - 1, day_b)
        hit = None
        for window in windows:
            if window[1] > a and window[0] < b:
                if hit is not None:
                    return self.add_overlapping(per, outside, a, b, energy, span, windows)
                hit = window
        if hit is None:
            return outside + energy * span / span
        start, end, i = hit
        seconds = ((end if end < b else b) - (start if start > a else a)) / _US
        per[i] += energy * seconds / span
        return outside + energy * max(0.0, span - seconds) / span

    @staticmethod
    def add_overlapping(per: list[float], outside: float, a: int, b: int, energy: float, span: float,
                         windows: tuple[tuple[int, int, int], ...]) -> float:
        inside: dict[int, float] = {}
        segments: list[tuple[int, int]] = []
        for start, end, i in windows:
            if end > a and start < b:
                lo = start if start > a else a
                hi = end if end < b else b
                inside[i] = inside.get(i, 0.0) + (hi - lo) / _US
                segments.append((lo, hi))
        for i, seconds in inside.items():
            per[i] += energy * seconds / span
        return outside + energy * max(0.0, span - _union_s(segments)) / span


def _union_s(segments: list[tuple[int, int]]) -> float:
    """Seconds covered by the union (overlapping periods count once for "outside")."""
    covered = 0.0
    segments.sort()
    cur_lo, cur_hi = segments[0]
    for lo, hi in segments[1:]:
        if lo > cur_hi:
            covered += (cur_hi - cur_lo) / _US
            cur_lo, cur_hi = lo, hi
        elif hi > cur_hi:
            cur_hi = hi
    return covered + (cur_hi - cur_lo) / _US


class _Rows:
    """Formats the rows of one export (runs on the worker thread)."""

    def __init__(self, site: Site, now: datetime, station_filter: Callable[[str], bool] | None) -> None:
        self.site = site
        self.keep = station_filter
        self.splitter = TouSplitter(site.tou.periods, site.settings.timezone) if site.tou.periods else None
        self.clock = self.splitter.clock if self.splitter else LocalClock(ZoneInfo(site.settings.timezone))
        self.now_us = to_us(now)
        self.now_day = self.clock.stamp(self.now_us)[1]
        self._kept: dict[str, bool] = {}
        self._lines: dict[tuple[str, int], str] = {}
        self._stations_by_id = {s.id: s for s in site.stations}
        self._quoted: dict[str, str] = {}
        # Texts of the values that repeat: durations (µs), effective durations (s), energies (Wh).
        self._durations: dict[int, str] = {}
        self._effectives: dict[float, str] = {}
        self._energies: dict[float, str] = {}

    def header(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(columns(self.site))
        return buffer.getvalue()

    def _line(self, station_id: str, connector_id: int) -> str:
        """The %-format of a row at that connector, with the station's fields filled in (quoted)."""
        station = self._stations_by_id.get(station_id)
        socket = ""
        if station is not None:
            socket = next((c.socket for c in station.connectors if c.id == connector_id), "")
        sid = quote(station_id).replace("%", "%%")
        name = quote(station.name).replace("%", "%%") if station else ""
        line = (f"%d,{sid},{connector_id},%s,%s,%s,%s,%s,{quote(socket).replace('%', '%%')},%s,%s,{sid},{name},"
                "%s,%.3f" + ",%s" * len(self.site.tou.periods) + "\r\n")
        if len(self._lines) < _CACHE_MAX:
            self._lines[(station_id, connector_id)] = line
        return line

    def _quote(self, text: str) -> str:
        quoted = self._quoted[text] = quote(text)
        if len(self._quoted) >= _CACHE_MAX:
            self._quoted.clear()
        return quoted

    def _duration(self, span_us: int) -> str:
        text = self._durations[span_us] = hms(span_us / _US)
        if len(self._durations) >= _CACHE_MAX:
            self._durations.clear()
        return text

    def _effective(self, seconds: float) -> str:
        text = self._effectives[seconds] = hms(seconds)
        if len(self._effectives) >= _CACHE_MAX:
            self._effectives.clear()
        return text

    def _kwh(self, wh: float) -> str:
        text = self._energies[wh] = f"{wh / 1000:.3f}"
        if len(self._energies) >= _CACHE_MAX:
            self._energies.clear()
        return text

    def text(self, rows: list[ExportRow], samples: ExportSamples) -> tuple[str, int]:
        """The CSV lines of a chunk of sessions and how many there are."""
        out: list[str] = []
        keep, kept, lines, durations, effectives = self.keep, self._kept, self._lines, self._durations, self._effectives
        energies = self._energies
        stamp, splitter, now_us, now_day = self.clock.stamp, self.splitter, self.now_us, self.now_day
        hours, mmss, hour_us, us = self.clock.hours, _MMSS, _HOUR_US, _US
        spans = splitter.spans if splitter is not None else {}
        indexes = splitter.indexes if splitter is not None else {}
        n = len(self.site.tou.periods)
        zeros = ["0.000"] * n
        for row in rows:
            tid, sid, cid, tag, ctype, start_us, meter_start, last_us, register, eff, stop_us, meter_stop, comment = row
            if keep is not None:
                ok = kept.get(sid)
                if ok is None:
                    ok = kept[sid] = bool(keep(sid))
                if not ok:
                    continue
            # Session.energy_wh (max(0.0, x) spelled out: same result, no call)
            if meter_stop is not None:
                energy: float = meter_stop - meter_start
            elif last_us is not None and register is not None:
                energy = register - meter_start
            else:
                energy = 0.0
            if not energy > 0.0:
                energy = 0.0
            # LocalClock.stamp, its common case inlined (this loop is the export's cost)
            hour = hours.get(start_us // hour_us)
            rest = start_us % hour_us
            if hour is not None and hour[2] is not None and not rest % us:
                start_text, start_day = hour[2] + mmss[rest // us] + hour[1], hour[3]
            else:
                start_text, start_day = stamp(start_us)
            if stop_us is None:
                end_us, end_text, end_day = now_us, "", now_day
            else:
                end_us = stop_us
                hour = hours.get(stop_us // hour_us)
                rest = stop_us % hour_us
                if hour is not None and hour[2] is not None and not rest % us:
                    end_text, end_day = hour[2] + mmss[rest // us] + hour[1], hour[3]
                else:
                    end_text, end_day = stamp(stop_us)
            # The per-period energies as text: a period that got nothing is "0.000" (never -0.0).
            if splitter is None:
                per_texts: list[str] = []
                outside = energy
            elif last_us is None:  # no sample was ever stored for it: pro rata
                e0 = float(meter_start)
                per_texts = zeros[:]
                # TouSplitter.add_interval, its common case (one window or none overlaps) inlined
                split = e0 + energy - e0
                key = (start_day - 1, end_day)
                windows = spans.get(key)
                if not split > 0.0:
                    outside = 0.0
                elif windows is None or end_us <= start_us:
                    per = [0.0] * n
                    outside = splitter.add_interval(per, 0.0, start_us, e0, end_us, e0 + energy, start_day, end_day)
                    per_texts = ["%.3f" % (wh / 1000) for wh in per]
                else:
                    starts, by_start, max_end = indexes[key]
                    hit: tuple[int, int, int] | tuple[()] | None = None
                    k = bisect_left(starts, end_us) - 1  # the windows from k down start before end_us
                    while k >= 0 and max_end[k] > start_us:
                        window = by_start[k]
                        if window[1] > start_us:
                            if hit is not None:
                                hit = ()  # two or more: the general case, in the windows' own order
                                break
                            hit = window
                        k -= 1
                    span = (end_us - start_us) / us
                    if hit is None:
                        outside = split * span / span
                    elif not hit:
                        per = [0.0] * n
                        outside = splitter.add_overlapping(per, 0.0, start_us, end_us, split, span, windows)
                        per_texts = ["%.3f" % (wh / 1000) for wh in per]
                    else:
                        w_start, w_end, i = hit
                        lo = w_start if w_start > start_us else start_us
                        seconds = ((w_end if w_end < end_us else end_us) - lo) / us
                        per_texts[i] = "%.3f" % (split * seconds / span / 1000)
                        covered = span - seconds
                        outside = split * (covered if covered > 0.0 else 0.0) / span
            else:
                e0 = float(meter_start)
                points = [(start_us, e0)]
                points += [(at, e) for at, e in samples.get(tid, ()) if start_us <= at <= end_us]
                points.append((end_us, e0 + energy))
                per, outside = splitter.split_us(points)
                per_texts = ["%.3f" % (wh / 1000) for wh in per]
            out.append((lines.get((sid, cid)) or self._line(sid, cid)) % (
                tid, tag if tag.isalnum() else quote(tag), ctype, start_text, end_text,
                energies.get(energy) or self._kwh(energy), durations.get(end_us - start_us)
                or self._duration(end_us - start_us), quote(comment) if comment else "",
                effectives.get(eff) or self._effective(eff), outside / 1000, *per_texts,
            ))
        return "".join(out), len(out)


def _produce(chunks: Iterator[tuple[list[ExportRow], ExportSamples]], rows: _Rows,
             emit: Callable[[str], bool]) -> int:
    """The worker's loop; stops when `emit` says the consumer is gone."""
    count = 0
    if not emit(rows.header()):
        return count
    for batch, samples in chunks:
        text, n = rows.text(batch, samples)
        count += n
        if text and not emit(text):
            break
    return count


async def write_csv(
    write: Callable[[str], Awaitable[None]], store: Store, site: Site, start_from: datetime | None,
    start_to: datetime | None, now: datetime, station_filter: Callable[[str], bool] | None = None,
) -> int:
    """Stream the CSV through `write` in chunks of ~1,000 rows; returns the row count.

    `station_filter` is called on the worker thread (with each station id once).
    """
    loop = asyncio.get_running_loop()
    scan = store.sessions.export_scan(start_from, start_to)
    rows = _Rows(site, now, station_filter)
    queue: asyncio.Queue[str | None] = asyncio.Queue()  # None: the worker is done (see `finished`)
    finished: asyncio.Future[int] = loop.create_future()
    credits = threading.Semaphore(QUEUE_CHUNKS)
    stop = threading.Event()

    def emit(text: str) -> bool:  # on the worker: False once the consumer is gone
        while not credits.acquire(timeout=0.1):
            if stop.is_set():
                return False
        if stop.is_set():
            return False
        loop.call_soon_threadsafe(queue.put_nowait, text)
        return True

    def settle(result: int | BaseException) -> None:  # on the loop
        if isinstance(result, BaseException):
            finished.set_exception(result)
        else:
            finished.set_result(result)
        queue.put_nowait(None)

    def work() -> None:
        result: int | BaseException
        try:
            with scan:
                result = _produce(scan.chunks(CHUNK_ROWS), rows, emit)
        except BaseException as exc:  # handed over to the consumer, which raises it
            result = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(settle, result)

    worker = threading.Thread(target=work, name="cdr-export", daemon=True)
    worker.start()
    try:
        while (text := await queue.get()) is not None:
            await write(text)
            credits.release()
        return finished.result()
    finally:
        if not finished.done():  # the consumer left early (cancelled, client gone, write failed)
            stop.set()
            scan.interrupt()
            credits.release()
            # The worker notices within one chunk; its connection is closed once this returns.
            await asyncio.wait({finished}, timeout=5)
        if finished.done():
            finished.exception()  # retrieved: an error after the consumer left is not news
