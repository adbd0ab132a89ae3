"""Free charging (authorization mode `disabled`, RFID reader disabled): plug in and charge.

Rules:
- When a connector of a station whose effective mode is `disabled` reports
  `Preparing` (a car is plugged, no transaction yet), the box starts the
  transaction itself: RemoteStartTransaction on that connector with the
  site's free-charging id tag (`OcppConfig.free_charging_id_tag`, default
  "FREE-CHARGING"). Under `disabled` every tag is Accepted, so the station's
  Authorize / StartTransaction for it go through (and the session is
  recorded under that tag).
- Never from inside the StatusNotification handler (the station answers our
  CALL on the same socket, ocpp #130): the handler only schedules a task
  owned by the connection.
- Nothing is sent when the store already has an open session on that
  connector (the driver swiped a card, or the station has a free mode of its
  own and started by itself). `Finishing` (charge over, car still plugged)
  does not restart a charge.
- The answer is logged; Rejected, CALLERROR or timeout are also recorded in
  the event log. No retry: the next Preparing (re-plug) tries again.
"""

from __future__ import annotations

import structlog

from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.store import Event, EventType
from edgectl.core.authorization import effective_auth_mode
from edgectl.core.site import AuthMode
from edgectl.ports import CallRejectedError, CallTimeoutError, StationNotConnectedError

log = structlog.get_logger(__name__)

DEFAULT_FREE_CHARGING_ID_TAG = "FREE-CHARGING"


def free_charging_tag(deps: Deps) -> str:
    return deps.config.free_charging_id_tag or DEFAULT_FREE_CHARGING_ID_TAG


def on_status(deps: Deps, conn: StationConnection, connector_id: int, status: str) -> None:
    """Called by the StatusNotification handler (after the store write); never blocks."""
    if status != "Preparing" or connector_id == 0:
        return
    station = deps.station(conn.station_id)
    if station is None or effective_auth_mode(deps.site(), station) is not AuthMode.DISABLED:
        return
    conn.spawn(f"ocpp.free_charging:{conn.station_id}:{connector_id}", _start(deps, conn, connector_id))


async def _start(deps: Deps, conn: StationConnection, connector_id: int) -> None:
    sid = conn.station_id
    if any(s.connector_id == connector_id for s in await deps.store.sessions.open_sessions(sid)):
        return
    tag = free_charging_tag(deps)
    payload = {"connectorId": connector_id, "idTag": tag}
    error: str | None = None
    try:
        result = await conn.call("RemoteStartTransaction", payload, deps.config.call_timeout_s)
    except StationNotConnectedError:
        return
    except (CallTimeoutError, CallRejectedError) as exc:
        status, error = "Error", str(exc)
    else:
        status = str(result.get("status", "Rejected"))
    if status == "Accepted":
        log.info("free_charging.started", station_id=sid, connector_id=connector_id, id_tag=tag)
        return
    log.warning("free_charging.refused", station_id=sid, connector_id=connector_id, status=status, error=error)
    await deps.store.events.append(
        Event(
            EventType.TRANSACTION,
            "free charging: the station refused to start the transaction",
            source=sid,
            details={"connector_id": connector_id, "status": status, "error": error},
        )
    )
