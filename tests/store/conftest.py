from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from edgectl.adapters.store import Store, open_store
from edgectl.clock import FakeClock
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "edgectl.db"


@pytest.fixture
async def store(db_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(db_path, clock) as s:
        yield s


@pytest.fixture
def site_rich() -> Site:
    return rich_site()


def rich_site() -> Site:
    """Every field away from its default, orders that are not sorted, None vs ()."""
    return Site(
        settings=SiteSettings(
            name="Depot Nord",
            timezone="Europe/Paris",
            min_current=MinCurrentPolicy.EVZE,
            shedding_priority=SheddingPriority.DURATION,
            rotation_minutes=20,
            consumption_optimisation=True,
            auto_register=True,
            remote_energy=RemoteEnergyManagement(
                enabled=True, login="ems", min_update_period_s=30, heartbeat_s=300, time_sync=True
            ),
        ),
        # a child before its parent: the store must not care
        zones=(
            Zone("floor1", "1st floor", 120, ZoneMode.STATIC, parent="main", auth_mode=AuthMode.ALL_CARDS),
            Zone("main", "Main", 250, ZoneMode.DYNAMIC, meter="pm-main", degraded_current_a=60, tou_enabled=False),
            Zone("floor0", "Ground", 80, parent="main", auth_mode=AuthMode.DISABLED),
        ),
        stations=(
            Station(
                "S03",
                "Station 03",
                "evlink_city",
                "floor1",
                connectors=(
                    Connector(2, Wiring.MONO2, 32, "T2"),
                    Connector(1, Wiring.TRI231, 16, "T2/TE"),
                ),
                vip=True,
                auth_mode=AuthMode.KNOWN_CARDS,
                auth_disconnected=DisconnectedAuth.REJECT_ALL,
                serial="SN-1",
                password="s3cret",
            ),
            Station("A01", "Alpha", "generic_ac", "floor0", connectors=(Connector(1, Wiring.TRI123, 32),)),
        ),
        meters=(
            Meter("pm-main", "pm5320", Transport.TCP, "Main meter", host="127.0.0.1", port=5020, unit_id=1),
            Meter(
                "rtu1",
                "iem3x5x",
                Transport.RTU,
                serial_port="/dev/ttyS1",
                baudrate=9600,
                parity="N",
                stopbits=2,
                reporting=True,
            ),
        ),
        cards=(
            Card(
                "EFR41DEZ",
                vip=True,
                comment="Fleet manager",
                zones=("floor1", "floor0"),
                registered=date(2026, 1, 2),
                last_seen=datetime(2026, 1, 3, 9, 30, tzinfo=UTC),
                valid_from=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))),
                valid_to=datetime(2026, 12, 31, 23, 59),  # noqa: DTZ001 - naive stays naive
            ),
            Card("0011AA", authorized=False, zones=()),  # no zone at all, unlike None
            Card("zz-last"),
        ),
        tou=Tou(
            enabled=True,
            periods=(
                TouPeriod(
                    "on-peak",
                    90,
                    ("mon", "tue", "wed", "thu", "fri"),
                    (TouSlot(time(8), time(12)), TouSlot(time(14), time(19, 30))),
                    zones=("floor1",),
                ),
                TouPeriod("night", 0, ("sun", "sat"), (TouSlot(time(22), time(6)),), enabled=False),
                TouPeriod("none", 50, ("wed",), (), zones=()),
            ),
        ),
        digital_inputs=(DigitalInput(3, "Fire", True, 0), DigitalInput(1, "Grid operator signal", False, 70)),
    )
