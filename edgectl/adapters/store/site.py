"""The site in normalized tables: `replace(site)` and `load()`.

`load()` after `replace(s)` equals `s`: every tuple keeps its order through a
`position` column, enums come back as the same members, `None` and `()` stay
distinct (a card or TOU period limited to no zone is not one for every zone).
`replace` is one transaction: a reader sees the old site or the new one.
"""

from __future__ import annotations

import sqlite3

import aiosqlite
import structlog

from edgectl.adapters.store.cards import card_from_row, write_card
from edgectl.adapters.store.codec import time_from_text, time_text
from edgectl.adapters.store.db import Database
from edgectl.core.site import (
    AuthMode,
    Card,
    Connector,
    DigitalInput,
    DisconnectedAuth,
    Meter,
    MinCurrentPolicy,
    RemoteEnergyManagement,
    SheddingPriority,
    Site,
    SiteSettings,
    Station,
    Tou,
    TouPeriod,
    TouSlot,
    Transport,
    Wiring,
    Zone,
    ZoneMode,
)

log = structlog.get_logger(__name__)

# Children first is not needed (foreign keys are deferred), but cards are kept:
# their seen-at-station history survives a site import (see `write_card`).
_SITE_TABLES = (
    "connectors",
    "stations",
    "zones",
    "meters",
    "tou_slots",
    "tou_period_days",
    "tou_period_zones",
    "tou_periods",
    "digital_inputs",
    "site_settings",
)


class SiteRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace(self, site: Site) -> None:
        """Write the whole site, cards included, in one transaction."""
        # alone: the site tables' foreign keys are deferred, checked at COMMIT.
        async with self._db.write(alone=True) as conn:
            for table in _SITE_TABLES:
                await conn.execute(f"DELETE FROM {table}")  # fixed names, never input
            await _write_settings(conn, site)
            await _write_meters(conn, site)
            await _write_zones(conn, site)
            await _write_stations(conn, site)
            await _write_tou(conn, site.tou)
            await _write_inputs(conn, site)
            await _write_cards(conn, site)
        log.info(
            "store.site_replaced",
            zones=len(site.zones),
            stations=len(site.stations),
            meters=len(site.meters),
            cards=len(site.cards),
        )

    async def load(self) -> Site | None:
        """The stored site, or None when no site was ever written."""
        async with self._db.read() as conn:
            settings_row = await _one(conn, "SELECT * FROM site_settings WHERE id = 1")
            if settings_row is None:
                return None
            return Site(
                settings=_settings_from_row(settings_row),
                zones=await _load_zones(conn),
                stations=await _load_stations(conn),
                meters=await _load_meters(conn),
                cards=await _load_cards(conn),
                tou=await _load_tou(conn, bool(settings_row["tou_enabled"])),
                digital_inputs=await _load_inputs(conn),
            )


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def _all(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


# ------------------------------------------------------------------ writing


async def _write_settings(conn: aiosqlite.Connection, site: Site) -> None:
    s = site.settings
    rem = s.remote_energy
    await conn.execute(
        "INSERT INTO site_settings (id, name, timezone, min_current, shedding_priority, rotation_minutes,"
        " consumption_optimisation, auto_register, rem_enabled, rem_login, rem_min_update_period_s,"
        " rem_heartbeat_s, rem_time_sync, tou_enabled) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            s.name,
            s.timezone,
            s.min_current.value,
            s.shedding_priority.value,
            s.rotation_minutes,
            s.consumption_optimisation,
            s.auto_register,
            rem.enabled,
            rem.login,
            rem.min_update_period_s,
            rem.heartbeat_s,
            rem.time_sync,
            site.tou.enabled,
        ),
    )


async def _write_meters(conn: aiosqlite.Connection, site: Site) -> None:
    await conn.executemany(
        "INSERT INTO meters (id, position, model, transport, name, host, port, unit_id, serial_port, baudrate,"
        " parity, stopbits, reporting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.id,
                i,
                m.model,
                m.transport.value,
                m.name,
                m.host,
                m.port,
                m.unit_id,
                m.serial_port,
                m.baudrate,
                m.parity,
                m.stopbits,
                m.reporting,
            )
            for i, m in enumerate(site.meters)
        ],
    )


