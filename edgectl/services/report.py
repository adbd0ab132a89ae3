"""The maintenance report of one station: a JSON-able summary, and the same as HTML.

What a technician wants on one page: identity (site entry and what the
station said at boot), connection, firmware/diagnostics status, the
configuration it reports (GetConfiguration, read-only keys marked), the
latest status per connector, recent status events, open alarms and recent
sessions. It reads the store and takes the configuration answer as given;
it never calls the station itself.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from edgectl.adapters.store import FileStatus, StationEventQuery, Store
from edgectl.core.site import Station
from edgectl.ports import CommandResult
from edgectl.services.events import event_dict

RECENT_EVENTS = 30
RECENT_SESSIONS = 10


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


async def build(
    store: Store,
    station_id: str,
    station: Station | None,
    connected: bool,
    configuration: CommandResult | None,
    now: datetime,
) -> dict[str, Any]:
    seen = await store.stations_registry.get(station_id)
    files = await store.maintenance.file_status(station_id)
    latest = await store.station_events.latest_status(station_id)
    events = await store.station_events.query(StationEventQuery(station_id=station_id, limit=RECENT_EVENTS))
    alarms = await store.alarms.active(station_id)
    sessions = await store.sessions.recent(station_id, RECENT_SESSIONS)
    return {
        "station": station_id,
        "generated_at": now.isoformat(),
        "identity": {
            "name": station.name if station else None,
            "model": station.model if station else None,
            "zone": station.zone if station else None,
            "registered": station is not None,
            "vendor": seen.vendor if seen else None,
            "reported_model": seen.model if seen else None,
            "serial": (seen.serial if seen else None) or (station.serial if station else None) or None,
            "firmware": seen.firmware if seen else None,
            "remote_address": seen.remote_address if seen else None,
            "first_seen": _iso(seen.first_seen) if seen else None,
            "last_seen": _iso(seen.last_seen) if seen else None,
        },
        "connected": connected,
        "firmware_status": _file(files.get("firmware")),
        "diagnostics_status": _file(files.get("diagnostics")),
        "configuration": _configuration(configuration),
        "connectors": {str(cid): event_dict(e) for cid, e in sorted(latest.items())},
        "recent_events": [event_dict(e) for e in events],
        "open_alarms": [
            {"id": a.id, "kind": a.kind, "connector": a.connector_id, "code": a.code, "message": a.message,
             "raised_at": _iso(a.raised_at)}
            for a in alarms
        ],
        "recent_sessions": [
            {"transaction_id": s.transaction_id, "connector": s.connector_id, "id_tag": s.id_tag,
             "start": _iso(s.start_at), "stop": _iso(s.stop_at), "energy_wh": s.energy_wh,
             "stop_reason": s.stop_reason}
            for s in sessions
        ],
    }


def _file(status: FileStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"status": status.status, "detail": status.detail, "updated_at": _iso(status.updated_at)}


def _configuration(result: CommandResult | None) -> dict[str, Any]:
    if result is None:
        return {"status": "NotConnected", "keys": []}
    return {"status": result.status, "error": result.error, "keys": result.payload.get("keys", [])}


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (no scripts, everything escaped)."""
    e = html.escape

    def table(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return "<p>none</p>"
        head = "".join(f"<th>{e(str(k))}</th>" for k in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    identity = [{"field": k, "value": v} for k, v in report["identity"].items()]
    status = [
        {"field": "connected", "value": report["connected"]},
        {"field": "firmware", "value": report["firmware_status"]},
        {"field": "diagnostics", "value": report["diagnostics_status"]},
    ]
    config = report["configuration"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Maintenance report {e(report['station'])}</title></head><body>",
        f"<h1>Station {e(report['station'])}</h1><p>generated {e(report['generated_at'])}</p>",
        "<h2>Identity</h2>", table(identity),
        "<h2>State</h2>", table(status),
        f"<h2>Configuration ({e(str(config['status']))})</h2>", table(config["keys"]),
        "<h2>Connectors</h2>", table(list(report["connectors"].values())),
        "<h2>Open alarms</h2>", table(report["open_alarms"]),
        "<h2>Recent status events</h2>", table(report["recent_events"]),
        "<h2>Recent sessions</h2>", table(report["recent_sessions"]),
        "</body></html>",
    ]
    return "\n".join(parts)
