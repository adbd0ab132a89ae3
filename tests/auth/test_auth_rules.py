"""The authorization rules (pure): modes inherited down the zone tree and
overridden per station, card rules under known_cards, the offline-keys table
and what a use_cache station's local list holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from edgectl.core.authorization import (
    OFFLINE_KEYS,
    decide,
    effective_auth_mode,
    expiry,
    offline_list,
    uses_cache,
    uses_local_list,
)
from edgectl.core.site import AuthMode, Card, Connector, DisconnectedAuth, Site, SiteSettings, Station, Wiring, Zone

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _site(root: AuthMode | None = None, mid: AuthMode | None = None, leaf: AuthMode | None = None) -> Site:
    return Site(
        settings=SiteSettings(timezone="Europe/Paris"),
        zones=(
            Zone("root", "Root", 200, auth_mode=root),
            Zone("mid", "Mid", 100, parent="root", auth_mode=mid),
            Zone("leaf", "Leaf", 63, parent="mid", auth_mode=leaf),
            Zone("other", "Other", 63, parent="root"),
        ),
        stations=(Station("S", "S", "generic_ac", "leaf", (Connector(1, Wiring.TRI123, 32),)),),
    )


@pytest.mark.parametrize(
    ("root", "mid", "leaf", "station", "expected"),
    [
        (None, None, None, None, AuthMode.KNOWN_CARDS),  # root default
        (AuthMode.ALL_CARDS, None, None, None, AuthMode.ALL_CARDS),  # inherited from the root
        (AuthMode.ALL_CARDS, AuthMode.DISABLED, None, None, AuthMode.DISABLED),  # nearest ancestor wins
        (AuthMode.ALL_CARDS, None, AuthMode.KNOWN_CARDS, None, AuthMode.KNOWN_CARDS),
        (AuthMode.DISABLED, None, None, AuthMode.KNOWN_CARDS, AuthMode.KNOWN_CARDS),  # station override
        (None, None, None, AuthMode.ALL_CARDS, AuthMode.ALL_CARDS),
    ],
)
def test_mode_inherited_down_the_tree_and_overridden_per_station(
    root: AuthMode | None, mid: AuthMode | None, leaf: AuthMode | None, station: AuthMode | None, expected: AuthMode
) -> None:
    site = _site(root, mid, leaf)
    st = replace(site.stations[0], auth_mode=station)
    assert effective_auth_mode(site, st) is expected


def test_unregistered_station_and_unknown_zone_are_known_cards() -> None:
    site = _site(AuthMode.ALL_CARDS)
    assert effective_auth_mode(site, None) is AuthMode.KNOWN_CARDS
    assert effective_auth_mode(site, replace(site.stations[0], zone="gone")) is AuthMode.KNOWN_CARDS


@pytest.mark.parametrize(
    ("card", "status"),
    [
        (None, "Invalid"),
        (Card("A"), "Accepted"),
        (Card("A", authorized=False), "Invalid"),
        (Card("A", valid_to=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)), "Expired"),  # the bound itself is past
        (Card("A", valid_to=datetime(2026, 3, 1, 12, 1, tzinfo=UTC)), "Accepted"),
        (Card("A", valid_from=datetime(2026, 3, 1, 12, 1, tzinfo=UTC)), "Invalid"),  # not yet valid
        (Card("A", valid_from=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)), "Accepted"),
        # Naive bounds are site-local time (Paris = UTC+1 in March): 12:30 local is 11:30 UTC.
        (Card("A", valid_to=datetime(2026, 3, 1, 12, 30)), "Expired"),  # noqa: DTZ001
        (Card("A", valid_from=datetime(2026, 3, 1, 13, 30)), "Invalid"),  # noqa: DTZ001
        (Card("A", zones=("leaf",)), "Accepted"),
        (Card("A", zones=("root",)), "Accepted"),  # a zone covers its sub-zones
        (Card("A", zones=("other",)), "Invalid"),
    ],
)
def test_known_cards_rules(card: Card | None, status: str) -> None:
    site = _site()
    assert decide(card, site.stations[0], site, NOW) == status


@pytest.mark.parametrize("mode", [AuthMode.ALL_CARDS, AuthMode.DISABLED])
def test_all_cards_and_free_charging_accept_every_tag_without_card_rules(mode: AuthMode) -> None:
    site = _site(leaf=mode)
    st = site.stations[0]
    for card in (None, Card("A", authorized=False), Card("A", zones=("other",)), Card("A", valid_to=NOW)):
        assert decide(card, st, site, NOW) == "Accepted"
    assert expiry(Card("A", valid_to=datetime(2027, 1, 1, tzinfo=UTC)), st, site) is None


def test_expiry_is_sent_under_known_cards_in_site_time() -> None:
    site = _site()
    card = Card("A", valid_to=datetime(2026, 6, 1, 0, 0))  # noqa: DTZ001 - site-local
    assert expiry(card, site.stations[0], site) == datetime(2026, 5, 31, 22, 0, tzinfo=UTC)


def test_offline_keys_table() -> None:
    assert set(OFFLINE_KEYS) == set(DisconnectedAuth)
    for keys in OFFLINE_KEYS.values():
        assert keys["LocalPreAuthorize"] is False  # online the station always asks the box
    accept, reject, cache = (OFFLINE_KEYS[m] for m in DisconnectedAuth)
    assert accept["AllowOfflineTxForUnknownId"] and not accept["AuthorizationCacheEnabled"]
    assert not accept["StopTransactionOnInvalidId"]
    assert not any(v for k, v in reject.items() if k != "StopTransactionOnInvalidId")
    assert cache["AuthorizationCacheEnabled"] and cache["LocalAuthListEnabled"] and cache["LocalAuthorizeOffline"]
    assert not cache["AllowOfflineTxForUnknownId"]
    assert [uses_local_list(m) for m in DisconnectedAuth] == [False, False, True]
    assert [uses_cache(m) for m in DisconnectedAuth] == [False, False, True]


def test_offline_list_holds_used_cards_still_accepted_here() -> None:
    site = _site()
    st = site.stations[0]
    cards = [
        Card("USED"),
        Card("NEVER"),  # never used here: not listed
        Card("BLOCKED", authorized=False),
        Card("GONE", valid_to=datetime(2026, 1, 1, tzinfo=UTC)),
        Card("ELSEWHERE", zones=("other",)),
        Card("SOON", valid_to=datetime(2026, 4, 1, tzinfo=UTC)),
    ]
    used = ["used", "BLOCKED", "GONE", "ELSEWHERE", "SOON", "STRANGER"]  # case-insensitive
    assert offline_list(cards, used, st, site, NOW) == {"USED": None, "SOON": datetime(2026, 4, 1, tzinfo=UTC)}
    # Under all_cards every tag used here is listed, without expiry.
    open_site = _site(leaf=AuthMode.ALL_CARDS)
    listed = offline_list(cards, used, open_site.stations[0], open_site, NOW)
    assert listed == dict.fromkeys(["BLOCKED", "ELSEWHERE", "GONE", "SOON", "STRANGER", "USED"])
