"""The one connection of the daemon: pragmas, group commit, migrations.

Rules:
- WAL with `synchronous=FULL`: a commit is on disk (power cut included)
  before a writer continues, because the daemon acknowledges a station only
  after the store returned (persist before acknowledge).
- Group commit: writers that arrive while a commit is on its way share the
  next transaction. Each writer's work runs inside its own SAVEPOINT (a
  failing writer rolls back only its own work and gets its exception); the
  writer then waits until the shared COMMIT is on disk. One fsync thus
  covers every station message that arrived meanwhile, and a lone writer
  still commits at once (the committer runs as soon as the writers already
  queued are done). If the COMMIT itself fails, every writer of that batch
  gets the error: nothing is acknowledged that is not on disk.
- Writes that rely on deferred foreign keys (the site tables: a violation
  only shows at COMMIT) run `alone`: the open batch is committed first and
  their own transaction is committed by itself.
- The connection runs in autocommit mode; statements are issued under an
  asyncio lock: one connection is shared by all coroutines, and without the
  lock two coroutines' statements would interleave inside one savepoint.
- A read sees the state of the connection, including writes of an open
  batch whose COMMIT is still to come (their writers are not answered yet).
- `transact(fn)` runs a synchronous function on the connection's thread in
  one hop (savepoint included): the hot paths (MeterValues) use it, because
  every awaited statement costs a thread round trip.
- Migrations are numbered SQL files, applied in order, each in its own
  transaction together with its `PRAGMA user_version` bump; a database newer
  than the code is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import aiosqlite
import structlog

from edgectl.adapters.store.codec import to_us
from edgectl.adapters.store.errors import SchemaTooNewError
from edgectl.clock import Clock

log = structlog.get_logger(__name__)

BUSY_TIMEOUT_MS = 10_000  # a backup or `sqlite3` shell may hold the lock briefly
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> tuple[Migration, ...]:
    """The packaged migrations in order; numbering must be 1, 2, 3 … without gaps."""
    folder = resources.files("edgectl.adapters.store") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {expected:04d} missing (found {migration.version:04d})")
    return tuple(found)


T = TypeVar("T")


@dataclass(eq=False, slots=True)
class _Batch:
    """The open shared transaction: its writers wait for `committed`."""

    committed: asyncio.Future[None]
    writers: int = 0


class Database:
    """The shared connection, its lock and the group commit."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self.conn = conn
        self.path = path
        self.clock = clock
        self._lock = asyncio.Lock()
        self._batch: _Batch | None = None
        self._committers: set[asyncio.Task[None]] = set()
        self._committing: asyncio.Future[None] | None = None  # the COMMIT on its way, if any
        self.commits = 0  # transactions committed (tests and the benchmark read it)
        self.batched_writes = 0  # writers those commits carried

    # --- the batch ------------------------------------------------------------------

    async def _join(self) -> _Batch:
        """The open batch, opened if needed (the lock is held)."""
        if self._batch is None:
            # Opened before the BEGIN is awaited: a cancelled BEGIN still runs on the thread.
            self._open(asyncio.get_running_loop().create_future())
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except Exception as exc:
                self._fail_batch(exc)
                raise
        assert self._batch is not None
        return self._batch

    def _open(self, committed: asyncio.Future[None]) -> None:
        batch = self._batch = _Batch(committed)
        task = asyncio.get_running_loop().create_task(self._commit_later(batch), name="store.group_commit")
        self._committers.add(task)
        task.add_done_callback(self._committers.discard)

    async def _commit_later(self, batch: _Batch) -> None:
        # One COMMIT on its way at a time: while the previous one is being
        # fsynced, this batch keeps collecting writers (the bigger the load,
        # the bigger the batch; alone, a writer commits at once).
        previous = self._committing
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        # asyncio.Lock is fair: the writers already waiting go first, into this batch.
        async with self._lock:
            if self._batch is not batch:
                return
            # Queued now; the lock is not held during the fsync, so the next
            # batch's writers queue their units behind this COMMIT meanwhile.
            committing = self._queue_commit(batch)
        await self._finish(batch, committing)

    async def _commit(self) -> None:
        """Commit the open batch and settle its writers (the lock is held)."""
        batch = self._batch
        assert batch is not None
        await self._finish(batch, self._queue_commit(batch))

    def _queue_commit(self, batch: _Batch) -> asyncio.Future[None]:
        self._batch = None
        queued = submit(self.conn, _commit_unit)
        if not isinstance(queued, asyncio.Future):
            queued = asyncio.ensure_future(run_on_thread(self.conn, _commit_unit))
        self._committing = queued
        return queued

    async def _finish(self, batch: _Batch, committing: asyncio.Future[None]) -> None:
        try:
            await asyncio.shield(committing)
        except BaseException as exc:
            if not batch.committed.done():
                batch.committed.set_exception(
                    exc if isinstance(exc, Exception) else sqlite3.OperationalError("commit interrupted")
                )
                batch.committed.exception()  # retrieved: writers may all have gone
            if not isinstance(exc, Exception):
                raise
            log.error("store.commit_failed", writers=batch.writers, error=str(exc))
            return
        self.commits += 1
        self.batched_writes += batch.writers
        if not batch.committed.done():
            batch.committed.set_result(None)

    async def _settle(self, batch: _Batch) -> None:
        # shield: a cancelled writer must not cancel the batch of the others.
        await asyncio.shield(batch.committed)

    # --- writers --------------------------------------------------------------------

    @asynccontextmanager
    async def write(self, *, alone: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One unit of writes, on disk before the block's caller continues."""
        if alone:
            async with self._alone() as conn:
                yield conn
            return
        async with self._lock:
            batch = await self._join()
            batch.writers += 1
            await self.conn.execute("SAVEPOINT w")
            try:
                yield self.conn
            except BaseException:
                await self._undo_savepoint()
                raise
            await self.conn.execute("RELEASE w")
        await self._settle(batch)

    async def _undo_savepoint(self) -> None:
        try:
            await self.conn.execute("ROLLBACK TO w")
            await self.conn.execute("RELEASE w")
        except BaseException:
            # The connection could not undo one writer: give up the whole batch.
            self._fail_batch(sqlite3.OperationalError("a writer's rollback failed; the batch was rolled back"))
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self.conn.execute("ROLLBACK")
            raise

    def _fail_batch(self, exc: Exception) -> None:
        batch, self._batch = self._batch, None
        if batch is not None and not batch.committed.done():
            batch.committed.set_exception(exc)
            batch.committed.exception()

    @asynccontextmanager
    async def _alone(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._batch is not None:
                await self._commit()
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                await self.conn.execute("COMMIT")
                self.commits += 1
                self.batched_writes += 1
            except BaseException:
                if self.conn.in_transaction:
                    # Cancelled while the COMMIT was queued: it may have run already.
                    with contextlib.suppress(sqlite3.OperationalError):
                        await self.conn.execute("ROLLBACK")
                raise

    async def transact(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the connection's thread inside the batch, in one hop; on disk when it returns.

        `fn` gets the plain sqlite3 connection and must only run statements
        (no BEGIN/COMMIT); an exception from it undoes its own work only.
        The unit is queued on the connection's thread at once, under the
        lock, so units run in the order they joined their batch and the
        lock is never held across a thread hop: a burst of station messages
        runs back to back on the thread and shares one COMMIT.
        """
        async with self._lock:
            begin = self._batch is None
            if begin:
                self._open(asyncio.get_running_loop().create_future())
            batch = self._batch
            assert batch is not None
            batch.writers += 1
            slot: _Slot[T] = _Slot()
            unit = functools.partial(_unit_into, slot, fn, begin)
            if not submit(self.conn, unit, notify=False):
                # An aiosqlite we do not know inside: one awaited hop under the lock.
                await run_on_thread(self.conn, unit)
        # The unit's outcome is read once its batch is committed: one wake-up
        # of the event loop per batch, not one per writer.
        await self._settle(batch)
        if slot.error is not None:
            raise slot.error
        return cast(T, slot.result)

    # --- readers --------------------------------------------------------------------

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: never sees another coroutine's half-done write."""
        async with self._lock:
            if self._batch is not None:  # inside the open batch: already one transaction
                yield self.conn
                return
            await self.conn.execute("BEGIN DEFERRED")
            try:
                yield self.conn
            finally:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection with no transaction open (VACUUM, checkpoints)."""
        async with self._lock:
            if self._batch is not None:
                await self._commit()
            yield self.conn

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        # One statement is consistent by itself: one hop, no BEGIN/COMMIT.
        async with self._lock:
            return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def flush(self) -> None:
        """Commit the open batch now (before closing the connection)."""
        async with self._lock:
            if self._batch is not None:
                await self._commit()
        for task in list(self._committers):
            task.cancel()

    def now_us(self) -> int:
        return to_us(self.clock.now())


class _Slot(Generic[T]):
    """Where a unit leaves its outcome for its writer (written on the store's thread)."""

    __slots__ = ("error", "result")

    def __init__(self) -> None:
        self.result: T | None = None
        self.error: BaseException | None = None


def _unit_into(slot: _Slot[T], fn: Callable[[sqlite3.Connection], T], begin: bool, raw: sqlite3.Connection) -> None:
    """One writer's work on the connection's thread, inside its own savepoint; never raises."""
    try:
        if begin:
            raw.execute("BEGIN IMMEDIATE")  # if this fails, so does the batch's COMMIT: nobody is acknowledged
        elif not raw.in_transaction:
            # The batch's BEGIN failed before us: a SAVEPOINT now would autocommit on its own.
            raise sqlite3.OperationalError("the shared transaction could not begin")
        raw.execute("SAVEPOINT w")
        try:
            slot.result = fn(raw)
        except BaseException:
            raw.execute("ROLLBACK TO w")
            raw.execute("RELEASE w")
            raise
        raw.execute("RELEASE w")
    except BaseException as exc:  # handed to the writer
        slot.error = exc


def _commit_unit(raw: sqlite3.Connection) -> None:
    """COMMIT; on failure roll back at once, before any later unit runs on the thread."""
    try:
        # A deferred foreign key fails here, at COMMIT.
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                raw.execute("ROLLBACK")
        raise


def submit(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], Any], *, notify: bool = True
           ) -> asyncio.Future[Any] | bool:
    """Queue `fn(sqlite3 connection)` on aiosqlite's thread now; False if we cannot.

    Returns its future, or True when `notify` is False (no future: the
    thread does not wake the event loop when `fn` is done -- `fn` must not
    raise). aiosqlite only queues inside a coroutine (`_execute`), i.e. at
    the caller's next await; group commit needs the position in the
    thread's queue fixed at once. This does what `_execute` does,
    synchronously, and returns False if aiosqlite's insides ever change.
    """
    queue = getattr(conn, "_tx", None)
    raw = getattr(conn, "_connection", None)
    if queue is None or raw is None or not getattr(conn, "_running", False) or not hasattr(queue, "put_nowait"):
        return False
    future: asyncio.Future[Any] | None = asyncio.get_running_loop().create_future() if notify else None
    queue.put_nowait((future, functools.partial(fn, raw)))
    return True if future is None else future


async def run_on_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(sqlite3 connection)` on aiosqlite's connection thread, in one hop.

    aiosqlite has no public call for this: `_execute` is what each of its own
    public methods uses (stable since 0.17; tests/store exercise it, so an
    aiosqlite that drops it fails our suite, not a station).
    """
    raw = conn._conn  # private, see the docstring
    result: T = await conn._execute(fn, raw)  # type: ignore[no-untyped-call]
    return result


async def connect(path: Path) -> aiosqlite.Connection:
    """A connection with the store's pragmas (used for the main and reader connections)."""
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (see module docstring).
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    try:
        # foreign_keys is a no-op inside a transaction, so it comes first.
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
            row = await cursor.fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise RuntimeError(f"{path}: cannot switch to WAL journal mode (got {row and row[0]})")
        await conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, clock: Clock, migrations: tuple[Migration, ...]) -> int:
    """Bring the schema up to date; returns the resulting version."""
    current = await schema_version(conn)
    latest = len(migrations)
    if current > latest:
        raise SchemaTooNewError(current, latest)
    for migration in migrations[current:]:
        # executescript() would COMMIT any open transaction first, so the
        # BEGIN/COMMIT pair is part of the script: the schema change, its
        # history row and the version bump land together or not at all.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n;\n"
            f"INSERT INTO schema_migrations (version, name, applied_at_us) "
            f"VALUES ({migration.version}, '{migration.name}', {to_us(clock.now())});\n"
            f"PRAGMA user_version = {migration.version};\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        log.info("store.migrated", version=migration.version, name=migration.name)
    return max(current, latest)
