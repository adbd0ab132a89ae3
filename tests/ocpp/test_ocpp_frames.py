"""Malformed frames and schema violations: the right CALLERROR, and the
connection stays usable after each one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp_support import RawStation, ts

from edgectl.adapters.ocpp import frames
from edgectl.adapters.ocpp.validation import check, lenient
from edgectl.adapters.store import Store

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@pytest.mark.parametrize(
    ("text", "unique_id", "code"),
    [
        ("this is not json", "-1", "FormationViolation"),
        ('{"a": 1}', "-1", "FormationViolation"),
        ("[2]", "-1", "FormationViolation"),
        ('[9, "u9", "Heartbeat", {}]', "u9", "PropertyConstraintViolation"),
        ('["2", "u2", "Heartbeat", {}]', "u2", "FormationViolation"),
        ('[2, 17, "Heartbeat", {}]', "17", "FormationViolation"),
        ('[2, "u3", "Heartbeat"]', "u3", "FormationViolation"),
        ('[2, "u4", "Heartbeat", []]', "u4", "FormationViolation"),
        ('[2, "u5", 5, {}]', "u5", "FormationViolation"),
        ('[2, "u6", "FooBar", {}]', "u6", "NotImplemented"),
        ('[2, "u7", "RemoteStartTransaction", {"idTag": "X"}]', "u7", "NotSupported"),
        (
            '[2, "u8", "StatusNotification", {"connectorId": 1, "status": "Available"}]',
            "u8",
            "OccurenceConstraintViolation",
        ),
        (
            '[2, "u10", "StatusNotification", {"connectorId": "1", "errorCode": "NoError", "status": "Available"}]',
            "u10",
            "TypeConstraintViolation",
        ),
        (
            '[2, "u11", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Weird"}]',
            "u11",
            "PropertyConstraintViolation",
        ),
        (
            '[2, "u12", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",'
            ' "extra": 1}]',
            "u12",
            "FormationViolation",
        ),
        (
            '[2, "u13", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",'
            ' "timestamp": "yesterday"}]',
            "u13",
            "TypeConstraintViolation",
        ),
        ('[2, "u14", "Authorize", {"idTag": "123456789012345678901"}]', "u14", "TypeConstraintViolation"),
        ('[2, "u15", "MeterValues", {"connectorId": 1}]', "u15", "OccurenceConstraintViolation"),
    ],
)
async def test_bad_frame_gets_callerror_and_connection_stays(
    stations: Any, text: str, unique_id: str, code: str
) -> None:
    st: RawStation = await stations("CP2")
    await st.boot()
    await st.send_raw(text)
    reply = await st.answer()
    assert reply[0] == 4
    assert reply[1] == unique_id
    assert reply[2] == code, reply
    assert isinstance(reply[3], str)
    assert isinstance(reply[4], dict)
    assert "currentTime" in await st.ok("Heartbeat", {})


async def test_answers_are_never_answered(stations: Any) -> None:
    st: RawStation = await stations("CP2")
    await st.boot()
    for text in ('[3, "nobody-asked", {}]', '[4, "nobody-asked", "GenericError", "", {}]', "[3, {}, {}]", "[3]"):
        await st.send_raw(text)
    assert "currentTime" in await st.ok("Heartbeat", {})
    await asyncio.sleep(0.05)
    assert st.answers.empty()


async def test_handler_failure_is_internal_error(stations: Any, store: Store, monkeypatch: Any) -> None:
    async def boom(event: Any) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store.station_events, "record", boom)
    st: RawStation = await stations("CP2")
    await st.boot()
    reply = await st.call("StatusNotification", STATUS)
    assert reply[2] == "InternalError"
    assert "currentTime" in await st.ok("Heartbeat", {})


async def test_leniencies(stations: Any, store: Store) -> None:
    st: RawStation = await stations("CP2")
    await st.ok(
        "BootNotification",
        {"chargePointVendor": "Schneider Electric SA Very Long", "chargePointModel": "M", "firmwareVersion": "1" * 60},
    )
    await st.ok("StatusNotification", {**STATUS, "info": "i" * 80, "timestamp": "2026-01-05T08:00:00"})
    events = await store.station_events.query()
    assert events[0].info == "i" * 50
    assert events[0].station_at is not None and events[0].station_at.tzinfo is not None
    # a number instead of a string, an unknown measurand and unit
    start = await st.ok("StartTransaction", {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts()})
    await st.ok(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": start["transactionId"],
            "meterValue": [
                {
                    "timestamp": ts(1),
                    "sampledValue": [{"value": 1500}, {"value": "3", "measurand": "Vendor.Thing", "unit": "furlongs"}],
                }
            ],
        },
    )
    session = await store.sessions.get(start["transactionId"])
    assert session is not None and session.last_sample is not None
    assert session.last_sample.energy_wh == 1500


def test_decode_and_encode_roundtrip() -> None:
    call = frames.decode(frames.encode_call("1", "Heartbeat", {}))
    assert call == frames.Call("1", "Heartbeat", {})
    err = frames.OcppCallError("NotSupported", "x")
    assert json.loads(frames.encode_error("1", err)) == [4, "1", "NotSupported", "x", {}]


def test_check_and_lenient_units() -> None:
    check("Heartbeat", {})
    with pytest.raises(frames.OcppCallError) as info:
        check("Heartbeat", {"x": 1})
    assert info.value.code == "FormationViolation"
    noted: list[tuple[str, dict[str, Any]]] = []
    fixed = lenient(
        "BootNotification",
        {"chargePointVendor": "v" * 30, "chargePointModel": "m"},
        lambda what, d: noted.append((what, d)),
    )
    assert fixed["chargePointVendor"] == "v" * 20
    assert noted[0][0] == "truncated"
    with pytest.raises(frames.OcppCallError):
        check("Authorize", lenient("Authorize", {"idTag": "x" * 21}, lambda *_: None))  # identities stay strict
