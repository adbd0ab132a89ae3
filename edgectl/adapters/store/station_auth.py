"""Per-station authorization state: the local list last pushed, cards used there.

Rules:
- `local_list(station)` is what the box last had Accepted by the station's
  SendLocalList, with the list version it carried (None: never pushed).
- `used_id_tags(station)` are the tags that started a transaction on that
  station (the sessions table): the "cards already used on that station"
  of the use_cache disconnected mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from edgectl.adapters.store.db import Database


@dataclass(frozen=True, slots=True)
class LocalList:
    version: int
    entries: dict[str, str | None] = field(default_factory=dict)  # id tag -> expiry ISO text or None


class StationAuthRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def local_list(self, station_id: str) -> LocalList | None:
        row = await self._db.fetchone(
            "SELECT version, entries FROM station_local_lists WHERE station_id = ?", (station_id,)
        )
        if row is None:
            return None
        return LocalList(int(row["version"]), dict(json.loads(row["entries"])))

    async def save_local_list(self, station_id: str, value: LocalList) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO station_local_lists (station_id, version, entries, updated_at_us) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (station_id) DO UPDATE SET version = excluded.version, entries = excluded.entries,"
                " updated_at_us = excluded.updated_at_us",
                (station_id, value.version, json.dumps(value.entries, sort_keys=True), self._db.now_us()),
            )

    async def forget_local_list(self, station_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM station_local_lists WHERE station_id = ?", (station_id,))

    async def used_id_tags(self, station_id: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT id_tag FROM sessions WHERE station_id = ? ORDER BY id_tag", (station_id,)
        )
        return [str(r["id_tag"]) for r in rows]
