"""`open_store(path)`: the database opened, migrated and split into repositories."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from edgectl.adapters.store.alarms import AlarmRepository
from edgectl.adapters.store.cards import CardRepository
from edgectl.adapters.store.db import Database, connect, load_migrations, migrate
from edgectl.adapters.store.events import EventRepository
from edgectl.adapters.store.factory import FactoryReset
from edgectl.adapters.store.maintenance import MaintenanceRepository
from edgectl.adapters.store.sessions import SessionRepository
from edgectl.adapters.store.site import SiteRepository
from edgectl.adapters.store.station_auth import StationAuthRepository
from edgectl.adapters.store.station_events import StationEventRepository
from edgectl.adapters.store.stations_registry import StationRegistry
from edgectl.adapters.store.users import UserRepository
from edgectl.adapters.store.web_auth import BoxSettingsRepository, WebAuthRepository
from edgectl.clock import Clock, SystemClock

log = structlog.get_logger(__name__)

DEFAULT_MAX_EVENTS = 200_000


@dataclass(frozen=True, slots=True)
class Store:
    path: Path
    schema_version: int
    site: SiteRepository
    cards: CardRepository
    sessions: SessionRepository
    station_events: StationEventRepository
    events: EventRepository
    users: UserRepository
    stations_registry: StationRegistry
    station_auth: StationAuthRepository
    alarms: AlarmRepository
    maintenance: MaintenanceRepository
    web_auth: WebAuthRepository
    box_settings: BoxSettingsRepository
    factory: FactoryReset
    _db: Database

    async def integrity_check(self) -> str:
        """'ok', or SQLite's description of the damage."""
        rows = await self._db.fetchall("PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)

    async def backup_to(self, target: Path) -> None:
        """A consistent, compact copy of the live database (WAL-safe, online).

        SQLite refuses to overwrite an existing `target`.
        """
        # VACUUM INTO reads one snapshot; it cannot run inside a transaction.
        async with self._db.exclusive() as conn:
            await conn.execute("VACUUM INTO ?", (str(target),))
        log.info("store.backed_up", target=str(target))


@contextlib.asynccontextmanager
async def open_store(
    path: Path, clock: Clock | None = None, *, max_events: int = DEFAULT_MAX_EVENTS
) -> AsyncIterator[Store]:
    """Open (creating and migrating) the database at `path`; closed on exit.

    Raises SchemaTooNewError for a database written by a newer edgectl.
    """
    clock = clock or SystemClock()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await connect(path)
    db: Database | None = None
    try:
        version = await migrate(conn, clock, load_migrations())
        db = Database(conn, path, clock)
        store = Store(
            path=path,
            schema_version=version,
            site=SiteRepository(db),
            cards=CardRepository(db),
            sessions=SessionRepository(db),
            station_events=StationEventRepository(db),
            events=EventRepository(db, max_events),
            users=UserRepository(db),
            stations_registry=StationRegistry(db),
            station_auth=StationAuthRepository(db),
            alarms=AlarmRepository(db),
            maintenance=MaintenanceRepository(db),
            web_auth=WebAuthRepository(db),
            box_settings=BoxSettingsRepository(db),
            factory=FactoryReset(db),
            _db=db,
        )
        log.info("store.opened", path=str(path), schema_version=version)
        yield store
    finally:
        if db is not None:
            await db.flush()  # writers still waiting on a batch get their answer
        with contextlib.suppress(Exception):
            # Fold the WAL back so the file alone is a complete copy at rest.
            await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await conn.close()
        log.info("store.closed", path=str(path))
