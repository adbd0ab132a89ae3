"""Conformance through an independent peer: the `ocpp` library's ChargePoint as
the station, talking to our central system over real websockets."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import Action, ConfigurationStatus, RegistrationStatus
from ocpp_support import RecordingObserver, eventually, ts
from websockets.asyncio.client import connect

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import Store


class Station(ChargePoint):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changed: dict[str, str] = {}

    @on(Action.change_configuration)  # type: ignore[untyped-decorator]
    def on_change_configuration(self, key: str, value: str) -> Any:
        from ocpp.v16 import call_result

        self.changed[key] = value
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @on(Action.get_configuration)  # type: ignore[untyped-decorator]
    def on_get_configuration(self, **kwargs: Any) -> Any:
        from ocpp.v16 import call_result

        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        )


async def test_library_station_full_session(server: OcppServer, store: Store, observer: RecordingObserver) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/ocpp/CP1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = Station("CP1", ws)
        runner = asyncio.create_task(cp.start())
        try:
            boot = await cp.call(call.BootNotification(charge_point_model="EVlink", charge_point_vendor="Schneider"))
            assert boot.status == RegistrationStatus.accepted
            assert boot.interval == 300
            await eventually(lambda: "CP1" in server.connected())
            assert cp.changed["MeterValueSampleInterval"] == "10"
            result = await server.call("CP1", "GetConfiguration", {})
            assert result["configurationKey"][0]["key"] == "HeartbeatInterval"
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            auth = await cp.call(call.Authorize(id_tag="GOOD"))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await cp.call(call.StartTransaction(connector_id=1, id_tag="GOOD", meter_start=0, timestamp=ts()))
            tx = start.transaction_id
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=tx,
                    meter_value=[
                        {
                            "timestamp": ts(1),
                            "sampledValue": [
                                {"value": "250", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                {"value": "16.0", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                            ],
                        }
                    ],
                )
            )
            await cp.call(call.StopTransaction(meter_stop=300, timestamp=ts(2), transaction_id=tx, reason="Local"))
            await cp.call(call.Heartbeat())
            session = await store.sessions.get(tx)
            assert session is not None and session.energy_wh == 300 and not session.is_open
            assert [n for n, _ in observer.calls] == [
                "station_connected",
                "connector_status",
                "transaction_started",
                "meter_values",
                "transaction_stopped",
            ]
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
