"""End to end: the real daemon and simulated stations on loopback.

Every authorization mode x disconnected mode, online and while the station
has lost the box (it authorizes from the local list / cache the box pushed,
refuses under reject_all, accepts unknown tags under accept_all); free
charging started by the box; card validity windows and zone restrictions;
unknown cards recorded with last-seen; a VIP card's session filled first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from e2e.harness import FAST_CAR, Running, running_site
from e2e.harness import eventually as _eventually

from edgectl.core.authorization import OFFLINE_KEYS
from edgectl.core.site import AuthMode, Card, Connector, DisconnectedAuth, Site, Station, Wiring, Zone
from simulators.station import SimStation

FREE_TAG = "FREE-CHARGING"


async def eventually(check: Callable[[], bool], what: str = "condition") -> None:
    # Nine stations at once on a loaded shared machine: a generous bound, still polled.
    await _eventually(check, timeout_s=30.0, what=what)


ZONE_OF = {AuthMode.KNOWN_CARDS: "known", AuthMode.ALL_CARDS: "open", AuthMode.DISABLED: "free"}


def _sid(mode: AuthMode, disc: DisconnectedAuth) -> str:
    return f"{mode.value[:3]}-{disc.value[:3]}".upper()  # id tags built from it stay <= 20 characters


def matrix_site() -> Site:
    stations = [
        Station(
            _sid(m, d), _sid(m, d), "generic_ac", ZONE_OF[m], (Connector(1, Wiring.TRI123, 16),), auth_disconnected=d
        )
        for m in AuthMode
        for d in DisconnectedAuth
    ]
    return Site(
        zones=(
            Zone("main", "Main", 500),
            Zone("known", "Known", 200, parent="main"),  # inherits known_cards (root default)
            Zone("open", "Open", 200, parent="main", auth_mode=AuthMode.ALL_CARDS),
            Zone("free", "Free", 200, parent="main", auth_mode=AuthMode.DISABLED),
        ),
        stations=tuple(stations),
        cards=(Card("GOOD"),),
    )


def _bound(st: SimStation) -> bool:
    tx = st.connectors[1].tx
    return tx is not None and tx.transaction_id is not None


async def _swipe(st: SimStation, tag: str, *, accepted: bool, online: bool) -> None:
    """Plug a car with a card; wait for the transaction, or make sure none starts."""
    asked = st.sent.count("Authorize")
    st.plug_in(1, FAST_CAR, id_tag=tag)
    c = st.connectors[1]
    if accepted:
        await eventually(lambda: _bound(st) if online else c.tx is not None, what=f"{st.identity}: {tag} starts")
        assert c.tx is not None and c.tx.id_tag == tag
        return
    if online:
        await eventually(lambda: st.sent.count("Authorize") > asked, what=f"{st.identity}: {tag} asked")
    await asyncio.sleep(0.3)  # an offline decision is local and immediate; give a wrong start time to show
    assert c.tx is None, f"{st.identity}: {tag} must not charge"


async def _unplug(st: SimStation) -> None:
    st.unplug(1)
    await eventually(lambda: st.connectors[1].tx is None and st.status(1) == "Available")


def _keys_pushed(st: SimStation, disc: DisconnectedAuth) -> bool:
    return all(st.config.get(k) == ("true" if v else "false") for k, v in OFFLINE_KEYS[disc].items())


async def _scenario(run: Running, mode: AuthMode, disc: DisconnectedAuth) -> None:
    sid = _sid(mode, disc)
    st = run.station(sid)
    c = st.connectors[1]
    await eventually(lambda: _keys_pushed(st, disc), what=f"{sid}: offline keys")
    # --- online
    if mode is AuthMode.DISABLED:
        st.plug_in(1, FAST_CAR)  # no card: the box starts the transaction itself
        await eventually(lambda: _bound(st), what=f"{sid}: free charging started")
        assert c.tx is not None and c.tx.id_tag == FREE_TAG
        await eventually(lambda: st.status(1) == "Charging" and c.offered_a > 0, what=f"{sid}: charging")
        used = FREE_TAG
    else:
        await _swipe(st, "GOOD", accepted=True, online=True)
        await _unplug(st)
        await _swipe(st, "STRANGER", accepted=mode is AuthMode.ALL_CARDS, online=True)
        used = "GOOD" if mode is AuthMode.KNOWN_CARDS else "STRANGER"
    await _unplug(st)
    # The card layer's hook: the local list now holds the cards used here.
    await run.components.ocpp.auth_sync.cards_changed()
    if disc is DisconnectedAuth.USE_CACHE:
        await eventually(lambda: used in st.local_list, what=f"{sid}: {used} in the local list")
        assert set(st.local_list.values()) == {"Accepted"}
        st.auth_cache.clear()  # prove the list alone authorizes offline
    # --- offline
    await st.go_offline()
    await _swipe(st, used, accepted=disc is not DisconnectedAuth.REJECT_ALL, online=False)
    if c.tx is not None:
        await _unplug(st)
    newbie = disc is DisconnectedAuth.ACCEPT_ALL
    await _swipe(st, f"NEWBIE-{sid}", accepted=newbie, online=False)
    if not newbie:
        await _unplug(st)
    # --- back online: queued transaction messages are delivered
    await st.go_online(timeout_s=20)
    if newbie:
        await eventually(lambda: _bound(st), what=f"{sid}: offline transaction delivered")
        assert c.tx is not None and c.tx.id_tag == f"NEWBIE-{sid}"  # not stopped on reconnect, even if unknown
        session = await run.components.runtime.store.sessions.get(c.tx.transaction_id or 0)
        assert session is not None and session.is_open and session.station_id == sid
        await _unplug(st)


async def test_every_authorization_mode_by_disconnected_mode(tmp_path: Path) -> None:
    async with running_site(matrix_site(), tmp_path) as run:
        await asyncio.gather(*(_scenario(run, m, d) for m in AuthMode for d in DisconnectedAuth))
        store = run.components.runtime.store
        stranger = await store.cards.get("STRANGER")
        assert stranger is not None and not stranger.card.authorized and stranger.card.last_seen is not None
        assert stranger.last_seen_station is not None
        free = await store.sessions.open_sessions()
        assert free == []  # everything unplugged and stopped
        free_sessions = await store.sessions.recent(_sid(AuthMode.DISABLED, DisconnectedAuth.USE_CACHE))
        assert FREE_TAG in {s.id_tag for s in free_sessions}


def cards_site() -> Site:
    return Site(
        zones=(
            Zone("main", "Main", 200),
            Zone("z1", "Z1", 40, parent="main"),
            Zone("z2", "Z2", 40, parent="main"),
        ),
        stations=(
            Station("CARDS", "Cards", "generic_ac", "z1", (Connector(1, Wiring.TRI123, 16),)),
            Station(
                "VIP", "Vip", "generic_ac", "z2", (Connector(1, Wiring.TRI123, 32), Connector(2, Wiring.TRI123, 32))
            ),
        ),
        cards=(
            Card("EXPIRED", valid_to=datetime(2020, 1, 1, tzinfo=UTC)),
            Card("LATER", valid_from=datetime(2099, 1, 1, tzinfo=UTC)),
            Card("SOON", valid_to=datetime(2099, 1, 1, tzinfo=UTC)),
            Card("OTHERZONE", zones=("z2",)),
            Card("PARENT", zones=("main",)),
            Card("BLOCKED", authorized=False),
            Card("GOOD"),
            Card("BOSS", vip=True),
        ),
    )


async def test_validity_windows_zones_unknown_cards_and_vip(tmp_path: Path) -> None:
    async with running_site(cards_site(), tmp_path) as run:
        store = run.components.runtime.store
        st = run.station("CARDS")
        for tag, ok in [
            ("EXPIRED", False),
            ("LATER", False),
            ("OTHERZONE", False),
            ("BLOCKED", False),
            ("SOON", True),
            ("PARENT", True),
        ]:
            await _swipe(st, tag, accepted=ok, online=True)
            await _unplug(st)
        # Unknown cards: recorded "seen, not authorized" with station and time; last-seen moves on.
        await _swipe(st, "STRANGER", accepted=False, online=True)
        first = await store.cards.get("STRANGER")
        assert first is not None and not first.card.authorized and first.last_seen_station == "CARDS"
        assert first.card.last_seen is not None
        await _unplug(st)
        await _swipe(st, "STRANGER", accepted=False, online=True)
        again = await store.cards.get("STRANGER")
        assert again is not None and again.card.last_seen is not None and again.card.last_seen > first.card.last_seen
        await _unplug(st)
        # The local list holds the cards used here that are valid here, with their expiry.
        await run.components.ocpp.auth_sync.cards_changed()
        await eventually(lambda: set(st.local_list) == {"SOON", "PARENT"}, what="local list")
        stored = await store.station_auth.local_list("CARDS")
        assert stored is not None and stored.entries == {"PARENT": None, "SOON": "2099-01-01T00:00:00.000Z"}

        # VIP: the VIP card's session is filled first (zone 40 A, two 32 A connectors).
        vip = run.station("VIP")
        vip.plug_in(1, FAST_CAR, id_tag="GOOD")
        await eventually(lambda: run.components.loop.last is not None and run.setpoint("VIP", 1) == 32, what="alone")
        vip.plug_in(2, FAST_CAR, id_tag="BOSS")
        await eventually(lambda: (run.setpoint("VIP", 1), run.setpoint("VIP", 2)) == (8, 32), what="vip first")
        await eventually(lambda: vip.effective_limit_a(2) == 32 and vip.effective_limit_a(1) == 8, what="enforced")
