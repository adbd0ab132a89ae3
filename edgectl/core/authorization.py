"""Who may charge where: authorization modes, card rules, offline behaviour (pure).

Rules:
- The authorization mode of a station is its own `auth_mode` when set, else
  the first zone on its path (leaf -> root) that sets one, else
  `known_cards`. A station that is not in the site is `known_cards`.
- `known_cards`: a tag is Accepted only for a card that is authorized,
  inside its validity window and allowed in the station's zone (a card
  listing a zone is allowed in that zone's sub-zones too). Past `valid_to`
  -> `Expired` (the OCPP status that says so); anything else (unknown, not
  approved, not yet valid, wrong zone, station without a zone) -> `Invalid`.
  A naive validity bound is in the site's time zone. Ids compare
  case-insensitively.
- `all_cards` and `disabled` (RFID reader disabled, free charging): every
  tag is Accepted (the card rules do not apply, so no `expiryDate` either).
- What a station does while it cannot reach the box is the table
  `OFFLINE_KEYS` (standard OCPP 1.6 configuration keys per
  `DisconnectedAuth`); only `use_cache` uses the local authorization list,
  which then holds the cards already used on that station that are still
  Accepted there (`offline_list`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edgectl.core.site import AuthMode, Card, DisconnectedAuth, Site, Station

# Configuration keys pushed to every station, per disconnected behaviour.
# Why each value:
# - accept_all: no list and no cache, so every tag is "unknown" offline and
#   AllowOfflineTxForUnknownId lets it charge (a cached Invalid entry would
#   otherwise refuse it); StopTransactionOnInvalidId off so a charge that
#   started offline is not cut when the box answers its StartTransaction.
# - reject_all: everything that could authorize offline is off.
# - use_cache: the cache (cards the station saw accepted) plus the local list
#   (cards already used on that station, pushed by the box) authorize offline;
#   unknown tags are refused.
# LocalPreAuthorize is off in every mode: online, the station always asks the
# box, so a card change applies at once and every swipe is recorded.
OFFLINE_KEYS: Mapping[DisconnectedAuth, Mapping[str, bool]] = {
    DisconnectedAuth.ACCEPT_ALL: {
        "LocalAuthorizeOffline": True,
        "AllowOfflineTxForUnknownId": True,
        "AuthorizationCacheEnabled": False,
        "LocalAuthListEnabled": False,
        "LocalPreAuthorize": False,
        "StopTransactionOnInvalidId": False,
    },
    DisconnectedAuth.REJECT_ALL: {
        "LocalAuthorizeOffline": False,
        "AllowOfflineTxForUnknownId": False,
        "AuthorizationCacheEnabled": False,
        "LocalAuthListEnabled": False,
        "LocalPreAuthorize": False,
        "StopTransactionOnInvalidId": True,
    },
    DisconnectedAuth.USE_CACHE: {
        "LocalAuthorizeOffline": True,
        "AllowOfflineTxForUnknownId": False,
        "AuthorizationCacheEnabled": True,
        "LocalAuthListEnabled": True,
        "LocalPreAuthorize": False,
        "StopTransactionOnInvalidId": True,
    },
}


def uses_local_list(mode: DisconnectedAuth) -> bool:
    return OFFLINE_KEYS[mode]["LocalAuthListEnabled"]


def uses_cache(mode: DisconnectedAuth) -> bool:
    return OFFLINE_KEYS[mode]["AuthorizationCacheEnabled"]


def effective_auth_mode(site: Site, station: Station | None) -> AuthMode:
    if station is None:
        return AuthMode.KNOWN_CARDS
    if station.auth_mode is not None:
        return station.auth_mode
    by_id = {z.id: z for z in site.zones}
    try:
        path = site.zone_path(station.zone)
    except KeyError:
        return AuthMode.KNOWN_CARDS
    for zone_id in path:
        mode = by_id[zone_id].auth_mode
        if mode is not None:
            return mode
    return AuthMode.KNOWN_CARDS


def site_zone(site: Site) -> tzinfo:
    try:
        return ZoneInfo(site.settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def aware(at: datetime, site: Site) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=site_zone(site))


def card_status(card: Card | None, station: Station | None, site: Site, now: datetime) -> str:
    """The `known_cards` rule: Accepted, Expired or Invalid."""
    if card is None or not card.authorized:
        return "Invalid"
    if card.valid_to is not None and now >= aware(card.valid_to, site):
        return "Expired"
    if card.valid_from is not None and now < aware(card.valid_from, site):
        return "Invalid"
    if card.zones is not None:
        if station is None:
            return "Invalid"
        try:
            path = site.zone_path(station.zone)
        except KeyError:
            return "Invalid"
        if not set(path) & set(card.zones):
            return "Invalid"
    return "Accepted"


def decide(card: Card | None, station: Station | None, site: Site, now: datetime) -> str:
    """The OCPP idTagInfo status for a tag at a station under its mode."""
    if effective_auth_mode(site, station) is not AuthMode.KNOWN_CARDS:
        return "Accepted"
    return card_status(card, station, site, now)


def expiry(card: Card | None, station: Station | None, site: Site) -> datetime | None:
    """The `expiryDate` to send with an Accepted tag (known_cards only)."""
    if card is None or card.valid_to is None or effective_auth_mode(site, station) is not AuthMode.KNOWN_CARDS:
        return None
    return aware(card.valid_to, site)


def offline_list(
    cards: Iterable[Card], used_tags: Iterable[str], station: Station, site: Site, now: datetime
) -> dict[str, datetime | None]:
    """The local list of a `use_cache` station: id tag -> expiry (or None).

    Cards already used on the station (`used_tags`, any case) that are
    Accepted there now. A tag used but not a card (possible under
    all_cards/disabled) is listed as a card with default rules.
    """
    used = {t.upper(): t for t in used_tags}
    by_tag = {c.id_tag.upper(): c for c in cards}
    out: dict[str, datetime | None] = {}
    for folded in sorted(used):
        card = by_tag.get(folded)
        if decide(card, station, site, now) != "Accepted":
            continue
        out[card.id_tag if card is not None else used[folded]] = expiry(card, station, site)
    return out