async def _write_zones(conn: aiosqlite.Connection, site: Site) -> None:
    await conn.executemany(
        "INSERT INTO zones (id, position, name, max_current_a, mode, parent, meter, degraded_current_a, auth_mode,"
        " tou_enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                z.id,
                i,
                z.name,
                z.max_current_a,
                z.mode.value,
                z.parent,
                z.meter,
                z.degraded_current_a,
                None if z.auth_mode is None else z.auth_mode.value,
                z.tou_enabled,
            )
            for i, z in enumerate(site.zones)
        ],
    )


async def _write_stations(conn: aiosqlite.Connection, site: Site) -> None:
    await conn.executemany(
        "INSERT INTO stations (id, position, name, model, zone, vip, auth_mode, auth_disconnected, serial, password)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.id,
                i,
                s.name,
                s.model,
                s.zone,
                s.vip,
                None if s.auth_mode is None else s.auth_mode.value,
                s.auth_disconnected.value,
                s.serial,
                s.password,
            )
            for i, s in enumerate(site.stations)
        ],
    )
    await conn.executemany(
        "INSERT INTO connectors (station_id, id, position, wiring, max_current_a, socket) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (s.id, c.id, i, c.wiring.value, c.max_current_a, c.socket)
            for s in site.stations
            for i, c in enumerate(s.connectors)
        ],
    )


async def _write_tou(conn: aiosqlite.Connection, tou: Tou) -> None:
    for p_index, period in enumerate(tou.periods):
        await conn.execute(
            "INSERT INTO tou_periods (position, name, percent, enabled, all_zones) VALUES (?, ?, ?, ?, ?)",
            (p_index, period.name, period.percent, period.enabled, period.zones is None),
        )
        await conn.executemany(
            "INSERT INTO tou_period_days (period, position, day) VALUES (?, ?, ?)",
            [(p_index, i, day) for i, day in enumerate(period.days)],
        )
        await conn.executemany(
            "INSERT INTO tou_period_zones (period, position, zone) VALUES (?, ?, ?)",
            [(p_index, i, zone) for i, zone in enumerate(period.zones or ())],
        )
        await conn.executemany(
            'INSERT INTO tou_slots (period, position, start, "end") VALUES (?, ?, ?, ?)',
            [(p_index, i, time_text(slot.start), time_text(slot.end)) for i, slot in enumerate(period.slots)],
        )


async def _write_inputs(conn: aiosqlite.Connection, site: Site) -> None:
    await conn.executemany(
        "INSERT INTO digital_inputs (channel, position, name, enabled, percent) VALUES (?, ?, ?, ?, ?)",
        [(d.channel, i, d.name, d.enabled, d.percent) for i, d in enumerate(site.digital_inputs)],
    )


async def _write_cards(conn: aiosqlite.Connection, site: Site) -> None:
    keep = [card.id_tag for card in site.cards]
    # Cards that left the site go; the others are updated in place so their
    # last-seen station (not part of the Site value) is kept.
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS _keep_cards (id_tag TEXT PRIMARY KEY COLLATE NOCASE)")
    await conn.execute("DELETE FROM _keep_cards")
    await conn.executemany("INSERT OR IGNORE INTO _keep_cards (id_tag) VALUES (?)", [(t,) for t in keep])
    await conn.execute("DELETE FROM cards WHERE id_tag NOT IN (SELECT id_tag FROM _keep_cards)")
    await conn.execute("DELETE FROM _keep_cards")
    for position, card in enumerate(site.cards):
        await write_card(conn, card, position)


# ------------------------------------------------------------------ reading


def _settings_from_row(row: sqlite3.Row) -> SiteSettings:
    return SiteSettings(
        name=row["name"],
        timezone=row["timezone"],
        min_current=MinCurrentPolicy(row["min_current"]),
        shedding_priority=SheddingPriority(row["shedding_priority"]),
        rotation_minutes=row["rotation_minutes"],
        consumption_optimisation=bool(row["consumption_optimisation"]),
        auto_register=bool(row["auto_register"]),
        remote_energy=RemoteEnergyManagement(
            enabled=bool(row["rem_enabled"]),
            login=row["rem_login"],
            min_update_period_s=row["rem_min_update_period_s"],
            heartbeat_s=row["rem_heartbeat_s"],
            time_sync=bool(row["rem_time_sync"]),
        ),
    )


