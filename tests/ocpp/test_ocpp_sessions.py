"""Authorize / StartTransaction / MeterValues / StopTransaction / StatusNotification
and the other station messages: persisted before the answer, idempotent on replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ocpp_support import RawStation, RecordingObserver, SiteHolder, eventually, ts
from websockets.asyncio.client import connect

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import EventQuery, Store, open_store
from edgectl.clock import FakeClock
from edgectl.core.phases import Phases
from edgectl.settings import OcppConfig


@pytest.mark.parametrize(
    ("id_tag", "status"),
    [
        ("GOOD", "Accepted"),
        ("good", "Accepted"),
        ("BLOCKED", "Invalid"),
        ("EXPIRED", "Expired"),
        ("LATER", "Invalid"),
        ("OTHERZONE", "Invalid"),
        ("PARENTZONE", "Accepted"),
        ("STRANGER", "Invalid"),
    ],
)
async def test_authorize(stations: Any, store: Store, id_tag: str, status: str) -> None:
    st: RawStation = await stations("CP1")
    await st.boot()
    result = await st.ok("Authorize", {"idTag": id_tag})
    assert result["idTagInfo"]["status"] == status
    seen = await store.cards.get(id_tag)
    assert seen is not None and seen.last_seen_station == "CP1"
    if id_tag == "STRANGER":
        assert seen.card.authorized is False  # recorded "seen, not authorized"


async def test_transaction_lifecycle(stations: Any, store: Store, observer: RecordingObserver) -> None:
    st: RawStation = await stations("CP1")
    await st.boot()
    start = {"connectorId": 1, "idTag": "GOOD", "meterStart": 10_000, "timestamp": ts()}
    first = await st.ok("StartTransaction", start)
    tx = first["transactionId"]
    # persisted before the answer left: the row is there the moment we read the answer
    session = await store.sessions.get(tx)
    assert session is not None and session.meter_start_wh == 10_000 and session.id_tag == "GOOD"
    assert first["idTagInfo"] == {"status": "Accepted"}

    replay = await st.ok("StartTransaction", start)
    assert replay["transactionId"] == tx
    assert len(await store.sessions.open_sessions("CP1")) == 1

    samples = [
        {"value": "10.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
        {"value": "15.9", "measurand": "Current.Import", "phase": "L1"},
        {"value": "16.1", "measurand": "Current.Import", "phase": "L2"},
        {"value": "16.0", "measurand": "Current.Import", "phase": "L3"},
        {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "16", "measurand": "Current.Offered"},
    ]
    mv = {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(5), "sampledValue": samples}]}
    assert await st.ok("MeterValues", mv) == {}
    assert await st.ok("MeterValues", mv) == {}  # replay: no duplicate sample
    assert len(await store.sessions.samples(tx)) == 1
    args = observer.named("meter_values")[-1]
    assert args == ("CP1", 1, tx, 500.0, Phases(15.9, 16.1, 16.0), 11000.0, None, 16.0)

    stop = {
        "transactionId": tx,
        "meterStop": 12_000,
        "timestamp": ts(10),
        "reason": "EVDisconnected",
        "idTag": "GOOD",
        "transactionData": [{"timestamp": ts(9), "sampledValue": [{"value": "11900"}]}],
    }
    first_stop = await st.ok("StopTransaction", stop)
    again = await st.ok("StopTransaction", stop)
    assert first_stop == again == {"idTagInfo": {"status": "Accepted"}}
    session = await store.sessions.get(tx)
    assert session is not None and session.meter_stop_wh == 12_000 and session.stop_reason == "EVDisconnected"
    assert session.energy_wh == 2000
    assert session.effective_charge_duration_s == 600
    assert len(await store.sessions.samples(tx)) == 2
    assert observer.named("transaction_started") == [("CP1", 1, tx, "GOOD", session.start_at, 10_000.0)] * 2
    assert observer.named("transaction_stopped") == [("CP1", 1, tx)]


async def test_refused_tag_still_gets_a_transaction(stations: Any, store: Store) -> None:
    st: RawStation = await stations("CP1")
    await st.boot()
    result = await st.ok("StartTransaction", {"connectorId": 1, "idTag": "NOPE", "meterStart": 0, "timestamp": ts()})
    assert result["idTagInfo"]["status"] == "Invalid"
    assert await store.sessions.get(result["transactionId"]) is not None


async def test_meter_values_edge_cases(stations: Any, store: Store, observer: RecordingObserver) -> None:
    st: RawStation = await stations("CP2")
    await st.boot()
    # clock-aligned, no transaction; single-phase connector: a phase-less current is L1
    await st.ok(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": ts(),
                    "sampledValue": [{"value": "7", "measurand": "Current.Import", "context": "Sample.Clock"}],
                }
            ],
        },
    )
    assert observer.named("meter_values")[-1][:5] == ("CP2", 1, None, None, Phases(7, 0, 0))
    # 0 Wh meter that never moves
    tx = (await st.ok("StartTransaction", {"connectorId": 2, "idTag": "GOOD", "meterStart": 0, "timestamp": ts()}))[
        "transactionId"
    ]
    await st.ok(
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": tx,
            "meterValue": [
                {"timestamp": ts(1), "sampledValue": [{"value": "0"}, {"value": "8", "measurand": "Current.Import"}]}
            ],
        },
    )
    assert observer.named("meter_values")[-1][:5] == ("CP2", 2, tx, 0.0, Phases(8, 8, 8))
    # unknown transaction: answered, observed without energy, not stored
    await st.ok(
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": 987654,
            "meterValue": [{"timestamp": ts(2), "sampledValue": [{"value": "5"}]}],
        },
    )
    assert observer.named("meter_values")[-1][:4] == ("CP2", 2, 987654, None)
    # stop of an unknown transaction: answered, logged as an event, nothing else
    assert await st.ok("StopTransaction", {"transactionId": 987654, "meterStop": 5, "timestamp": ts(3)}) == {}
    events = await store.events.query(EventQuery(source="CP2"))
    assert any(e.message == "stop of an unknown transaction" for e in events)
    assert observer.named("transaction_stopped") == []


async def test_foreign_transaction_is_not_touched(stations: Any, store: Store) -> None:
    a: RawStation = await stations("CP1")
    b: RawStation = await stations("CP2")
    await a.boot()
    await b.boot()
    tx = (await a.ok("StartTransaction", {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts()}))[
        "transactionId"
    ]
    await b.ok("StopTransaction", {"transactionId": tx, "meterStop": 5, "timestamp": ts(3)})
    session = await store.sessions.get(tx)
    assert session is not None and session.is_open


async def test_status_and_other_messages(stations: Any, store: Store, observer: RecordingObserver) -> None:
    st: RawStation = await stations("CP1")
    await st.boot()
    await st.ok(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "GroundFailure",
            "status": "Faulted",
            "info": "rcd",
            "vendorId": "SE",
            "vendorErrorCode": "E12",
            "timestamp": ts(),
        },
    )
    event = (await store.station_events.query())[0]
    assert (event.station_id, event.connector_id, event.status, event.error_code, event.vendor_error_code) == (
        "CP1",
        1,
        "Faulted",
        "GroundFailure",
        "E12",
    )
    assert observer.named("connector_status") == [("CP1", 1, "Faulted", "GroundFailure")]
    assert await st.ok("DataTransfer", {"vendorId": "com.schneider", "messageId": "x", "data": "{}"}) == {
        "status": "UnknownVendorId"
    }
    assert await st.ok("DiagnosticsStatusNotification", {"status": "Uploaded"}) == {}
    assert await st.ok("FirmwareStatusNotification", {"status": "Installed"}) == {}
    assert await st.ok("Heartbeat", {}) == {"currentTime": "2026-01-05T08:00:00.000Z"}
    messages = {e.message for e in await store.events.query(EventQuery(source="CP1"))}
    assert {"diagnostics status: Uploaded", "firmware status: Installed"} <= messages
    with_reservation = {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts(), "reservationId": 7}
    tx = (await st.ok("StartTransaction", with_reservation))["transactionId"]
    session = await store.sessions.get(tx)
    assert session is not None and session.reservation_id == 7


async def test_transaction_ids_unique_across_store_reopen(tmp_path: Path, site: SiteHolder) -> None:
    path = tmp_path / "edgectl.db"
    ids: list[int] = []
    for restart in range(2):
        clock = FakeClock()
        async with open_store(path, clock) as store:
            srv = OcppServer(OcppConfig(host="127.0.0.1", port=0), store, RecordingObserver(), clock, site)
            async with srv:
                ws = await connect(f"ws://127.0.0.1:{srv.port}/CP2", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
                st = RawStation(ws)
                for n in range(3):
                    payload = {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts(restart * 10 + n)}
                    ids.append((await st.ok("StartTransaction", payload))["transactionId"])
                # the station replays its last start after our restart: same id
                if restart == 1:
                    replay = {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts(2)}
                    assert (await st.ok("StartTransaction", replay))["transactionId"] == ids[2]
                await st.close()
    assert len(set(ids)) == 6
    assert ids == sorted(ids)


async def test_observer_bug_does_not_break_the_station(
    server: OcppServer, stations: Any, observer: RecordingObserver
) -> None:
    def broken(*args: Any) -> None:
        raise ValueError("control loop bug")

    observer.connector_status = broken  # type: ignore[method-assign,assignment]
    st: RawStation = await stations("CP1")
    await st.boot()
    assert await st.ok("StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"}) == {}
    await eventually(lambda: "CP1" in server.connected())
