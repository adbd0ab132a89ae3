"""Charging sessions (CDRs): transaction ids, start, meter values, stop.

Rules:
- Transaction ids come from an AUTOINCREMENT sequence: unique and never
  reused, across restarts and after deletes; never derived from time.
- Stations replay transaction messages. `start` is idempotent on (station,
  connector, the station's start timestamp, id tag): the replay gets the same
  transaction id. `stop` is idempotent: a repeated stop is answered the first
  one's way and changes nothing. A meter sample already stored is ignored.
- The session row keeps the latest sample (for the live view and the
  allocator's "energy delivered" ranking); every sample also goes to
  `session_samples` (for energy per time-of-use period in the CDR export).
- Effective charge duration: the time between consecutive readings during
  which the energy register rose (or, without an energy reading, the earlier
  reading showed current flowing). Plugged-in-but-full time does not count.
- `iter_range` streams over its own read connection: a million-row export runs
  in constant memory and never holds the write lock. `export_scan` reads the
  same sessions as raw rows, with their samples, on the CSV export's worker
  thread (stdlib sqlite3, one snapshot, no per-row thread hop).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import aiosqlite
import structlog

from edgectl.adapters.store.codec import from_us, from_us_opt, to_us
from edgectl.adapters.store.db import BUSY_TIMEOUT_MS, Database, connect
from edgectl.adapters.store.errors import NotFoundError
from edgectl.core.phases import Phases

log = structlog.get_logger(__name__)

CHARGING_CURRENT_A = 1.0  # below this a reading without energy counts as "not charging"
_STREAM_CHUNK_ROWS = 500


class ChargeType(StrEnum):
    RFID = "rfid"  # a card swiped at the station
    REMOTE = "remote"  # RemoteStartTransaction from the dashboard, API or CPO
    FREE = "free"  # reader disabled: plug and charge


@dataclass(frozen=True, slots=True)
class MeterSample:
    at: datetime
    energy_wh: float | None = None  # the station's energy register (Energy.Active.Import.Register)
    station_current_a: Phases | None = None  # per station-side phase, as reported (Current.Import L1-L3)
    power_w: float | None = None
    soc_percent: float | None = None


@dataclass(frozen=True, slots=True)
class Session:
    transaction_id: int
    station_id: str
    connector_id: int
    id_tag: str
    start_at: datetime  # the station's timestamp
    meter_start_wh: int
    received_at: datetime  # when the box stored the start
    charge_type: ChargeType = ChargeType.RFID
    reservation_id: int | None = None
    last_sample: MeterSample | None = None
    effective_charge_duration_s: float = 0.0
    stop_at: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    comment: str = ""

    @property
    def is_open(self) -> bool:
        return self.stop_at is None

    @property
    def energy_wh(self) -> float:
        """Energy delivered so far (or in total once stopped); never negative."""
        if self.meter_stop_wh is not None:
            end: float = self.meter_stop_wh
        elif self.last_sample is not None and self.last_sample.energy_wh is not None:
            end = self.last_sample.energy_wh
        else:
            return 0.0
        return max(0.0, end - self.meter_start_wh)


@dataclass(frozen=True, slots=True)
class Started:
    session: Session
    replayed: bool  # the station repeated a StartTransaction we already had


@dataclass(frozen=True, slots=True)
class Stopped:
    session: Session
    replayed: bool  # the station repeated a StopTransaction: answer as the first time


def _charging_between(
    earlier: MeterSample | None, earlier_energy_wh: float | None, later_energy_wh: float | None
) -> bool:
    if earlier_energy_wh is not None and later_energy_wh is not None:
        return later_energy_wh > earlier_energy_wh
    current = earlier.station_current_a if earlier is not None else None
    if current is not None:
        return max(current) >= CHARGING_CURRENT_A
    return earlier is not None and earlier.power_w is not None and earlier.power_w > 0


def _sample_from_row(row: sqlite3.Row) -> MeterSample | None:
    if row["last_sample_at_us"] is None:
        return None
    l1, l2, l3 = row["current_l1_a"], row["current_l2_a"], row["current_l3_a"]
    return MeterSample(
        at=from_us(row["last_sample_at_us"]),
        energy_wh=row["energy_register_wh"],
        station_current_a=None if l1 is None else Phases(l1, l2 or 0.0, l3 or 0.0),
        power_w=row["power_w"],
        soc_percent=row["soc_percent"],
    )


def session_from_row(row: sqlite3.Row) -> Session:
    return Session(
        transaction_id=row["transaction_id"],
        station_id=row["station_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        start_at=from_us(row["start_at_us"]),
        meter_start_wh=row["meter_start_wh"],
        received_at=from_us(row["received_at_us"]),
        charge_type=ChargeType(row["charge_type"]),
        reservation_id=row["reservation_id"],
        last_sample=_sample_from_row(row),
        effective_charge_duration_s=row["effective_charge_duration_s"],
        stop_at=from_us_opt(row["stop_at_us"]),
        meter_stop_wh=row["meter_stop_wh"],
        stop_reason=row["stop_reason"],
        stop_id_tag=row["stop_id_tag"],
        comment=row["comment"],
    )


async def _row(conn: aiosqlite.Connection, transaction_id: int) -> sqlite3.Row | None:
    async with conn.execute("SELECT * FROM sessions WHERE transaction_id = ?", (transaction_id,)) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def _reserve_id(conn: aiosqlite.Connection, reserved_at_us: int) -> int:
    cursor = await conn.execute("INSERT INTO transaction_ids (reserved_at_us) VALUES (?)", (reserved_at_us,))
    new_id = cursor.lastrowid
    assert new_id is not None
    # The row itself is not needed: sqlite_sequence keeps the high-water mark.
    await conn.execute("DELETE FROM transaction_ids WHERE id = ?", (new_id,))
    return int(new_id)


_SELECT_SESSION = "SELECT * FROM sessions WHERE transaction_id = ?"


@dataclass(frozen=True, slots=True)
class Recorded:
    session: Session | None  # None: unknown transaction, or another station's (see owner)
    owner: str | None  # the station the transaction belongs to (None: unknown)
    stored: int  # samples newly stored (replays are skipped)


def _add_sample(raw: sqlite3.Connection, row: sqlite3.Row, sample: MeterSample) -> bool:
    """Store one sample of the session `row`; False when already stored. Runs on the store's thread."""
    transaction_id = row["transaction_id"]
    at_us = to_us(sample.at)
    energy_wh, power_w, soc_percent = sample.energy_wh, sample.power_w, sample.soc_percent
    currents = (None, None, None) if sample.station_current_a is None else tuple(sample.station_current_a)
    cursor = raw.execute(
        "INSERT OR IGNORE INTO session_samples (transaction_id, at_us, energy_wh, current_l1_a, current_l2_a,"
        " current_l3_a, power_w, soc_percent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (transaction_id, at_us, energy_wh, *currents, power_w, soc_percent),
    )
    if cursor.rowcount == 0:
        return False
    previous = _sample_from_row(row)
    previous_at_us = row["last_sample_at_us"]
    if previous_at_us is not None and at_us <= previous_at_us:
        return True  # late, out-of-order reading: history only, the latest stays
    # Before any reading, the start's register is the earlier energy.
    earlier_energy = row["meter_start_wh"] if previous is None else previous.energy_wh
    since_us = row["start_at_us"] if previous_at_us is None else previous_at_us
    added_s = 0.0
    if row["stop_at_us"] is None and _charging_between(previous, earlier_energy, energy_wh):
        added_s = max(0, at_us - since_us) / 1_000_000
    raw.execute(
        "UPDATE sessions SET last_sample_at_us = ?, energy_register_wh = COALESCE(?, energy_register_wh),"
        " current_l1_a = ?, current_l2_a = ?, current_l3_a = ?, power_w = ?, soc_percent = ?,"
        " effective_charge_duration_s = effective_charge_duration_s + ? WHERE transaction_id = ?",
        (at_us, energy_wh, *currents, power_w, soc_percent, added_s, transaction_id),
    )
    return True


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def next_transaction_id(self) -> int:
        """Reserve an id that no session ever had or will get (e.g. for a
        transaction started locally while the CPO is unreachable)."""
        async with self._db.write() as conn:
            return await _reserve_id(conn, self._db.now_us())

    async def start(
        self,
        station_id: str,
        connector_id: int,
        id_tag: str,
        start_at: datetime,
        meter_start_wh: int,
        *,
        charge_type: ChargeType = ChargeType.RFID,
        reservation_id: int | None = None,
        transaction_id: int | None = None,
    ) -> Started:
        """Record a StartTransaction; a replay returns the first one's session.

        `transaction_id` may carry an id reserved with `next_transaction_id`.
        """
        start_us = to_us(start_at)
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT * FROM sessions WHERE station_id = ? AND connector_id = ? AND start_at_us = ? AND id_tag = ?",
                (station_id, connector_id, start_us, id_tag),
            ) as cursor:
                existing = await cursor.fetchone()
            if existing is not None:
                return Started(session_from_row(existing), replayed=True)
            now_us = self._db.now_us()
            new_id = transaction_id if transaction_id is not None else await _reserve_id(conn, now_us)
            await conn.execute(
                "INSERT INTO sessions (transaction_id, station_id, connector_id, id_tag, start_at_us, meter_start_wh,"
                " charge_type, reservation_id, received_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id,
                    station_id,
                    connector_id,
                    id_tag,
                    start_us,
                    meter_start_wh,
                    charge_type.value,
                    reservation_id,
                    now_us,
                ),
            )
            row = await _row(conn, new_id)
        assert row is not None
        log.info("session.started", transaction_id=new_id, station_id=station_id, connector_id=connector_id)
        return Started(session_from_row(row), replayed=False)

    async def add_meter_values(
        self,
        transaction_id: int,
        at: datetime,
        *,
        energy_wh: float | None = None,
        station_current_a: Phases | None = None,
        power_w: float | None = None,
        soc_percent: float | None = None,
    ) -> bool:
        """Store one reading; False when it was already stored (a replay)."""
        sample = MeterSample(at, energy_wh, station_current_a, power_w, soc_percent)

        def unit(raw: sqlite3.Connection) -> bool:
            row = raw.execute(_SELECT_SESSION, (transaction_id,)).fetchone()
            if row is None:
                raise NotFoundError(transaction_id)
            return _add_sample(raw, row, sample)

        return await self._db.transact(unit)

    async def record_meter_values(
        self, station_id: str, transaction_id: int, samples: list[MeterSample]
    ) -> Recorded:
        """A station's MeterValues for its transaction, oldest first, in one hop.

        Nothing is stored when the transaction is unknown or another
        station's (`Recorded.session` None, `owner` says whose); samples
        already stored are skipped. `session` is the session as it was
        before these samples.
        """

        def unit(raw: sqlite3.Connection) -> Recorded:
            row = raw.execute(_SELECT_SESSION, (transaction_id,)).fetchone()
            if row is None:
                return Recorded(None, None, 0)
            if row["station_id"] != station_id:
                return Recorded(None, row["station_id"], 0)
            before = session_from_row(row)
            stored = 0
            for sample in samples:
                if stored:
                    row = raw.execute(_SELECT_SESSION, (transaction_id,)).fetchone()
                stored += _add_sample(raw, row, sample)
            return Recorded(before, station_id, stored)

        return await self._db.transact(unit)

    async def stop(
        self,
        transaction_id: int,
        at: datetime,
        meter_stop_wh: int,
        reason: str | None = None,
        *,
        id_tag: str | None = None,
        comment: str | None = None,
    ) -> Stopped:
        """Close the session; a repeated stop changes nothing and returns the first."""
        stop_us = to_us(at)
        async with self._db.write() as conn:
            row = await _row(conn, transaction_id)
            if row is None:
                raise NotFoundError(transaction_id)
            if row["stop_at_us"] is not None:
                return Stopped(session_from_row(row), replayed=True)
            previous = _sample_from_row(row)
            earlier_energy = row["meter_start_wh"] if previous is None else row["energy_register_wh"]
            since_us = row["start_at_us"] if previous is None else row["last_sample_at_us"]
            added_s = 0.0
            if _charging_between(previous, earlier_energy, meter_stop_wh):
                added_s = max(0, stop_us - since_us) / 1_000_000
            await conn.execute(
                "UPDATE sessions SET stop_at_us = ?, meter_stop_wh = ?, stop_reason = ?, stop_id_tag = ?,"
                " comment = COALESCE(?, comment), effective_charge_duration_s = effective_charge_duration_s + ?"
                " WHERE transaction_id = ?",
                (stop_us, meter_stop_wh, reason, id_tag, comment, added_s, transaction_id),
            )
            stopped = await _row(conn, transaction_id)
        assert stopped is not None
        log.info("session.stopped", transaction_id=transaction_id, reason=reason)
        return Stopped(session_from_row(stopped), replayed=False)

    async def get(self, transaction_id: int) -> Session | None:
        row = await self._db.fetchone("SELECT * FROM sessions WHERE transaction_id = ?", (transaction_id,))
        return None if row is None else session_from_row(row)

    async def open_sessions(self, station_id: str | None = None) -> list[Session]:
        sql = "SELECT * FROM sessions WHERE stop_at_us IS NULL"
        params: tuple[object, ...] = ()
        if station_id is not None:
            sql += " AND station_id = ?"
            params = (station_id,)
        rows = await self._db.fetchall(sql + " ORDER BY transaction_id", params)
        return [session_from_row(r) for r in rows]

    async def recent(self, station_id: str, limit: int = 20) -> list[Session]:
        """The station's latest sessions (open or not), newest start first."""
        rows = await self._db.fetchall(
            "SELECT * FROM sessions WHERE station_id = ? ORDER BY start_at_us DESC, transaction_id DESC LIMIT ?",
            (station_id, limit),
        )
        return [session_from_row(r) for r in rows]

    async def samples(self, transaction_id: int) -> list[MeterSample]:
        rows = await self._db.fetchall(
            "SELECT * FROM session_samples WHERE transaction_id = ? ORDER BY at_us", (transaction_id,)
        )
        return [
            MeterSample(
                at=from_us(r["at_us"]),
                energy_wh=r["energy_wh"],
                station_current_a=None
                if r["current_l1_a"] is None
                else Phases(r["current_l1_a"], r["current_l2_a"] or 0.0, r["current_l3_a"] or 0.0),
                power_w=r["power_w"],
                soc_percent=r["soc_percent"],
            )
            for r in rows
        ]

    async def delete(self, transaction_id: int) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("DELETE FROM sessions WHERE transaction_id = ?", (transaction_id,))
            return cursor.rowcount > 0

    async def iter_range(
        self, start_from: datetime | None = None, start_to: datetime | None = None
    ) -> AsyncIterator[Session]:
        """Sessions whose start is in [start_from, start_to), oldest first, streamed."""
        lo = -(2**62) if start_from is None else to_us(start_from)
        hi = 2**62 if start_to is None else to_us(start_to)
        # A statement on its own connection reads one WAL snapshot from start
        # to end, without blocking (or being torn by) the daemon's writes.
        conn = await connect(self._db.path)
        try:
            async with conn.execute(
                "SELECT * FROM sessions WHERE start_at_us >= ? AND start_at_us < ?"
                " ORDER BY start_at_us, transaction_id",
                (lo, hi),
            ) as cursor:
                cursor.arraysize = _STREAM_CHUNK_ROWS
                while True:
                    rows = await cursor.fetchmany(_STREAM_CHUNK_ROWS)
                    if not rows:
                        break
                    for row in rows:
                        yield session_from_row(row)
        finally:
            await conn.close()

    def export_scan(self, start_from: datetime | None = None, start_to: datetime | None = None) -> ExportScan:
        """The sessions of `iter_range` as raw rows, for the CSV export's worker thread (see ExportScan)."""
        lo = -(2**62) if start_from is None else to_us(start_from)
        hi = 2**62 if start_to is None else to_us(start_to)
        return ExportScan(self._db.path, lo, hi)