async def _load_meters(conn: aiosqlite.Connection) -> tuple[Meter, ...]:
    rows = await _all(conn, "SELECT * FROM meters ORDER BY position")
    return tuple(
        Meter(
            id=r["id"],
            model=r["model"],
            transport=Transport(r["transport"]),
            name=r["name"],
            host=r["host"],
            port=r["port"],
            unit_id=r["unit_id"],
            serial_port=r["serial_port"],
            baudrate=r["baudrate"],
            parity=r["parity"],
            stopbits=r["stopbits"],
            reporting=bool(r["reporting"]),
        )
        for r in rows
    )


async def _load_zones(conn: aiosqlite.Connection) -> tuple[Zone, ...]:
    rows = await _all(conn, "SELECT * FROM zones ORDER BY position")
    return tuple(
        Zone(
            id=r["id"],
            name=r["name"],
            max_current_a=r["max_current_a"],
            mode=ZoneMode(r["mode"]),
            parent=r["parent"],
            meter=r["meter"],
            degraded_current_a=r["degraded_current_a"],
            auth_mode=None if r["auth_mode"] is None else AuthMode(r["auth_mode"]),
            tou_enabled=bool(r["tou_enabled"]),
        )
        for r in rows
    )


async def _load_stations(conn: aiosqlite.Connection) -> tuple[Station, ...]:
    connectors: dict[str, list[Connector]] = {}
    for r in await _all(conn, "SELECT * FROM connectors ORDER BY station_id, position"):
        connectors.setdefault(r["station_id"], []).append(
            Connector(id=r["id"], wiring=Wiring(r["wiring"]), max_current_a=r["max_current_a"], socket=r["socket"])
        )
    rows = await _all(conn, "SELECT * FROM stations ORDER BY position")
    return tuple(
        Station(
            id=r["id"],
            name=r["name"],
            model=r["model"],
            zone=r["zone"],
            connectors=tuple(connectors.get(r["id"], ())),
            vip=bool(r["vip"]),
            auth_mode=None if r["auth_mode"] is None else AuthMode(r["auth_mode"]),
            auth_disconnected=DisconnectedAuth(r["auth_disconnected"]),
            serial=r["serial"],
            password=r["password"],
        )
        for r in rows
    )


async def _load_tou(conn: aiosqlite.Connection, enabled: bool) -> Tou:
    days: dict[int, list[str]] = {}
    for r in await _all(conn, "SELECT period, day FROM tou_period_days ORDER BY period, position"):
        days.setdefault(r["period"], []).append(r["day"])
    zones: dict[int, list[str]] = {}
    for r in await _all(conn, "SELECT period, zone FROM tou_period_zones ORDER BY period, position"):
        zones.setdefault(r["period"], []).append(r["zone"])
    slots: dict[int, list[TouSlot]] = {}
    for r in await _all(conn, 'SELECT period, start, "end" FROM tou_slots ORDER BY period, position'):
        slots.setdefault(r["period"], []).append(TouSlot(time_from_text(r["start"]), time_from_text(r["end"])))
    periods = tuple(
        TouPeriod(
            name=r["name"],
            percent=r["percent"],
            days=tuple(days.get(r["position"], ())),
            slots=tuple(slots.get(r["position"], ())),
            enabled=bool(r["enabled"]),
            zones=None if r["all_zones"] else tuple(zones.get(r["position"], ())),
        )
        for r in await _all(conn, "SELECT * FROM tou_periods ORDER BY position")
    )
    return Tou(enabled=enabled, periods=periods)


async def _load_inputs(conn: aiosqlite.Connection) -> tuple[DigitalInput, ...]:
    rows = await _all(conn, "SELECT * FROM digital_inputs ORDER BY position")
    return tuple(
        DigitalInput(channel=r["channel"], name=r["name"], enabled=bool(r["enabled"]), percent=r["percent"])
        for r in rows
    )


async def _load_cards(conn: aiosqlite.Connection) -> tuple[Card, ...]:
    zones: dict[str, list[str]] = {}
    for r in await _all(conn, "SELECT id_tag, zone FROM card_zones ORDER BY id_tag, position"):
        zones.setdefault(r["id_tag"].upper(), []).append(r["zone"])
    rows = await _all(conn, "SELECT * FROM cards ORDER BY position, id_tag")
    return tuple(card_from_row(r, zones.get(r["id_tag"].upper(), [])) for r in rows)
