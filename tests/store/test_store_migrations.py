from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edgectl.adapters.store import SchemaTooNewError, open_store
from edgectl.adapters.store.db import load_migrations
from edgectl.clock import FakeClock


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "initial"


async def test_migrates_empty_file_and_sets_pragmas(db_path: Path, clock: FakeClock) -> None:
    async with open_store(db_path, clock) as store:
        assert store.schema_version == len(load_migrations())
        assert await store.integrity_check() == "ok"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(load_migrations())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
        history = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
        assert history == [(m.version, m.name) for m in load_migrations()]


async def test_reopen_does_not_migrate_again(db_path: Path, clock: FakeClock) -> None:
    async with open_store(db_path, clock):
        pass
    async with open_store(db_path, clock) as store:
        assert store.schema_version == len(load_migrations())
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(load_migrations())


async def test_connection_pragmas(db_path: Path, clock: FakeClock) -> None:
    async with open_store(db_path, clock) as store:
        db = store._db
        for pragma, expected in (("foreign_keys", 1), ("synchronous", 2), ("busy_timeout", 10_000)):
            row = await db.fetchone(f"PRAGMA {pragma}")
            assert row is not None and row[0] == expected, pragma


async def test_refuses_a_newer_database(db_path: Path, clock: FakeClock) -> None:
    async with open_store(db_path, clock):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {len(load_migrations()) + 1}")
    with pytest.raises(SchemaTooNewError):
        async with open_store(db_path, clock):
            pass


async def test_failed_migration_leaves_the_database_as_it_was(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgectl.adapters.store import db as dbmod

    async with open_store(db_path, clock):
        pass
    good = load_migrations()
    broken = (*good, dbmod.Migration(len(good) + 1, "broken", "CREATE TABLE x (a INTEGER);\nNOT SQL;"))
    monkeypatch.setattr("edgectl.adapters.store.store.load_migrations", lambda: broken)
    with pytest.raises(sqlite3.OperationalError):
        async with open_store(db_path, clock):
            pass
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(good)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'x'").fetchone() is None
