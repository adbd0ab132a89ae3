"""Station events (every StatusNotification) as the web layer queries them.

One function, `station_events(store, ...)`: filters by station, connector
(0 = the station itself), status, error code (or any error), time range of
reception, and pages by id, newest first. It returns plain dicts and the
`before_id` of the next page (None on the last page), so a page does not
shift while new notifications arrive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgectl.adapters.store import StationEvent, StationEventQuery, Store

MAX_PAGE = 500


def event_dict(e: StationEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "station": e.station_id,
        "connector": e.connector_id,
        "status": e.status,
        "error_code": e.error_code,
        "info": e.info,
        "vendor_id": e.vendor_id,
        "vendor_error_code": e.vendor_error_code,
        "station_at": None if e.station_at is None else e.station_at.isoformat(),
        "received_at": None if e.received_at is None else e.received_at.isoformat(),
    }


async def station_events(
    store: Store,
    *,
    station: str | None = None,
    connector: int | None = None,
    status: str | None = None,
    error_code: str | None = None,
    errors_only: bool = False,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """{"items": [...], "next_before_id": int | None}; `limit` is capped at MAX_PAGE."""
    limit = max(1, min(limit, MAX_PAGE))
    # One more than asked tells whether there is a next page.
    rows = await store.station_events.query(
        StationEventQuery(
            station_id=station,
            connector_id=connector,
            status=status,
            error_code=error_code,
            errors_only=errors_only,
            received_from=received_from,
            received_to=received_to,
            before_id=before_id,
            limit=limit + 1,
        )
    )
    items = rows[:limit]
    more = len(rows) > limit
    return {"items": [event_dict(e) for e in items], "next_before_id": items[-1].id if more and items else None}
