"""What a simulated station does with the central system's requests (mixin).

Each `cmd_*` method decides the answer synchronously and returns it; work
that has to talk to the central system (start a transaction, send a
triggered message, firmware steps) is queued afterwards through `after_*`,
which the handlers call from `@after` hooks, so the answer always leaves
before the consequences.

Rules beyond the obvious:
- SetChargingProfile is Rejected while any of the model's vendor setup keys
  does not hold its required value (EVlink stations refuse external load
  management until it is enabled), or when profiles.py rejects the profile.
- ChangeAvailability(Inoperative) during a transaction answers Scheduled and
  applies when it ends.
- Reset: transactions stop (SoftReset/HardReset), the station reboots and
  boots again; after a soft reset a car still plugged with a known id tag
  resumes charging in a new transaction.
- UnlockConnector ends the transaction (UnlockCommand) and reports Unlocked.
- ReserveNow on connector 0 is Rejected (ReserveConnectorZeroSupported=false).
- Firmware and diagnostics go through their status notifications in
  simulated time. An http(s) location is really used: the firmware is
  downloaded (kept in `firmware_image`; a failure -> DownloadFailed) and a
  small diagnostics file is PUT to `<location>/<identity>-diagnostics.log`
  (a failure -> UploadFailed); other schemes are only pretended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from ocpp.v16 import call

from simulators.station.clock import iso
from simulators.station.connector import Reservation
from simulators.station.profiles import ProfileError, Purpose, parse_datetime, parse_profile, schedule_to_ocpp

if TYPE_CHECKING:
    from simulators.station.station import SimStation

_TRIGGERABLE = {
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
}


class StationCommands:
    def __init__(self, station: SimStation) -> None:
        self.st = station
        self.profile_rejections: list[str] = []  # why profiles were refused (tests, debugging)
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.firmware_image: bytes | None = None  # what the last UpdateFirmware downloaded over HTTP

    # -- smart charging -----------------------------------------------------
    def cmd_set_charging_profile(self, connector_id: int, data: dict[str, Any]) -> str:
        missing = [k for k, v in self.st.model.setup_keys.items() if (self.st.config.get(k) or "").lower() != v.lower()]
        try:
            if missing:
                raise ProfileError(f"external load management disabled ({', '.join(missing)})")
            self.st.profiles.set(connector_id, parse_profile(data), self.st.clock.now())
        except ProfileError as exc:
            self.profile_rejections.append(str(exc))
            return "Rejected"
        return "Accepted"

    def cmd_clear_charging_profile(
        self, id: int | None, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> str:
        found = self.st.profiles.clear(id, connector_id, None if purpose is None else Purpose(purpose), stack_level)
        return "Accepted" if found else "Unknown"

    def cmd_get_composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> dict[str, Any]:
        unit = unit or self.st.model.charging_rate_units[0]
        known = connector_id == 0 or connector_id in self.st.connectors
        if not known or unit not in self.st.model.charging_rate_units:
            return {"status": "Rejected"}
        now = self.st.clock.now().replace(microsecond=0)
        hw = (
            sum(c.max_current_a for c in self.st.connectors.values())
            if connector_id == 0
            else self.st.connectors[connector_id].max_current_a
        )
        schedule = self.st.profiles.composite(connector_id, now, duration, unit, hw)
        return {
            "status": "Accepted",
            "connector_id": connector_id,
            "schedule_start": iso(now),
            "charging_schedule": schedule_to_ocpp(schedule),
        }

    # -- core -------------------------------------------------------------------
    def cmd_remote_start(self, id_tag: str, connector_id: int | None, profile: Any) -> int | None:
        """The connector a remote start will use, or None to reject it."""
        candidates = [connector_id] if connector_id else sorted(self.st.connectors)
        for cid in candidates:
            c = self.st.connectors.get(cid)
            if c is None or c.tx is not None or c.faulted or not c.operative:
                continue
            if c.reservation is not None and c.reservation.id_tag != id_tag:
                continue
            if profile is not None:
                try:
                    p = parse_profile(profile)
                except ProfileError:
                    return None
                if p.purpose is not Purpose.TX:
                    return None
            if connector_id is None and c.ev is None:
                continue
            return cid
        return None

    def after_remote_start(self, connector_id: int, id_tag: str, profile: Any) -> None:
        c = self.st.connectors[connector_id]

        async def start() -> None:
            authorize = self.st.config.bool("AuthorizeRemoteTxRequests")
            if c.ev is None:
                return  # real stations wait for the cable; the driver never came
            await self.st._authorize_and_start(c, id_tag, authorize=authorize)
            if profile is not None and c.tx is not None:
                self.cmd_set_charging_profile(connector_id, profile)

        self.st._spawn(start(), f"remote-start-{connector_id}")

    def cmd_remote_stop(self, transaction_id: int) -> int | None:
        for c in self.st.connectors.values():
            if c.tx is not None and transaction_id in (c.tx.transaction_id, c.tx.local_id):
                return c.id
        return None

    def cmd_reset(self, kind: str) -> None:
        async def reboot() -> None:
            resume = {}
            for c in self.st.connectors.values():
                if c.tx is not None:
                    resume[c.id] = c.tx.id_tag
                    self.st._end_transaction(c, "SoftReset" if kind == "Soft" else "HardReset")
            self.st._need_boot = True
            self.st.booted.clear()
            await self.st.go_offline()
            await self.st.clock.sleep(2)  # the reboot itself
            await self.st.go_online(wait=False)
            if kind == "Soft":
                await self.st.ready.wait()
                for cid, tag in resume.items():
                    c = self.st.connectors[cid]
                    if c.ev is not None and c.tx is None:
                        await self.st._authorize_and_start(c, tag)

        self.st._spawn(reboot(), "reset")

    def cmd_unlock(self, connector_id: int) -> str:
        c = self.st.connectors.get(connector_id)
        if c is None:
            return "NotSupported"
        if c.tx is not None:
            self.st._end_transaction(c, "UnlockCommand")
        return "Unlocked"

    def cmd_change_availability(self, connector_id: int, kind: str) -> str:
        targets = list(self.st.connectors.values()) if connector_id == 0 else [self.st.connectors.get(connector_id)]
        if None in targets:
            return "Rejected"
        operative = kind == "Operative"
        scheduled = False
        if connector_id == 0:
            self.st.station_operative = operative
        for c in targets:
            assert c is not None
            if not operative and c.tx is not None:
                c.pending_inoperative = True
                scheduled = True
            else:
                c.operative = operative
                c.pending_inoperative = False
            self.st._refresh_status(c)
        if connector_id == 0:
            self.st._send_status(0, self.st.status(0))
        return "Scheduled" if scheduled else "Accepted"

    # -- local authorization -------------------------------------------------
    def cmd_send_local_list(self, version: int, update_type: str, entries: list[dict[str, Any]]) -> str:
        if not self.st.model.supports_local_list:
            return "NotSupported"
        if not self.st.config.bool("LocalAuthListEnabled"):
            return "Failed"
        if update_type == "Differential" and version <= self.st.local_list_version:
            return "VersionMismatch"
        if update_type == "Full":
            self.st.local_list.clear()
        for e in entries:
            info = e.get("id_tag_info")
            if info is None:
                self.st.local_list.pop(e["id_tag"], None)
            else:
                self.st.local_list[e["id_tag"]] = info.get("status", "Invalid")
        self.st.local_list_version = version
        return "Accepted"

    def cmd_local_list_version(self) -> int:
        if not self.st.model.supports_local_list or not self.st.config.bool("LocalAuthListEnabled"):
            return -1
        return self.st.local_list_version

    # -- reservations ----------------------------------------------------------
    def cmd_reserve_now(self, connector_id: int, expiry: str, id_tag: str, reservation_id: int) -> str:
        if connector_id == 0 or connector_id not in self.st.connectors:
            return "Rejected"
        c = self.st.connectors[connector_id]
        if c.faulted:
            return "Faulted"
        if not c.operative:
            return "Unavailable"
        if c.reservation is not None and c.reservation.reservation_id == reservation_id:
            pass  # the same reservation id replaces the reservation (§5.13)
        elif c.ev is not None or c.tx is not None or c.reservation is not None:
            return "Occupied"
        c.reservation = Reservation(reservation_id, id_tag, parse_datetime(expiry))
        self.st._refresh_status(c)
        return "Accepted"

    def cmd_cancel_reservation(self, reservation_id: int) -> str:
        for c in self.st.connectors.values():
            if c.reservation is not None and c.reservation.reservation_id == reservation_id:
                c.reservation = None
                self.st._refresh_status(c)
                return "Accepted"
        return "Rejected"

    # -- remote trigger, firmware, diagnostics -----------------------------------
    def cmd_trigger(self, message: str) -> str:
        return "Accepted" if message in _TRIGGERABLE else "NotImplemented"

    def after_trigger(self, message: str, connector_id: int | None) -> None:
        targets = [c for c in self.st.connectors.values() if connector_id in (None, 0, c.id)]
        if message == "BootNotification":
            if self.st._session is not None:
                self.st._spawn(self.st._boot(self.st._session.cp), "boot")
        elif message == "Heartbeat":
            self.st._enqueue(call.Heartbeat, "Heartbeat")
        elif message == "StatusNotification":
            if connector_id in (None, 0):
                self.st._send_status(0, self.st.status(0))
            for c in targets:
                self.st._send_status(c.id, c.status())
        elif message == "MeterValues":
            for c in targets:
                self.st._send_meter_values(c, "Trigger")
        elif message == "FirmwareStatusNotification":
            self._notify_firmware(self.firmware_status)
        elif message == "DiagnosticsStatusNotification":
            self._notify_diagnostics(self.diagnostics_status)

    def _notify_firmware(self, status: str) -> None:
        def build() -> Any:
            return call.FirmwareStatusNotification(status=status)

        self.st._enqueue(build, "FirmwareStatusNotification")

    def _notify_diagnostics(self, status: str) -> None:
        def build() -> Any:
            return call.DiagnosticsStatusNotification(status=status)

        self.st._enqueue(build, "DiagnosticsStatusNotification")

    def after_update_firmware(self, retrieve_date: str, location: str = "") -> None:
        async def run() -> None:
            wait = (parse_datetime(retrieve_date) - self.st.clock.now()).total_seconds()
            await self.st.clock.sleep(max(0.0, wait))
            for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                if status == "Downloaded" and location.startswith(("http://", "https://")):
                    self.firmware_image = await _http("GET", location)
                    if self.firmware_image is None:
                        status = "DownloadFailed"
                self.firmware_status = status
                self._notify_firmware(status)
                await self.st.clock.sleep(5)
                if status == "DownloadFailed":
                    break
            self.firmware_status = "Idle"

        self.st._spawn(run(), "firmware")

    def after_get_diagnostics(self, location: str = "") -> None:
        async def run() -> None:
            for status in ("Uploading", "Uploaded"):
                if status == "Uploaded" and location.startswith(("http://", "https://")):
                    url = f"{location.rstrip('/')}/{self.st.identity}-diagnostics.log"
                    body = f"{self.st.identity} diagnostics\nsent: {', '.join(self.st.sent[-20:])}\n".encode()
                    if await _http("PUT", url, body) is None:
                        status = "UploadFailed"
                self.diagnostics_status = status
                self._notify_diagnostics(status)
                await self.st.clock.sleep(3)
            self.diagnostics_status = "Idle"

        self.st._spawn(run(), "diagnostics")


async def _http(method: str, url: str, body: bytes | None = None) -> bytes | None:
    """The response body of one request, or None when it failed (any reason)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.request(method, url, data=body) as response,
        ):
            return await response.read() if response.status < 300 else None
    except (aiohttp.ClientError, TimeoutError, OSError):
        return None
