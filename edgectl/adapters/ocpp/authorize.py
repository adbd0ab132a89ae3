"""Card authorization for Authorize / StartTransaction / StopTransaction (pure).

Interim rule (until the authorization-modes work replaces this one
function): a tag is Accepted only when it is a known card (site list or
store), authorized, inside its validity window and allowed in the station's
zone -- a card listing a zone is allowed in that zone's sub-zones too.
A card past its `valid_to` is `Expired` (the OCPP status that says so);
everything else (unknown, not approved, not yet valid, wrong zone, station
without a zone) is `Invalid`. A naive validity bound is in the site's time
zone. Ids compare case-insensitively (as the store does).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edgectl.adapters.ocpp.validation import format_timestamp
from edgectl.core.site import Card, Site, Station


def _aware(at: datetime, site: Site) -> datetime:
    if at.tzinfo is not None:
        return at
    try:
        zone: Any = ZoneInfo(site.settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return at.replace(tzinfo=zone)


def status_for(card: Card | None, station: Station | None, site: Site, now: datetime) -> str:
    if card is None or not card.authorized:
        return "Invalid"
    if card.valid_to is not None and now >= _aware(card.valid_to, site):
        return "Expired"
    if card.valid_from is not None and now < _aware(card.valid_from, site):
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


def id_tag_info(card: Card | None, station: Station | None, site: Site, now: datetime) -> dict[str, Any]:
    info: dict[str, Any] = {"status": status_for(card, station, site, now)}
    if card is not None and card.valid_to is not None and info["status"] == "Accepted":
        # Lets the station's cache forget the card on time.
        info["expiryDate"] = format_timestamp(_aware(card.valid_to, site))
    return info
