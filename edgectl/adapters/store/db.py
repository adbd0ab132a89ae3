"""The one connection of the daemon: pragmas, a write lock, migrations.

Rules:
- WAL with `synchronous=FULL`: a commit is on disk (power cut included)
  before the call returns, because the daemon acknowledges a station only
  after the store returned (persist before acknowledge).
- The connection runs in autocommit mode and every write is an explicit
  `BEGIN IMMEDIATE … COMMIT` under an asyncio lock: one connection is shared
  by all coroutines, and without the lock two coroutines' statements would
  interleave inside one transaction.
- Migrations are numbered SQL files, applied in order, each in its own
  transaction together with its `PRAGMA user_version` bump; a database newer
  than the code is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

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


class Database:
    """The shared connection plus the lock that makes its transactions whole."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self.conn = conn
        self.path = path
        self.clock = clock
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, committed before the block's caller continues."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                # A deferred foreign key fails here, at COMMIT, not in the block.
                await self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    # Cancelled while the COMMIT was queued: it may have run already.
                    with contextlib.suppress(sqlite3.OperationalError):
                        await self.conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: never sees another coroutine's half-done write."""
        async with self._lock:
            await self.conn.execute("BEGIN DEFERRED")
            try:
                yield self.conn
            finally:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection with no transaction open (VACUUM, checkpoints)."""
        async with self._lock:
            yield self.conn

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self.read() as conn, conn.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self.read() as conn, conn.execute(sql, tuple(params)) as cursor:
            row = await cursor.fetchone()
            return row

    def now_us(self) -> int:
        return to_us(self.clock.now())


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
