"""Post-boot setup: configure an accepted, registered station, then announce it.

Rules:
- Runs in a task owned by the connection, after the Boot answer went out
  (never inside a handler: the station answers our calls on the same socket).
- Applies the `setup_keys` of the model's `[ocpp]` table (ChangeConfiguration
  each, in file order), then the meter-value configuration:
  MeterValueSampleInterval (`meter_value_sample_interval_s`, default 10 s)
  and MeterValuesSampledData (`meter_values_sampled_data`, default energy
  register + per-phase current + offered current + power; if the station
  refuses that list, the minimum the allocator needs: energy + current).
- Accepted: fine. RebootRequired: the value is stored but active only after
  a reboot; logged and recorded, no automatic reboot (it would interrupt
  charging). Rejected / NotSupported / CALLERROR / timeout: logged and
  recorded in the event log; setup goes on with the next key.
- Readiness hook: `observer.station_connected` is called only when setup is
  over (whatever its outcome), so the control loop writes the fallback
  profile to a station that is configured to take it. `StationCalls.connected()`
  lists a station from the same moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.store import Event, EventType
from edgectl.ports import CallRejectedError, CallTimeoutError

log = structlog.get_logger(__name__)

DEFAULT_SAMPLE_INTERVAL_S = 10
SAMPLED_DATA = "Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import"
SAMPLED_DATA_MINIMUM = "Energy.Active.Import.Register,Current.Import"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


async def _record(deps: Deps, station_id: str, message: str, details: Mapping[str, Any]) -> None:
    try:
        await deps.store.events.append(Event(EventType.SYSTEM, message, source=station_id, details=details))
    except Exception:
        log.exception("ocpp.setup_event_not_stored", station_id=station_id)


async def change_configuration(deps: Deps, conn: StationConnection, key: str, value: str) -> str:
    """ChangeConfiguration; returns the status, or "Error" when the call failed."""
    sid = conn.station_id
    try:
        result = await conn.call("ChangeConfiguration", {"key": key, "value": value}, deps.config.call_timeout_s)
    except (CallTimeoutError, CallRejectedError) as exc:
        log.warning("ocpp.setup_key_failed", station_id=sid, key=key, error=str(exc))
        await _record(deps, sid, "configuration key not applied", {"key": key, "value": value, "error": str(exc)})
        return "Error"
    status = str(result.get("status", "Rejected"))
    if status == "Accepted":
        log.info("ocpp.setup_key_applied", station_id=sid, key=key, value=value)
    elif status == "RebootRequired":
        log.warning("ocpp.setup_reboot_required", station_id=sid, key=key, value=value)
        await _record(deps, sid, "configuration key needs a station reboot", {"key": key, "value": value})
    else:
        log.warning("ocpp.setup_key_refused", station_id=sid, key=key, value=value, status=status)
        await _record(deps, sid, "configuration key refused", {"key": key, "value": value, "status": status})
    return status


async def post_boot_setup(deps: Deps, conn: StationConnection) -> None:
    station = deps.station(conn.station_id)
    if station is None:
        return
    table = deps.model_ocpp(station)
    keys = table.get("setup_keys", {})
    if keys and not table.get("setup_keys_verified", True):
        log.info("ocpp.setup_keys_unverified", station_id=station.id, model=station.model, keys=sorted(keys))
    statuses: dict[str, str] = {}
    for key, value in dict(keys).items():
        statuses[key] = await change_configuration(deps, conn, key, _text(value))
    interval = _text(table.get("meter_value_sample_interval_s", DEFAULT_SAMPLE_INTERVAL_S))
    statuses["MeterValueSampleInterval"] = await change_configuration(deps, conn, "MeterValueSampleInterval", interval)
    sampled = _text(table.get("meter_values_sampled_data", SAMPLED_DATA))
    status = await change_configuration(deps, conn, "MeterValuesSampledData", sampled)
    if status in ("Rejected", "NotSupported") and sampled != SAMPLED_DATA_MINIMUM:
        status = await change_configuration(deps, conn, "MeterValuesSampledData", SAMPLED_DATA_MINIMUM)
    statuses["MeterValuesSampledData"] = status
    if conn.retired:
        return
    conn.announced = True
    log.info("station.connected", station_id=station.id, model=station.model, setup=statuses)
    deps.observer.station_connected(station.id)
