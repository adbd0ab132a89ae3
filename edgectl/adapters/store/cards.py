"""RFID cards: the site's card list, filtered, edited, and swipes recorded.

The same `cards` table backs `Site.cards` (site replace/load); this repository
edits it card by card. Id tags compare case-insensitively. A new card goes to
the end of the list (its `position`), so the site's order stays stable.
"""

from __future__ import annotations

import builtins
import enum
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import aiosqlite
import structlog

from edgectl.adapters.store.codec import date_from_text, date_text, dt_from_text, dt_text
from edgectl.adapters.store.db import Database
from edgectl.core.site import Card

log = structlog.get_logger(__name__)


class Keep(enum.Enum):
    """'Leave this field as it is' in a `CardPatch` (None already means 'every zone')."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class StoredCard:
    card: Card
    last_seen_station: str | None = None  # where it was last swiped; not part of the site


@dataclass(frozen=True, slots=True)
class CardFilter:
    id_tag_contains: str | None = None  # case-insensitive substring
    comment_contains: str | None = None
    zone: str | None = None  # cards allowed in this zone (cards for every zone included)
    vip: bool | None = None
    authorized: bool | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CardPatch:
    """A bulk modification: only the fields that are set change."""

    vip: bool | None = None
    authorized: bool | None = None
    comment: str | None = None
    zones: tuple[str, ...] | Keep | None = KEEP
    valid_from: datetime | Keep | None = KEEP
    valid_to: datetime | Keep | None = KEEP

    def apply(self, card: Card) -> Card:
        return replace(
            card,
            vip=card.vip if self.vip is None else self.vip,
            authorized=card.authorized if self.authorized is None else self.authorized,
            comment=card.comment if self.comment is None else self.comment,
            zones=card.zones if isinstance(self.zones, Keep) else self.zones,
            valid_from=card.valid_from if isinstance(self.valid_from, Keep) else self.valid_from,
            valid_to=card.valid_to if isinstance(self.valid_to, Keep) else self.valid_to,
        )


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CardRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, flt: CardFilter | None = None) -> builtins.list[StoredCard]:
        flt = flt or CardFilter()
        where: list[str] = []
        params: list[object] = []
        if flt.id_tag_contains:
            where.append("c.id_tag LIKE ? ESCAPE '\\'")
            params.append(_like(flt.id_tag_contains))
        if flt.comment_contains:
            where.append("c.comment LIKE ? ESCAPE '\\'")
            params.append(_like(flt.comment_contains))
        if flt.zone is not None:
            where.append(
                "(c.all_zones OR EXISTS (SELECT 1 FROM card_zones z WHERE z.id_tag = c.id_tag AND z.zone = ?))"
            )
            params.append(flt.zone)
        if flt.vip is not None:
            where.append("c.vip = ?")
            params.append(flt.vip)
        if flt.authorized is not None:
            where.append("c.authorized = ?")
            params.append(flt.authorized)
        sql = "SELECT c.* FROM cards c"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.position, c.id_tag LIMIT ? OFFSET ?"
        params += [-1 if flt.limit is None else flt.limit, flt.offset]
        async with self._db.read() as conn:
            rows = list(await conn.execute_fetchall(sql, params))
            zones = await _zones_of(conn, [r["id_tag"] for r in rows])
            return [StoredCard(card_from_row(r, zones.get(r["id_tag"], [])), r["last_seen_station"]) for r in rows]

    async def get(self, id_tag: str) -> StoredCard | None:
        async with self._db.read() as conn:
            async with conn.execute("SELECT * FROM cards WHERE id_tag = ?", (id_tag,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return StoredCard(card_from_row(row, await _zones(conn, row["id_tag"])), row["last_seen_station"])

    async def upsert(self, card: Card) -> None:
        """Create the card at the end of the list, or update it in place."""
        async with self._db.write() as conn:
            await write_card(conn, card, None)
        log.info("card.saved", id_tag=card.id_tag, authorized=card.authorized, vip=card.vip)

    async def delete(self, id_tag: str) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("DELETE FROM cards WHERE id_tag = ?", (id_tag,))
            deleted = cursor.rowcount > 0
        if deleted:
            log.info("card.deleted", id_tag=id_tag)
        return deleted

    async def bulk_update(self, id_tags: Iterable[str], patch: CardPatch) -> int:
        """Apply `patch` to every listed card that exists; returns how many changed."""
        changed = 0
        async with self._db.write() as conn:
            for id_tag in id_tags:
                async with conn.execute("SELECT * FROM cards WHERE id_tag = ?", (id_tag,)) as cursor:
                    row = await cursor.fetchone()
                if row is None:
                    continue
                card = card_from_row(row, await _zones(conn, row["id_tag"]))
                await write_card(conn, patch.apply(card), row["position"])
                changed += 1
        log.info("card.bulk_updated", count=changed)
        return changed

    async def record_seen(self, id_tag: str, station_id: str, at: datetime) -> StoredCard:
        """A swipe: a known card gets its last-seen updated, an unknown one is
        created "seen, not authorized" so an operator can approve it in one click."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE cards SET last_seen = ?, last_seen_station = ? WHERE id_tag = ?",
                (dt_text(at), station_id, id_tag),
            )
            if cursor.rowcount == 0:
                await conn.execute(
                    "INSERT INTO cards (id_tag, position, vip, authorized, comment, all_zones, registered, last_seen,"
                    " last_seen_station) VALUES (?, (SELECT COALESCE(MAX(position), -1) + 1 FROM cards), 0, 0, '', 1,"
                    " NULL, ?, ?)",
                    (id_tag, dt_text(at), station_id),
                )
                log.info("card.seen_unknown", id_tag=id_tag, station_id=station_id)
            async with conn.execute("SELECT * FROM cards WHERE id_tag = ?", (id_tag,)) as cur:
                row = await cur.fetchone()
            assert row is not None  # written just above, same transaction
            return StoredCard(card_from_row(row, await _zones(conn, row["id_tag"])), row["last_seen_station"])


