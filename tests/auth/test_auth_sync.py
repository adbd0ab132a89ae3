"""Offline authorization pushed to a station: configuration keys per
disconnected mode, the local list (full, differential, chunked, version
mismatch, persisted across reconnects), ClearCache on revocation, stations
without local-list support reported, and a caller never blocked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import EventQuery, Store
from edgectl.core.authorization import OFFLINE_KEYS
from edgectl.core.site import Card, DisconnectedAuth

from .support import T0, RawStation, SiteHolder, StationBehaviour, eventually, make_site

Stations = Callable[..., Awaitable[RawStation]]
FUTURE = datetime(2027, 1, 1, tzinfo=UTC)


async def _synced(server: OcppServer, sid: str = "CP1", syncs: int = 1) -> None:
    def done() -> bool:
        state = server.auth_sync.state(sid)
        return state is not None and not state.conn.retired and state.idle and state.syncs >= syncs

    await eventually(done)


async def _boot(server: OcppServer, stations: Stations, behaviour: StationBehaviour | None = None) -> RawStation:
    st = await stations("CP1", behaviour or StationBehaviour())
    assert (await st.boot())["status"] == "Accepted"
    await _synced(server)
    return st


def _lists(st: RawStation) -> list[dict[str, Any]]:
    return [p for a, p in st.received if a == "SendLocalList"]


async def _use(store: Store, *tags: str) -> None:
    for i, tag in enumerate(tags):
        await store.sessions.start("CP1", 1, tag, T0.replace(minute=i), 0)


async def test_use_cache_pushes_keys_and_full_list_of_cards_used_here(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED", valid_to=FUTURE), Card("NEVER"), Card("BLOCKED", authorized=False)))
    await _use(store, "USED", "BLOCKED", "STRANGER")
    st = await _boot(server, stations)
    expected = {k: "true" if v else "false" for k, v in OFFLINE_KEYS[DisconnectedAuth.USE_CACHE].items()}
    assert {k: v for k, v in st.behaviour.config.items() if k in expected} == expected
    assert _lists(st) == [
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "USED", "idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}}
            ],
        }
    ]
    stored = await store.station_auth.local_list("CP1")
    assert stored is not None and stored.version == 1 and stored.entries == {"USED": "2027-01-01T00:00:00.000Z"}
    assert "ClearCache" in st.actions()  # the old list content was unknown: the cache may hold stale tags


async def test_card_changes_send_differential_updates_and_revocation_clears_cache(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED"),))
    await _use(store, "USED")
    st = await _boot(server, stations)
    cleared = st.behaviour.cleared
    # A new card used here (online), then the card layer says cards changed.
    site.site = replace(site.site, cards=(Card("USED"), Card("NEW")))
    await _use(store, "NEW")
    await server.auth_sync.cards_changed()
    await _synced(server, syncs=2)
    assert _lists(st)[-1] == {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "NEW", "idTagInfo": {"status": "Accepted"}}],
    }
    assert st.behaviour.cleared == cleared  # nothing revoked
    # USED is blocked: removed from the list, and the cache cleared so it cannot charge offline.
    site.site = replace(site.site, cards=(Card("USED", authorized=False), Card("NEW")))
    await server.auth_sync.cards_changed()
    await _synced(server, syncs=3)
    assert _lists(st)[-1] == {
        "listVersion": 3,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "USED"}],
    }
    assert st.behaviour.local_list == {"NEW": {"status": "Accepted"}}
    assert st.behaviour.cleared == cleared + 1
    # No change: nothing is sent.
    sent = len(st.received)
    await server.auth_sync.cards_changed()
    await _synced(server, syncs=4)
    assert len(st.received) == sent


async def test_reconnect_same_version_sends_nothing_other_version_gets_full(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED"),))
    await _use(store, "USED")
    first = await _boot(server, stations)
    kept = first.behaviour
    await first.close()
    await eventually(lambda: "CP1" not in server.online())
    again = await _boot(server, stations, StationBehaviour(list_version=kept.list_version, local_list=kept.local_list))
    assert _lists(again) == []  # same version as stored: the station holds the list already
    await again.close()
    await eventually(lambda: "CP1" not in server.online())
    reset = await _boot(server, stations, StationBehaviour(list_version=7))  # someone else wrote the list
    assert [(p["listVersion"], p["updateType"]) for p in _lists(reset)] == [(8, "Full")]


async def test_version_mismatch_falls_back_to_full(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED"), Card("NEW")))
    await _use(store, "USED")
    st = await _boot(server, stations)
    st.behaviour.list_version = 5  # changed behind the box's back
    await _use(store, "NEW")
    await server.auth_sync.cards_changed()
    await _synced(server, syncs=2)
    assert [(p["listVersion"], p["updateType"]) for p in _lists(st)] == [(1, "Full"), (2, "Differential"), (3, "Full")]
    assert set(st.behaviour.local_list) == {"USED", "NEW"}
    stored = await store.station_auth.local_list("CP1")
    assert stored is not None and stored.version == 3


async def test_long_list_is_chunked_by_send_local_list_max_length(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    tags = [f"C{i}" for i in range(5)]
    site.site = make_site(cards=tuple(Card(t) for t in tags))
    await _use(store, *tags)
    st = await _boot(server, stations, StationBehaviour(send_max=2))
    assert [(p["listVersion"], p["updateType"], len(p["localAuthorizationList"])) for p in _lists(st)] == [
        (1, "Full", 2),
        (2, "Differential", 2),
        (3, "Differential", 1),
    ]
    assert sorted(st.behaviour.local_list) == tags


async def _events(store: Store) -> list[tuple[str, dict[str, Any]]]:
    return [(e.message, dict(e.details)) for e in await store.events.query(EventQuery(source="CP1"))]


async def test_station_without_local_list_profile_is_reported_and_uses_cache(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED"),))
    await _use(store, "USED")
    st = await _boot(server, stations, StationBehaviour(profiles="Core,SmartCharging"))
    assert "LocalAuthListEnabled" not in st.behaviour.config
    assert st.behaviour.config["AuthorizationCacheEnabled"] == "true"
    assert not {"GetLocalListVersion", "SendLocalList"} & set(st.actions())
    assert (
        "local authorization list not usable: offline authorization falls back to the cache",
        {"reason": "SupportedFeatureProfiles lacks LocalAuthListManagement"},
    ) in await _events(store)
    # Reported once per connection, not at every card change.
    await server.auth_sync.cards_changed()
    await _synced(server, syncs=2)
    assert len([m for m, _ in await _events(store) if m.startswith("local authorization list")]) == 1


async def test_send_local_list_not_supported_or_list_too_long_are_reported(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("A"), Card("B")))
    await _use(store, "A", "B")
    st = await _boot(server, stations, StationBehaviour(send_local_list_status="NotSupported"))
    reasons = [d.get("reason") for m, d in await _events(store) if m.startswith("local authorization list")]
    assert reasons == ["SendLocalList answered NotSupported"]
    await st.close()
    await eventually(lambda: "CP1" not in server.online())
    st = await _boot(server, stations, StationBehaviour(list_max=1))
    assert _lists(st) == []
    reasons = [d.get("reason") for m, d in await _events(store) if m.startswith("local authorization list")]
    assert reasons[0] == "2 cards exceed LocalAuthListMaxLength 1"


async def test_reject_all_and_accept_all_keys_and_no_list(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(DisconnectedAuth.REJECT_ALL, cards=(Card("USED"),))
    await _use(store, "USED")
    st = await _boot(server, stations)
    expected = {k: "true" if v else "false" for k, v in OFFLINE_KEYS[DisconnectedAuth.REJECT_ALL].items()}
    assert {k: v for k, v in st.behaviour.config.items() if k in expected} == expected
    assert _lists(st) == []
    # Switching the station to accept_all: only the keys that differ are sent.
    sent = len(st.received)
    site.site = replace(
        site.site, stations=(replace(site.site.stations[0], auth_disconnected=DisconnectedAuth.ACCEPT_ALL),)
    )
    await server.auth_sync.settings_changed()
    await _synced(server, syncs=2)
    changed = [(p["key"], p["value"]) for a, p in st.received[sent:] if a == "ChangeConfiguration"]
    assert changed == [
        ("LocalAuthorizeOffline", "true"),
        ("AllowOfflineTxForUnknownId", "true"),
        ("StopTransactionOnInvalidId", "false"),
    ]
    assert _lists(st) == []


async def test_cards_changed_never_blocks_on_a_silent_station(
    server: OcppServer, stations: Stations, store: Store, site: SiteHolder
) -> None:
    site.site = make_site(cards=(Card("USED"),))
    st = await _boot(server, stations)
    st.behaviour.silent = {"SendLocalList", "GetLocalListVersion", "ClearCache", "ChangeConfiguration"}
    await _use(store, "USED")
    async with asyncio.timeout(0.2):  # returns at once although the station will never answer
        await server.auth_sync.cards_changed()
        await server.auth_sync.cards_changed()
    state = server.auth_sync.state("CP1")
    assert state is not None and not state.idle
    # The sync gives up after the call timeout and the station's state is unknown again.
    await eventually(lambda: state.idle, timeout_s=5)
    assert state.list_version is None
