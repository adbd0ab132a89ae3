# mypy: disable-error-code="untyped-decorator"
"""The ocpp-library face of a simulated station: translate, never decide.

Rules:
- `@on` handlers turn a request into a `cmd_*` call on the station and its
  answer into a call_result; they never call the central system (the
  library's reader is blocked while a handler runs: deadlock, ocpp #130).
- Consequences that send messages run from `@after` hooks as plain
  functions that queue work on the station (tasks the station owns), so the
  answer is on the wire first and no task is left unowned.
- Schema validation is skipped both ways: the library runs it in a thread
  pool (~2 ms a message, racy, ocpp #705) and profiles.py validates what the
  station relies on; a bad payload still gets a CALLERROR from the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

if TYPE_CHECKING:
    from simulators.station.station import SimStation


class StationCP(ChargePoint):  # type: ignore[misc]  # ocpp ships no type hints
    def __init__(self, identity: str, connection: Any, station: SimStation, response_timeout: float = 10) -> None:
        super().__init__(identity, connection, response_timeout=response_timeout)
        self.st = station
        self._pending_remote: tuple[int, str, Any] | None = None
        self._pending_stop: int | None = None

    async def route_message(self, raw_msg: str) -> None:
        # The "mute" switch (SimStation.mute_calls, for timeout tests): the
        # station still sends, but CALLs from the central system get no answer.
        if self.st.mute_calls and raw_msg.lstrip().startswith("[2"):
            return
        await super().route_message(raw_msg)

    # -- smart charging -----------------------------------------------------
    @on(Action.set_charging_profile, skip_schema_validation=True)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any) -> Any:
        status = self.st.commands.cmd_set_charging_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile, skip_schema_validation=True)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        status = self.st.commands.cmd_clear_charging_profile(id, connector_id, charging_profile_purpose, stack_level)
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule, skip_schema_validation=True)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        return call_result.GetCompositeSchedule(
            **self.st.commands.cmd_get_composite_schedule(connector_id, duration, charging_rate_unit)
        )

    # -- core -------------------------------------------------------------------
    @on(Action.remote_start_transaction, skip_schema_validation=True)
    def on_remote_start(
        self, id_tag: str, connector_id: int | None = None, charging_profile: Any = None, **_: Any
    ) -> Any:
        cid = self.st.commands.cmd_remote_start(id_tag, connector_id, charging_profile)
        self._pending_remote = None if cid is None else (cid, id_tag, charging_profile)
        return call_result.RemoteStartTransaction(status="Rejected" if cid is None else "Accepted")

    @after(Action.remote_start_transaction)
    def after_remote_start(self, **_: Any) -> None:
        if self._pending_remote is not None:
            self.st.commands.after_remote_start(*self._pending_remote)
            self._pending_remote = None

    @on(Action.remote_stop_transaction, skip_schema_validation=True)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        self._pending_stop = self.st.commands.cmd_remote_stop(transaction_id)
        return call_result.RemoteStopTransaction(status="Rejected" if self._pending_stop is None else "Accepted")

    @after(Action.remote_stop_transaction)
    def after_remote_stop(self, **_: Any) -> None:
        if self._pending_stop is not None:
            self.st._end_transaction(self.st.connectors[self._pending_stop], "Remote")
            self._pending_stop = None

    @on(Action.reset, skip_schema_validation=True)
    def on_reset(self, type: str, **_: Any) -> Any:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self.st.commands.cmd_reset(type)

    @on(Action.unlock_connector, skip_schema_validation=True)
    def on_unlock(self, connector_id: int, **_: Any) -> Any:
        return call_result.UnlockConnector(status=self.st.commands.cmd_unlock(connector_id))

    @on(Action.change_availability, skip_schema_validation=True)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        return call_result.ChangeAvailability(status=self.st.commands.cmd_change_availability(connector_id, type))

    @on(Action.change_configuration, skip_schema_validation=True)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return call_result.ChangeConfiguration(status=self.st.config.change(key, value))

    @on(Action.get_configuration, skip_schema_validation=True)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known, unknown = self.st.config.listing(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.clear_cache, skip_schema_validation=True)
    def on_clear_cache(self, **_: Any) -> Any:
        self.st.auth_cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer, skip_schema_validation=True)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status="UnknownVendorId")

    # -- local list, reservations ---------------------------------------------
    @on(Action.send_local_list, skip_schema_validation=True)
    def on_send_local_list(
        self, list_version: int, update_type: str, local_authorization_list: list[Any] | None = None, **_: Any
    ) -> Any:
        status = self.st.commands.cmd_send_local_list(list_version, update_type, local_authorization_list or [])
        return call_result.SendLocalList(status=status)

    @on(Action.get_local_list_version, skip_schema_validation=True)
    def on_get_local_list_version(self, **_: Any) -> Any:
        return call_result.GetLocalListVersion(list_version=self.st.commands.cmd_local_list_version())

    @on(Action.reserve_now, skip_schema_validation=True)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> Any:
        status = self.st.commands.cmd_reserve_now(connector_id, expiry_date, id_tag, reservation_id)
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation, skip_schema_validation=True)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        return call_result.CancelReservation(status=self.st.commands.cmd_cancel_reservation(reservation_id))

    # -- remote trigger, firmware, diagnostics ----------------------------------
    @on(Action.trigger_message, skip_schema_validation=True)
    def on_trigger(self, requested_message: str, connector_id: int | None = None, **_: Any) -> Any:
        return call_result.TriggerMessage(status=self.st.commands.cmd_trigger(requested_message))

    @after(Action.trigger_message)
    def after_trigger(self, requested_message: str, connector_id: int | None = None, **_: Any) -> None:
        self.st.commands.after_trigger(requested_message, connector_id)

    @on(Action.update_firmware, skip_schema_validation=True)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> None:
        self.st.commands.after_update_firmware(retrieve_date, location)

    @on(Action.get_diagnostics, skip_schema_validation=True)
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=f"{self.st.identity}-diagnostics.log")

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        self.st.commands.after_get_diagnostics(location)
