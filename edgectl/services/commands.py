"""Remote commands to a station (implements `edgectl.ports.StationCommands`).

Rules:
- parameters are checked per command before anything is sent; a bad or
  unknown one raises `CommandError` naming it (and is recorded);
- the answer is the station's status ("Accepted", "Rejected", "Unlocked",
  ...), or "NotConnected" / "Timeout" / "Error" (a CALLERROR, `error` says
  which) — never an exception once the parameters are good;
- every command is recorded in the event log (type system, source = the
  station) with who asked (`actor`), the parameters and the outcome, and
  logged as `command.executed`;
- force_stop closes a session in the store only: it is for a station that
  cannot be reached, so it is refused while the station is connected (use
  remote_stop); the controller is told through `on_force_stopped` so the
  allocation stops counting the session;
- reservation ids come from the store's sequence; update_firmware serves a
  file of `<data_dir>/firmware/` through the box's file endpoints and
  get_diagnostics points the station at the upload endpoint; the latest
  status of both is kept per station (store.maintenance).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog

from edgectl.adapters.store import Event, EventType, Store
from edgectl.clock import Clock
from edgectl.core.site import Site
from edgectl.ports import (
    CallRejectedError,
    CallTimeoutError,
    CommandError,
    CommandResult,
    StationCalls,
    StationNotConnectedError,
)
from edgectl.services import report
from edgectl.services.params import ID_TAG_MAX, KEY_MAX, TRIGGERABLE, VALUE_MAX, Params, ocpp_time

log = structlog.get_logger(__name__)

ForceStopped = Callable[[str, int, int], None]  # (station, connector, transaction id)
Handler = Callable[[str, Params, str], Awaitable[CommandResult]]
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # as the file endpoints accept


class StationCommandService:
    def __init__(
        self,
        calls: StationCalls,
        store: Store,
        clock: Clock,
        site: Callable[[], Site],
        *,
        firmware_dir: Path,
        file_base_url: Callable[[str], str | None],
        on_force_stopped: ForceStopped | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self._calls = calls
        self._store = store
        self._clock = clock
        self._site = site
        self._firmware_dir = firmware_dir
        self._file_base_url = file_base_url  # station -> "http://host:port" it can reach, or None
        self._on_force_stopped = on_force_stopped
        self._timeout_s = timeout_s
        self._handlers: dict[str, Handler] = {
            "remote_start": self._remote_start,
            "remote_stop": self._simple(
                "RemoteStopTransaction", lambda p: {"transactionId": p.integer("transaction_id", minimum=1)}
            ),
            "force_stop": self._force_stop,
            "soft_reset": self._simple("Reset", lambda p: {"type": "Soft"}),
            "hard_reset": self._simple("Reset", lambda p: {"type": "Hard"}),
            "unlock": self._simple("UnlockConnector", lambda p: {"connectorId": p.integer("connector", minimum=1)}),
            "set_available": self._availability("Operative"),
            "set_unavailable": self._availability("Inoperative"),
            "clear_cache": self._simple("ClearCache", lambda p: {}),
            "get_configuration": self._get_configuration,
            "change_configuration": self._simple(
                "ChangeConfiguration",
                lambda p: {"key": p.text("key", max_len=KEY_MAX), "value": p.text("value", max_len=VALUE_MAX)},
            ),
            "trigger_message": self._trigger_message,
            "reserve_now": self._reserve_now,
            "cancel_reservation": self._simple(
                "CancelReservation", lambda p: {"reservationId": p.integer("reservation_id", minimum=1)}
            ),
            "update_firmware": self._update_firmware,
            "get_diagnostics": self._get_diagnostics,
            "maintenance_report": self._maintenance_report,
        }

    @property
    def commands(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def execute(self, station_id: str, command: str, params: dict[str, Any], actor: str) -> CommandResult:
        if not isinstance(actor, str) or not actor.strip():
            raise CommandError(f"{command}: who asks (actor) is required")
        handler = self._handlers.get(command)
        try:
            if handler is None:
                raise CommandError(f"unknown command {command!r}; one of {', '.join(sorted(self._handlers))}")
            if station_id not in {s.id for s in self._site().stations} | self._calls.connected():
                raise CommandError(f"{command}: parameter 'station_id' names no known station ({station_id!r})")
            result = await handler(station_id, Params(command, params), actor)
        except CommandError as exc:
            log.info("command.refused", station_id=station_id, command=command, actor=actor, error=str(exc))
            await self._record(station_id, command, params, actor, "Invalid", str(exc))
            raise
        log.info(
            "command.executed", station_id=station_id, command=command, actor=actor,
            status=result.status, error=result.error,
        )
        await self._record(station_id, command, params, actor, result.status, result.error)
        return result

    # --- the station call -----------------------------------------------------------

    async def _call(self, station_id: str, command: str, action: str, payload: dict[str, Any]) -> CommandResult:
        try:
            answer = await self._calls.call(station_id, action, payload, self._timeout_s)
        except StationNotConnectedError:
            return CommandResult(station_id, command, "NotConnected", error="the station is not connected")
        except CallTimeoutError:
            return CommandResult(station_id, command, "Timeout", error=f"no answer to {action} in time")
        except CallRejectedError as exc:
            return CommandResult(station_id, command, "Error", error=f"CALLERROR {exc}")
        # Answers without a status (UpdateFirmware, GetConfiguration ...) mean the station took it.
        return CommandResult(station_id, command, str(answer.get("status", "Accepted")), dict(answer))

    def _simple(self, action: str, build: Callable[[Params], dict[str, Any]]) -> Handler:
        async def handler(station_id: str, p: Params, actor: str) -> CommandResult:
            payload = build(p)
            p.done()
            return await self._call(station_id, p.command, action, payload)

        return handler

    def _availability(self, kind: str) -> Handler:
        # Connector 0 is the whole station.
        return self._simple(
            "ChangeAvailability", lambda p: {"connectorId": p.integer("connector", default=0), "type": kind}
        )

    # --- commands with more to them ---------------------------------------------------

    async def _remote_start(self, station_id: str, p: Params, actor: str) -> CommandResult:
        payload: dict[str, Any] = {"idTag": p.text("id_tag", max_len=ID_TAG_MAX)}
        connector = p.integer("connector", required=False, minimum=1)
        p.done()
        if connector is not None:
            payload["connectorId"] = connector
        return await self._call(station_id, p.command, "RemoteStartTransaction", payload)

    async def _force_stop(self, station_id: str, p: Params, actor: str) -> CommandResult:
        transaction_id = p.integer("transaction_id", minimum=1)
        p.done()
        assert transaction_id is not None
        session = await self._store.sessions.get(transaction_id)
        if session is None or session.station_id != station_id:
            raise CommandError(
                f"force_stop: parameter 'transaction_id' is no session of {station_id} ({transaction_id})"
            )
        if not session.is_open:
            return CommandResult(station_id, p.command, "Rejected", error="the session is already stopped")
        if station_id in self._calls.connected():
            return CommandResult(station_id, p.command, "Rejected", error="the station is connected: use remote_stop")
        # The last register the station reported; none: nothing was measured.
        sample = session.last_sample
        register = sample.energy_wh if sample is not None and sample.energy_wh is not None else session.meter_start_wh
        meter_stop = max(session.meter_start_wh, round(register))
        stopped = await self._store.sessions.stop(
            transaction_id, self._clock.now(), meter_stop, "ForceStopped", comment=f"force stopped by {actor}"
        )
        if self._on_force_stopped is not None:
            self._on_force_stopped(station_id, session.connector_id, transaction_id)
        payload = {"transactionId": transaction_id, "meterStop": meter_stop, "energyWh": stopped.session.energy_wh}
        return CommandResult(station_id, p.command, "Accepted", payload)

    async def _get_configuration(self, station_id: str, p: Params, actor: str) -> CommandResult:
        keys = p.text_list("keys", max_len=KEY_MAX)
        p.done()
        return await self._configuration(station_id, p.command, keys)

    async def _configuration(self, station_id: str, command: str, keys: list[str] | None) -> CommandResult:
        result = await self._call(station_id, command, "GetConfiguration", {"key": keys} if keys else {})
        if not result.payload:
            return result
        # `keys`: one sorted list with the read-only flag always present, for display.
        listing = sorted(
            (
                {"key": k.get("key"), "value": k.get("value"), "readonly": bool(k.get("readonly", False))}
                for k in result.payload.get("configurationKey") or []
                if isinstance(k, dict)
            ),
            key=lambda k: str(k["key"]),
        )
        payload = {**result.payload, "keys": listing, "unknownKey": result.payload.get("unknownKey") or []}
        return CommandResult(station_id, command, result.status, payload)

    async def _trigger_message(self, station_id: str, p: Params, actor: str) -> CommandResult:
        payload: dict[str, Any] = {"requestedMessage": p.choice("message", TRIGGERABLE)}
        connector = p.integer("connector", required=False, minimum=0)
        p.done()
        if connector is not None:
            payload["connectorId"] = connector
        return await self._call(station_id, p.command, "TriggerMessage", payload)

    async def _reserve_now(self, station_id: str, p: Params, actor: str) -> CommandResult:
        connector = p.integer("connector", minimum=0)
        id_tag = p.text("id_tag", max_len=ID_TAG_MAX)
        expiry = p.instant("expiry")
        parent = p.text("parent_id_tag", max_len=ID_TAG_MAX, required=False)
        p.done()
        assert expiry is not None
        if expiry <= self._clock.now():
            raise CommandError("reserve_now: parameter 'expiry' must be in the future")
        reservation_id = await self._store.maintenance.next_reservation_id()
        payload = {"connectorId": connector, "expiryDate": ocpp_time(expiry), "idTag": id_tag,
                   "reservationId": reservation_id}
        if parent is not None:
            payload["parentIdTag"] = parent
        result = await self._call(station_id, p.command, "ReserveNow", payload)
        # The operator needs the id to cancel it.
        return CommandResult(station_id, p.command, result.status, {**result.payload, "reservationId": reservation_id},
                             result.error)

    def _retries(self, p: Params, payload: dict[str, Any]) -> None:
        retries = p.integer("retries", required=False, minimum=0)
        interval = p.integer("retry_interval_s", required=False, minimum=0)
        if retries is not None:
            payload["retries"] = retries
        if interval is not None:
            payload["retryInterval"] = interval

    async def _update_firmware(self, station_id: str, p: Params, actor: str) -> CommandResult:
        name = p.text("file", max_len=128, required=False)
        location = p.url("location", required=False)
        retrieve = p.instant("retrieve_date", required=False) or self._clock.now()
        payload: dict[str, Any] = {"retrieveDate": ocpp_time(retrieve)}
        self._retries(p, payload)
        p.done()
        if (name is None) == (location is None):
            raise CommandError("update_firmware: give exactly one of the parameters 'file' or 'location'")
        if name is not None:
            if not _FILE_NAME.match(name) or ".." in name or not (self._firmware_dir / name).is_file():
                raise CommandError(f"update_firmware: parameter 'file' names no uploaded firmware ({name!r})")
            base = self._file_base_url(station_id)
            if base is None:
                return CommandResult(station_id, p.command, "NotConnected", error="the station is not connected")
            location = f"{base}/firmware/{quote(name)}"
        payload["location"] = location
        result = await self._call(station_id, p.command, "UpdateFirmware", payload)
        if result.status == "Accepted":
            await self._store.maintenance.record_file_status(station_id, "firmware", "Requested", location)
        return CommandResult(station_id, p.command, result.status, {**result.payload, "location": location},
                             result.error)

    async def _get_diagnostics(self, station_id: str, p: Params, actor: str) -> CommandResult:
        payload: dict[str, Any] = {}
        for name, field in (("start_time", "startTime"), ("stop_time", "stopTime")):
            at = p.instant(name, required=False)
            if at is not None:
                payload[field] = ocpp_time(at)
        self._retries(p, payload)
        p.done()
        base = self._file_base_url(station_id)
        if base is None:
            return CommandResult(station_id, p.command, "NotConnected", error="the station is not connected")
        payload["location"] = f"{base}/diagnostics/{quote(station_id, safe='')}/"
        result = await self._call(station_id, p.command, "GetDiagnostics", payload)
        if result.status == "Accepted":
            # No fileName: the station has no diagnostics to send (OCPP 1.6 §6.29).
            status = "Accepted" if result.payload.get("fileName") else "NoFile"
            await self._store.maintenance.record_file_status(
                station_id, "diagnostics", "Requested", result.payload.get("fileName") or payload["location"]
            )
            result = CommandResult(station_id, p.command, status, {**result.payload, "location": payload["location"]})
        return result

    async def _maintenance_report(self, station_id: str, p: Params, actor: str) -> CommandResult:
        fmt = p.choice("format", ("json", "html"), required=False) or "json"
        p.done()
        connected = station_id in self._calls.connected()
        configuration = await self._configuration(station_id, "get_configuration", None) if connected else None
        site_station = next((s for s in self._site().stations if s.id == station_id), None)
        data = await report.build(self._store, station_id, site_station, connected, configuration, self._clock.now())
        payload = {"html": report.render_html(data)} if fmt == "html" else data
        return CommandResult(station_id, p.command, "Accepted", payload)

    # --- the event log ----------------------------------------------------------------

    async def _record(
        self, station_id: str, command: str, params: Any, actor: str, status: str, error: str | None
    ) -> None:
        details = {"actor": actor, "command": command, "params": params, "status": status}
        if error is not None:
            details["error"] = error
        message = f"remote command {command} by {actor}: {status}"
        await self._store.events.append(Event(EventType.SYSTEM, message, source=station_id, details=details))
