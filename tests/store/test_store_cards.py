from __future__ import annotations

from datetime import UTC, datetime

from edgectl.adapters.store import CardFilter, CardPatch, Store
from edgectl.clock import FakeClock
from edgectl.core.site import Card, Site


async def test_upsert_get_delete(store: Store) -> None:
    card = Card("ABC123", vip=True, comment="boss", zones=("z1",))
    await store.cards.upsert(card)
    got = await store.cards.get("abc123")  # case-insensitive
    assert got is not None and got.card == card and got.last_seen_station is None
    await store.cards.upsert(Card("ABC123", comment="changed"))
    got = await store.cards.get("ABC123")
    assert got is not None and got.card == Card("ABC123", comment="changed")
    assert await store.cards.delete("abc123") is True
    assert await store.cards.get("ABC123") is None
    assert await store.cards.delete("ABC123") is False


async def test_new_cards_append_and_keep_site_order(store: Store, site_rich: Site) -> None:
    await store.site.replace(site_rich)
    await store.cards.upsert(Card("NEWCARD"))
    await store.cards.upsert(Card("EFR41DEZ", comment="edited in place"))
    site = await store.site.load()
    assert site is not None
    assert [c.id_tag for c in site.cards] == ["EFR41DEZ", "0011AA", "zz-last", "NEWCARD"]
    assert site.cards[0].comment == "edited in place"


async def test_filters(store: Store) -> None:
    for card in (
        Card("AAA111", vip=True, zones=("z1",)),
        Card("BBB222", authorized=False, comment="lost_badge"),  # every zone
        Card("CCC111", zones=("z2",)),
        Card("DDD%11", zones=()),
    ):
        await store.cards.upsert(card)

    async def ids(flt: CardFilter) -> list[str]:
        return [c.card.id_tag for c in await store.cards.list(flt)]

    assert await ids(CardFilter()) == ["AAA111", "BBB222", "CCC111", "DDD%11"]
    assert await ids(CardFilter(id_tag_contains="111")) == ["AAA111", "CCC111"]
    assert await ids(CardFilter(id_tag_contains="%")) == ["DDD%11"]  # LIKE wildcards are literal
    assert await ids(CardFilter(id_tag_contains="aaa")) == ["AAA111"]
    assert await ids(CardFilter(comment_contains="_badge")) == ["BBB222"]
    assert await ids(CardFilter(zone="z1")) == ["AAA111", "BBB222"]
    assert await ids(CardFilter(vip=True)) == ["AAA111"]
    assert await ids(CardFilter(authorized=False)) == ["BBB222"]
    assert await ids(CardFilter(authorized=True, zone="z2")) == ["CCC111"]
    assert await ids(CardFilter(limit=2, offset=1)) == ["BBB222", "CCC111"]


async def test_bulk_update(store: Store) -> None:
    await store.cards.upsert(Card("A", zones=("z1",), comment="keep"))
    await store.cards.upsert(Card("B"))
    changed = await store.cards.bulk_update(["a", "B", "missing"], CardPatch(vip=True, authorized=False))
    assert changed == 2
    a = await store.cards.get("A")
    assert a is not None and a.card == Card("A", vip=True, authorized=False, zones=("z1",), comment="keep")
    await store.cards.bulk_update(["A"], CardPatch(zones=None))  # None: every zone (not "unchanged")
    a = await store.cards.get("A")
    assert a is not None and a.card.zones is None and a.card.vip is True


async def test_record_seen_unknown_then_known(store: Store, clock: FakeClock) -> None:
    at = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    seen = await store.cards.record_seen("UNKNOWN1", "S03", at)
    assert seen.card == Card("UNKNOWN1", authorized=False, last_seen=at)
    assert seen.last_seen_station == "S03"
    assert [c.card.id_tag for c in await store.cards.list(CardFilter(authorized=False))] == ["UNKNOWN1"]

    await store.cards.upsert(Card("KNOWN", vip=True, zones=("z",)))
    later = datetime(2026, 2, 1, 13, 0, tzinfo=UTC)
    seen = await store.cards.record_seen("known", "S04", later)
    assert seen.card == Card("KNOWN", vip=True, zones=("z",), last_seen=later)
    assert seen.last_seen_station == "S04"
