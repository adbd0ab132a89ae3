"""Card authorization for Authorize / StartTransaction / StopTransaction.

The decision is `edgectl.core.authorization.decide` (pure): the station's
authorization mode (its own, else inherited from its zones, default
known_cards), then for known_cards the card rules (authorized, validity
window, allowed zones). This module only shapes the OCPP `idTagInfo`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgectl.adapters.ocpp.validation import format_timestamp
from edgectl.core.authorization import decide, expiry
from edgectl.core.site import Card, Site, Station


def status_for(card: Card | None, station: Station | None, site: Site, now: datetime) -> str:
    return decide(card, station, site, now)


def id_tag_info(card: Card | None, station: Station | None, site: Site, now: datetime) -> dict[str, Any]:
    info: dict[str, Any] = {"status": status_for(card, station, site, now)}
    until = expiry(card, station, site)
    if until is not None and info["status"] == "Accepted":
        # Lets the station's cache forget the card on time.
        info["expiryDate"] = format_timestamp(until)
    return info