# transaction_id, station_id, connector_id, id_tag, charge_type, start_at_us, meter_start_wh,
# last_sample_at_us, energy_register_wh, effective_charge_duration_s, stop_at_us, meter_stop_wh, comment
ExportRow = tuple[int, str, int, str, str, int, int, int | None, float | None, float, int | None, int | None, str]
ExportSamples = dict[int, list[tuple[int, float]]]  # transaction id -> (at_us, energy_wh), oldest first
_EXPORT_SELECT = (
    "SELECT transaction_id, station_id, connector_id, id_tag, charge_type, start_at_us, meter_start_wh,"
    " last_sample_at_us, energy_register_wh, effective_charge_duration_s, stop_at_us, meter_stop_wh, comment"
    " FROM sessions WHERE start_at_us >= ? AND start_at_us < ? ORDER BY start_at_us, transaction_id"
)


class ExportScan:
    """Sessions started in [lo_us, hi_us), oldest first, with their energy samples, read on a worker thread.

    The stdlib sqlite3 on a query-only connection of its own: no thread hop
    per row (aiosqlite's cost), and one read transaction, so the sessions and
    their samples come from one WAL snapshot while the daemon keeps writing.
    The samples are those of sessions that ever stored one (`last_sample_at_us`),
    fetched in one query per chunk. `interrupt` may be called from any thread.
    """

    def __init__(self, path: Path, lo_us: int, hi_us: int) -> None:
        self.path, self.lo_us, self.hi_us = path, lo_us, hi_us
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # sqlite3_interrupt must not race the close
        self._interrupted = False

    def __enter__(self) -> ExportScan:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        with self._lock:
            self._conn = conn
            if self._interrupted:
                conn.interrupt()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def interrupt(self) -> None:
        """Abort the running (or next) statement: the reader gets sqlite3.OperationalError."""
        with self._lock:
            self._interrupted = True
            if self._conn is not None:
                self._conn.interrupt()

    def chunks(self, size: int) -> Iterator[tuple[list[ExportRow], ExportSamples]]:
        """Chunks of `size` sessions with the energy samples of those that ever stored one."""
        conn = self._conn
        assert conn is not None, "use ExportScan in a with block"
        conn.execute("BEGIN")  # one snapshot for the sessions and all their samples; __exit__ ends it
        cursor = conn.execute(_EXPORT_SELECT, (self.lo_us, self.hi_us))
        while rows := cursor.fetchmany(size):
            ids = [r[0] for r in rows if r[7] is not None]
            samples: ExportSamples = {}
            if ids:
                for tid, at_us, energy_wh in conn.execute(
                    "SELECT transaction_id, at_us, energy_wh FROM session_samples WHERE energy_wh IS NOT NULL"
                    f" AND transaction_id IN ({','.join('?' * len(ids))}) ORDER BY transaction_id, at_us",
                    ids,
                ):
                    samples.setdefault(tid, []).append((at_us, energy_wh))
            yield rows, samples
