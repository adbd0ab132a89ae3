"""The central system's answer to every CALL a station sends (OCPP 1.6).

Handlers translate: payload -> store write -> observer -> answer. They
decide nothing about charging and never call the station (ocpp #130);
work that needs the station is asked for with `Reply.start_setup`.

Rules:
- Order per CALL: known action? (unknown -> NotImplemented; an OCPP 1.6
  action a station must not send -> NotSupported) -> registration gate ->
  leniencies -> schema -> handler. A handler bug -> InternalError, logged;
  the connection stays up.
- Registration gate: before the station is accepted only BootNotification is
  handled; anything else -> SecurityError (what OCPP 2.0.1 B02.FR.09 makes
  explicit for a station that is not accepted). Exception: a *registered*
  station (or any, with auto-register) that reconnects without a new
  BootNotification is accepted implicitly on its first message.
- BootNotification: registered (in the site) -> Accepted with the configured
  heartbeat interval; unknown -> Pending (retry in 60 s) and listed as
  detected, or Accepted when `auto_register` is on (recorded, but it only
  gets a zone, setup and control once the installer adds it to the site).
- The observer hears only about registered stations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import structlog

from edgectl.adapters.ocpp import free_charging, transactions
from edgectl.adapters.ocpp.connection import Reply, StationConnection
from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.ocpp.frames import Call, ErrorCode, OcppCallError
from edgectl.adapters.ocpp.validation import check, format_timestamp, is_ocpp16_action, lenient, parse_timestamp
from edgectl.adapters.store import Event, EventType, NotFoundError, StationEvent

log = structlog.get_logger(__name__)

PENDING_INTERVAL_S = 60
Handler = Callable[[StationConnection, dict[str, Any]], Awaitable[Reply]]


class CentralSystem:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._handlers: dict[str, Handler] = {
            "Authorize": self._wrap(transactions.authorize),
            "BootNotification": self.boot_notification,
            "DataTransfer": self.data_transfer,
            "DiagnosticsStatusNotification": self.diagnostics_status,
            "FirmwareStatusNotification": self.firmware_status,
            "Heartbeat": self.heartbeat,
            "MeterValues": self._wrap(transactions.meter_values),
            "StartTransaction": self._wrap(transactions.start_transaction),
            "StatusNotification": self.status_notification,
            "StopTransaction": self._wrap(transactions.stop_transaction),
        }

    def _wrap(self, fn: Callable[[Deps, StationConnection, dict[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
        async def handler(conn: StationConnection, payload: dict[str, Any]) -> Reply:
            return Reply(await fn(self.deps, conn, payload))

        return handler

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def may_accept_implicitly(self, station_id: str) -> bool:
        return self.deps.station(station_id) is not None or self.deps.site().settings.auto_register

    async def dispatch(self, conn: StationConnection, call: Call) -> Reply:
        handler = self._handlers.get(call.action)
        if handler is None:
            code = ErrorCode.NOT_SUPPORTED if is_ocpp16_action(call.action) else ErrorCode.NOT_IMPLEMENTED
            log.info("ocpp.unhandled_action", station_id=conn.station_id, action=call.action, code=code)
            return Reply(error=OcppCallError(code, f"{call.action} is not handled by this central system"))
        if call.action != "BootNotification" and not conn.accepted:
            if not self.may_accept_implicitly(conn.station_id):
                return Reply(
                    error=OcppCallError(ErrorCode.SECURITY_ERROR, "station not accepted: BootNotification first")
                )
            conn.accepted = True
            log.info("station.accepted", station_id=conn.station_id, implicit=True, action=call.action)
        try:
            payload = lenient(call.action, call.payload, conn.note)
            check(call.action, payload)
            reply = await handler(conn, payload)
        except OcppCallError as exc:
            log.info(
                "ocpp.call_refused",
                station_id=conn.station_id,
                action=call.action,
                code=exc.code,
                description=exc.description,
            )
            return Reply(error=exc)
        except Exception:
            log.exception("ocpp.handler_failed", station_id=conn.station_id, action=call.action)
            return Reply(error=OcppCallError(ErrorCode.INTERNAL_ERROR, f"{call.action} could not be processed"))
        # A registered, accepted station that has not been set up yet (implicit
        # accept, or added to the site while connected) gets its setup now.
        if conn.accepted and not conn.announced and self.deps.station(conn.station_id) is not None:
            reply.start_setup = True  # a no-op while a setup task is already running
        return reply

    # --- Core ---------------------------------------------------------------------

    async def boot_notification(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        deps = self.deps
        now = deps.clock.now()
        facts = {
            "vendor": p.get("chargePointVendor"),
            "model": p.get("chargePointModel"),
            "serial": p.get("chargeBoxSerialNumber") or p.get("chargePointSerialNumber"),
            "firmware": p.get("firmwareVersion"),
        }
        try:
            await deps.store.stations_registry.record_boot(conn.station_id, now, **facts)
        except NotFoundError:  # the connect-time `seen` failed or was deleted meanwhile
            await deps.store.stations_registry.seen(conn.station_id, now, conn.remote_address)
            await deps.store.stations_registry.record_boot(conn.station_id, now, **facts)
        registered = deps.station(conn.station_id) is not None
        if registered or deps.site().settings.auto_register:
            conn.accepted = True
            log.info("station.accepted", station_id=conn.station_id, registered=registered, **facts)
            await deps.store.events.append(
                Event(EventType.SYSTEM, "station booted", source=conn.station_id, details=facts)
            )
            return Reply(
                {
                    "status": "Accepted",
                    "currentTime": format_timestamp(now),
                    "interval": deps.config.heartbeat_interval_s,
                },
                start_setup=registered,
            )
        conn.accepted = False
        log.info("station.pending", station_id=conn.station_id, **facts)
        return Reply({"status": "Pending", "currentTime": format_timestamp(now), "interval": PENDING_INTERVAL_S})

    async def heartbeat(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        return Reply({"currentTime": format_timestamp(self.deps.clock.now())})

    async def status_notification(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        station_at = parse_timestamp(p["timestamp"]) if "timestamp" in p else None
        event = StationEvent(
            station_id=conn.station_id,
            connector_id=p["connectorId"],
            status=p["status"],
            error_code=p["errorCode"],
            info=p.get("info"),
            vendor_id=p.get("vendorId"),
            vendor_error_code=p.get("vendorErrorCode"),
            station_at=station_at,
        )
        await self.deps.store.station_events.record(event)
        if self.deps.station(conn.station_id) is not None:
            self.deps.observer.connector_status(conn.station_id, event.connector_id, event.status, event.error_code)
            # Reader disabled: a plugged car gets its transaction started by the box (in a task).
            free_charging.on_status(self.deps, conn, event.connector_id, event.status)
        return Reply({})

    async def data_transfer(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        # No vendor extension is implemented: the spec's answer for that.
        conn.note("data_transfer", {"action": p["vendorId"], "message_id": p.get("messageId")})
        return Reply({"status": "UnknownVendorId"})

    # --- Firmware Management ------------------------------------------------------

    async def diagnostics_status(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        return await self._status_event(conn, "diagnostics", p["status"])

    async def firmware_status(self, conn: StationConnection, p: dict[str, Any]) -> Reply:
        return await self._status_event(conn, "firmware", p["status"])

    async def _status_event(
        self, conn: StationConnection, kind: Literal["firmware", "diagnostics"], status: str
    ) -> Reply:
        log.info("station.status_report", station_id=conn.station_id, kind=kind, status=status)
        # The latest status per station is queryable (remote commands, maintenance report).
        await self.deps.store.maintenance.record_file_status(conn.station_id, kind, status)
        await self.deps.store.events.append(
            Event(EventType.SYSTEM, f"{kind} status: {status}", source=conn.station_id, details={kind: status})
        )
        return Reply({})
