"""Authorize, StartTransaction, MeterValues, StopTransaction -> the CDR.

Rules:
- Everything is persisted (store commits to disk) before the answer leaves,
  so a station that lost our answer and replays gets the same result:
  StartTransaction replay -> same transaction id (store-side idempotency on
  station/connector/timestamp/idTag); a sample already stored is ignored;
  a repeated StopTransaction is answered the first one's way and changes
  nothing. The observer is not told twice about a stop.
- Transaction ids come from the store's sequence: unique, never reused.
- A StartTransaction gets a transaction id even when its tag is refused
  (OCPP requires one; the station then stops the transaction itself).
- Every swipe is recorded with `cards.record_seen` (an unknown tag becomes
  "seen, not authorized").
- Meter values for an unknown transaction are answered and passed to the
  observer (energy unknown), not stored; clock-aligned values without a
  transaction go to the observer with transaction_id None. A StopTransaction
  for an unknown transaction, or another station's, is answered and logged,
  and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from edgectl.adapters.ocpp.authorize import id_tag_info, status_for
from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.ocpp.meter import Reading, parse_sampled_values, session_energy_wh
from edgectl.adapters.ocpp.validation import parse_timestamp
from edgectl.adapters.store import Event, EventType, MeterSample, Session

log = structlog.get_logger(__name__)


async def _swipe(deps: Deps, conn: StationConnection, id_tag: str) -> dict[str, Any]:
    site = deps.site()
    now = deps.clock.now()
    stored = await deps.store.cards.record_seen(id_tag, conn.station_id, now)
    card = site.card(id_tag) or stored.card
    info = id_tag_info(card, deps.station(conn.station_id), site, now)
    log.info("card.swiped", station_id=conn.station_id, id_tag=id_tag, status=info["status"])
    return info


async def authorize(deps: Deps, conn: StationConnection, p: dict[str, Any]) -> dict[str, Any]:
    return {"idTagInfo": await _swipe(deps, conn, p["idTag"])}


async def start_transaction(deps: Deps, conn: StationConnection, p: dict[str, Any]) -> dict[str, Any]:
    started_at = parse_timestamp(p["timestamp"])
    info = await _swipe(deps, conn, p["idTag"])
    started = await deps.store.sessions.start(
        conn.station_id,
        p["connectorId"],
        p["idTag"],
        started_at,
        p["meterStart"],
        reservation_id=p.get("reservationId"),
    )
    session = started.session
    log.info(
        "transaction.started",
        station_id=conn.station_id,
        connector_id=session.connector_id,
        transaction_id=session.transaction_id,
        replayed=started.replayed,
        status=info["status"],
    )
    if deps.station(conn.station_id) is not None and session.is_open:
        deps.observer.transaction_started(
            conn.station_id,
            session.connector_id,
            session.transaction_id,
            session.id_tag,
            session.start_at,
            float(session.meter_start_wh),
        )
    return {"transactionId": session.transaction_id, "idTagInfo": info}


def _three_phase(deps: Deps, station_id: str, connector_id: int) -> bool:
    connector = deps.connector(station_id, connector_id)
    return connector is not None and connector.wiring.three_phase


def _note_not_own(conn: StationConnection, transaction_id: int, owner: str | None) -> None:
    if owner is None:
        conn.note("unknown_transaction", {"action": "transaction", "transaction_id": transaction_id})
    else:
        conn.note("foreign_transaction", {"action": "transaction", "transaction_id": transaction_id, "owner": owner})


async def _own_session(deps: Deps, conn: StationConnection, transaction_id: int) -> Session | None:
    session = await deps.store.sessions.get(transaction_id)
    if session is None or session.station_id != conn.station_id:
        _note_not_own(conn, transaction_id, None if session is None else session.station_id)
        return None
    return session


def _readings(meter_values: list[dict[str, Any]], three_phase: bool) -> list[tuple[datetime, Reading]]:
    """The non-empty readings of a meterValue list, oldest first."""
    parsed = sorted(
        (
            (parse_timestamp(mv["timestamp"]), parse_sampled_values(mv["sampledValue"], three_phase))
            for mv in meter_values
        ),
        key=lambda pair: pair[0],
    )
    return [(at, reading) for at, reading in parsed if not reading.empty]


def _sample(at: datetime, reading: Reading) -> MeterSample:
    return MeterSample(at, reading.energy_register_wh, reading.current_a, reading.power_w, reading.soc_percent)


async def meter_values(deps: Deps, conn: StationConnection, p: dict[str, Any]) -> dict[str, Any]:
    connector_id: int = p["connectorId"]
    transaction_id: int | None = p.get("transactionId")
    readings = _readings(p["meterValue"], _three_phase(deps, conn.station_id, connector_id))
    session = None
    if transaction_id is not None:
        # Ownership check and every sample in one store hop (the hot path of a busy site).
        recorded = await deps.store.sessions.record_meter_values(
            conn.station_id, transaction_id, [_sample(at, reading) for at, reading in readings]
        )
        session = recorded.session
        if session is None:
            _note_not_own(conn, transaction_id, recorded.owner)
    latest = readings[-1][1] if readings else None
    if latest is None or deps.station(conn.station_id) is None:
        return {}
    if session is not None and not session.is_open:
        return {}  # a late sample of a finished session: history only
    energy = None if session is None else session_energy_wh(latest.energy_register_wh, session.meter_start_wh)
    deps.observer.meter_values(
        conn.station_id,
        connector_id,
        transaction_id,
        energy,
        latest.current_a,
        latest.power_w,
        latest.soc_percent,
        latest.offered_a,
    )
    return {}


async def stop_transaction(deps: Deps, conn: StationConnection, p: dict[str, Any]) -> dict[str, Any]:
    transaction_id: int = p["transactionId"]
    stopped_at = parse_timestamp(p["timestamp"])
    id_tag: str | None = p.get("idTag")
    answer: dict[str, Any] = {}
    if id_tag is not None:
        site = deps.site()
        card = site.card(id_tag)
        if card is None:
            stored = await deps.store.cards.get(id_tag)
            card = None if stored is None else stored.card
        answer["idTagInfo"] = {"status": status_for(card, deps.station(conn.station_id), site, deps.clock.now())}
    session = await _own_session(deps, conn, transaction_id)
    if session is None:
        await deps.store.events.append(
            Event(
                EventType.TRANSACTION,
                "stop of an unknown transaction",
                source=conn.station_id,
                details={"transaction_id": transaction_id, "meter_stop_wh": p["meterStop"]},
            )
        )
        return answer
    if session.is_open:
        three_phase = _three_phase(deps, conn.station_id, session.connector_id)
        readings = _readings(p.get("transactionData", []), three_phase)
        if readings:  # its own samples, in one store hop
            await deps.store.sessions.record_meter_values(
                conn.station_id, transaction_id, [_sample(at, reading) for at, reading in readings]
            )
    stopped = await deps.store.sessions.stop(
        transaction_id, stopped_at, p["meterStop"], p.get("reason", "Local"), id_tag=id_tag
    )
    log.info(
        "transaction.stopped",
        station_id=conn.station_id,
        transaction_id=transaction_id,
        replayed=stopped.replayed,
        energy_wh=stopped.session.energy_wh,
    )
    if not stopped.replayed and deps.station(conn.station_id) is not None:
        deps.observer.transaction_stopped(conn.station_id, session.connector_id, transaction_id)
    return answer
