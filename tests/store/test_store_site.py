from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgectl.adapters.store import Store, open_store
from edgectl.clock import FakeClock
from edgectl.core.site import Card, Site, Zone


async def test_no_site_loads_none(store: Store) -> None:
    assert await store.site.load() is None


async def test_default_site_round_trips(store: Store) -> None:
    await store.site.replace(Site())
    assert await store.site.load() == Site()


async def test_rich_site_round_trips_exactly(store: Store, site_rich: Site) -> None:
    site = site_rich
    await store.site.replace(site)
    loaded = await store.site.load()
    assert loaded == site
    assert loaded is not None
    # == on aware datetimes ignores the offset; the stored text keeps it anyway
    assert loaded.cards[0].valid_from is not None and loaded.cards[0].valid_from.utcoffset() is not None
    assert loaded.cards[0].valid_to is not None and loaded.cards[0].valid_to.tzinfo is None
    assert loaded.cards[1].zones == () and loaded.cards[2].zones is None
    assert [z.id for z in loaded.zones] == ["floor1", "main", "floor0"]
    assert [c.id for c in loaded.stations[0].connectors] == [2, 1]


async def test_replace_survives_reopen(db_path: Path, clock: FakeClock, site_rich: Site) -> None:
    async with open_store(db_path, clock) as s:
        await s.site.replace(site_rich)
    async with open_store(db_path, clock) as s:
        assert await s.site.load() == site_rich


async def test_replace_replaces_everything(store: Store, site_rich: Site) -> None:
    await store.site.replace(site_rich)
    smaller = Site(zones=(Zone("z", "Z", 10),), cards=(Card("NEW"),))
    await store.site.replace(smaller)
    assert await store.site.load() == smaller
    assert [c.card.id_tag for c in await store.cards.list()] == ["NEW"]


async def test_replace_is_one_transaction(store: Store, site_rich: Site) -> None:
    await store.site.replace(site_rich)
    broken = dataclasses.replace(site_rich, zones=(Zone("z", "Z", 10, parent="missing"),))
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await store.site.replace(broken)
    assert await store.site.load() == site_rich  # the old site is intact


async def test_replace_keeps_last_seen_station_of_kept_cards(store: Store, clock: FakeClock, site_rich: Site) -> None:
    await store.site.replace(site_rich)
    await store.cards.record_seen("efr41dez", "S03", clock.now())
    site = await store.site.load()
    assert site is not None
    await store.site.replace(site)
    stored = await store.cards.get("EFR41DEZ")
    assert stored is not None and stored.last_seen_station == "S03"
    assert stored.card.last_seen == clock.now()
