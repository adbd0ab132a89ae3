"""Back to factory (SPEC §7): wipe the site and everything learnt since.

Deletes cards, stations, zones, meters, TOU, inputs, transactions and their
samples, station events, detected stations, alarms, station auth state, web
sessions, tokens, the box settings (security policy, network, CPO link) and
every user except the factory accounts. Kept: the event log (the audit trail,
including the reset itself), the factory accounts, and the id high-water
marks (a transaction or reservation id is never reused). Any table added by a
later migration is wiped too unless it is listed in `KEEP`.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from edgectl.adapters.store.db import Database

log = structlog.get_logger(__name__)

KEEP = frozenset({"schema_migrations", "sqlite_sequence", "events", "users", "transaction_ids", "reservation_ids"})


@dataclass(frozen=True, slots=True)
class WipeResult:
    tables: tuple[str, ...]
    rows: int
    factory_accounts: int


class FactoryReset:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def wipe(self) -> WipeResult:
        async with self._db.write(alone=True) as conn:
            async with conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ) as cursor:
                tables = [str(r[0]) for r in await cursor.fetchall() if r[0] not in KEEP]
            # Foreign keys are checked at COMMIT, when every child row is gone too.
            await conn.execute("PRAGMA defer_foreign_keys = ON")
            rows = 0
            for table in tables:
                cursor = await conn.execute(f'DELETE FROM "{table}"')  # names from sqlite_master, never input
                rows += max(cursor.rowcount, 0)
            cursor = await conn.execute("DELETE FROM users WHERE role != 'factory'")
            rows += max(cursor.rowcount, 0)
            async with conn.execute("SELECT COUNT(*) FROM users WHERE role = 'factory'") as cursor:
                found = await cursor.fetchone()
        factory = int(found[0]) if found else 0
        log.warning("store.factory_reset", tables=len(tables), rows=rows, factory_accounts=factory)
        return WipeResult(tuple(tables), rows, factory)