_IN_LIMIT = 500  # SQLite's bound-parameter limit is far above; beyond this one scan is cheaper


async def _zones_of(conn: aiosqlite.Connection, id_tags: list[str]) -> dict[str, list[str]]:
    """The zones of many cards in one query (a query per card made a 1,000-card list slow)."""
    if not id_tags:
        return {}
    if len(id_tags) <= _IN_LIMIT:
        marks = ",".join("?" * len(id_tags))
        sql = f"SELECT id_tag, zone FROM card_zones WHERE id_tag IN ({marks}) ORDER BY id_tag, position"
        rows = await conn.execute_fetchall(sql, id_tags)
    else:
        wanted = set(id_tags)
        rows = [
            r
            for r in await conn.execute_fetchall("SELECT id_tag, zone FROM card_zones ORDER BY id_tag, position")
            if r["id_tag"] in wanted
        ]
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["id_tag"], []).append(r["zone"])
    return out


async def _zones(conn: aiosqlite.Connection, id_tag: str) -> list[str]:
    async with conn.execute("SELECT zone FROM card_zones WHERE id_tag = ? ORDER BY position", (id_tag,)) as cursor:
        return [r["zone"] for r in await cursor.fetchall()]


def card_from_row(row: sqlite3.Row, zones: list[str]) -> Card:
    return Card(
        id_tag=row["id_tag"],
        vip=bool(row["vip"]),
        authorized=bool(row["authorized"]),
        comment=row["comment"],
        zones=None if row["all_zones"] else tuple(zones),
        registered=date_from_text(row["registered"]),
        last_seen=dt_from_text(row["last_seen"]),
        valid_from=dt_from_text(row["valid_from"]),
        valid_to=dt_from_text(row["valid_to"]),
    )


async def write_card(conn: aiosqlite.Connection, card: Card, position: int | None) -> None:
    """Insert or update one card inside the caller's transaction.

    `position=None` keeps an existing card's place and appends a new one.
    """
    await conn.execute(
        "INSERT INTO cards (id_tag, position, vip, authorized, comment, all_zones, registered, last_seen,"
        " valid_from, valid_to) VALUES (?, COALESCE(?, (SELECT COALESCE(MAX(position), -1) + 1 FROM cards)),"
        " ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id_tag) DO UPDATE SET id_tag = excluded.id_tag,"
        " position = COALESCE(?, cards.position), vip = excluded.vip, authorized = excluded.authorized,"
        " comment = excluded.comment, all_zones = excluded.all_zones, registered = excluded.registered,"
        " last_seen = excluded.last_seen, valid_from = excluded.valid_from, valid_to = excluded.valid_to",
        (
            card.id_tag,
            position,
            card.vip,
            card.authorized,
            card.comment,
            card.zones is None,
            date_text(card.registered),
            dt_text(card.last_seen),
            dt_text(card.valid_from),
            dt_text(card.valid_to),
            position,
        ),
    )
    await conn.execute("DELETE FROM card_zones WHERE id_tag = ?", (card.id_tag,))
    await conn.executemany(
        "INSERT INTO card_zones (id_tag, position, zone) VALUES (?, ?, ?)",
        [(card.id_tag, i, zone) for i, zone in enumerate(card.zones or ())],
    )
