"""Every remote command against a simulated station on loopback: success,
rejection (or not connected), timeout (the station muted), bad parameters,
and the event log entry with who asked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from edgectl.adapters.store import EventQuery
from edgectl.ports import CommandError
from simulators.station import Car

from .conftest import Bench, eventually, eventually_async


async def run(bench: Bench, command: str, params: dict[str, Any] | None = None, actor: str = "alice") -> Any:
    return await bench.service.execute("S1", command, params or {}, actor)


async def start_session(bench: Bench, connector: int = 1, tag: str = "TAG1") -> int:
    bench.station.plug_in(connector, Car(phases=3, max_current_a=16.0, response_delay_s=0.1), tag)
    await eventually(lambda: bench.station.connectors[connector].tx is not None
                     and bench.station.connectors[connector].tx.transaction_id is not None, what="transaction")
    tx = bench.station.connectors[connector].tx
    assert tx is not None and tx.transaction_id is not None
    return int(tx.transaction_id)


# --- success and rejection, command by command -------------------------------------


async def test_remote_start_accepted_then_rejected_on_a_busy_connector(bench: Bench) -> None:
    bench.station.plug_in(1, Car(phases=3, max_current_a=16.0, response_delay_s=0.1))
    result = await run(bench, "remote_start", {"connector": 1, "id_tag": "TAG1"})
    assert result.status == "Accepted"
    await eventually(lambda: bench.station.connectors[1].tx is not None, what="remote start")
    again = await run(bench, "remote_start", {"connector": 1, "id_tag": "TAG2"})
    assert again.status == "Rejected"


async def test_remote_stop_accepted_and_unknown_transaction_rejected(bench: Bench) -> None:
    tx = await start_session(bench)
    assert (await run(bench, "remote_stop", {"transaction_id": tx})).status == "Accepted"
    await eventually(lambda: bench.station.connectors[1].tx is None, what="remote stop")
    assert (await run(bench, "remote_stop", {"transaction_id": 999_999})).status == "Rejected"


async def test_soft_reset_resumes_charging_and_hard_reset_stops_it(bench: Bench) -> None:
    await start_session(bench)
    assert (await run(bench, "soft_reset")).status == "Accepted"
    await eventually(lambda: not bench.station.online, what="soft reboot")
    await bench.station.wait_ready(10)
    await eventually(lambda: bench.station.connectors[1].tx is not None, what="charging resumed")
    await eventually(lambda: "S1" in bench.server.connected(), what="S1 set up again")
    # Right after a reboot the old connection may still be retiring: an
    # operator's first command can get NotConnected; the next one lands.
    for _ in range(20):
        status = (await run(bench, "hard_reset")).status
        if status != "NotConnected":
            break
        await asyncio.sleep(0.25)
    assert status == "Accepted"
    await eventually(lambda: not bench.station.online, what="hard reboot")
    await bench.station.wait_ready(10)
    assert bench.station.connectors[1].tx is None  # a hard reset does not resume


async def test_unlock_and_unknown_connector(bench: Bench) -> None:
    assert (await run(bench, "unlock", {"connector": 1})).status == "Unlocked"
    assert (await run(bench, "unlock", {"connector": 9})).status == "NotSupported"


async def test_availability_of_station_and_connector(bench: Bench) -> None:
    assert (await run(bench, "set_unavailable", {"connector": 2})).status == "Accepted"
    assert not bench.station.connectors[2].operative
    assert (await run(bench, "set_available", {"connector": 2})).status == "Accepted"
    assert bench.station.connectors[2].operative
    assert (await run(bench, "set_unavailable")).status == "Accepted"  # connector 0: the station
    assert not bench.station.station_operative
    assert (await run(bench, "set_available")).status == "Accepted"
    assert (await run(bench, "set_unavailable", {"connector": 9})).status == "Rejected"


async def test_clear_cache(bench: Bench) -> None:
    bench.station.auth_cache["X"] = "Accepted"
    assert (await run(bench, "clear_cache")).status == "Accepted"
    assert not bench.station.auth_cache


async def test_get_configuration_marks_read_only_keys(bench: Bench) -> None:
    result = await run(bench, "get_configuration", {"keys": ["NumberOfConnectors", "HeartbeatInterval", "Nope"]})
    assert result.status == "Accepted"
    keys = {k["key"]: k for k in result.payload["keys"]}
    assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "value": "2", "readonly": True}
    assert keys["HeartbeatInterval"]["readonly"] is False
    assert result.payload["unknownKey"] == ["Nope"]
    everything = await run(bench, "get_configuration")
    assert len(everything.payload["keys"]) > 10


async def test_change_configuration_answers(bench: Bench) -> None:
    ok = await run(bench, "change_configuration", {"key": "MeterValueSampleInterval", "value": "30"})
    assert ok.status == "Accepted" and bench.station.config.get("MeterValueSampleInterval") == "30"
    assert (await run(bench, "change_configuration", {"key": "NumberOfConnectors", "value": "5"})).status == "Rejected"
    assert (await run(bench, "change_configuration", {"key": "NoSuchKey", "value": "1"})).status == "NotSupported"


async def test_trigger_message(bench: Bench) -> None:
    before = bench.station.sent.count("Heartbeat")
    assert (await run(bench, "trigger_message", {"message": "Heartbeat"})).status == "Accepted"
    await eventually(lambda: bench.station.sent.count("Heartbeat") > before, what="triggered heartbeat")
    assert (await run(bench, "trigger_message", {"message": "StatusNotification", "connector": 1})).status == "Accepted"


async def test_reserve_now_ids_from_the_store_and_cancel(bench: Bench) -> None:
    expiry = (bench.clock.now() + timedelta(minutes=15)).isoformat()
    first = await run(bench, "reserve_now", {"connector": 2, "id_tag": "TAG1", "expiry": expiry})
    assert first.status == "Accepted"
    rid = first.payload["reservationId"]
    assert bench.station.connectors[2].reservation.reservation_id == rid
    refused = await run(bench, "reserve_now", {"connector": 0, "id_tag": "TAG1", "expiry": expiry})
    assert refused.status == "Rejected" and refused.payload["reservationId"] > rid  # never reused
    assert (await run(bench, "cancel_reservation", {"reservation_id": rid})).status == "Accepted"
    assert (await run(bench, "cancel_reservation", {"reservation_id": rid})).status == "Rejected"


async def test_force_stop_closes_the_session_of_an_offline_station(bench: Bench) -> None:
    tx = await start_session(bench)
    await eventually_async(lambda: _open(bench, tx), what="session stored")
    refused = await run(bench, "force_stop", {"transaction_id": tx})
    assert refused.status == "Rejected" and "remote_stop" in (refused.error or "")
    await bench.station.go_offline()
    await eventually(lambda: "S1" not in bench.server.connected(), what="S1 offline")
    result = await run(bench, "force_stop", {"transaction_id": tx}, actor="bob")
    assert result.status == "Accepted"
    session = await bench.store.sessions.get(tx)
    assert session is not None and not session.is_open
    assert session.stop_reason == "ForceStopped" and "bob" in session.comment
    assert session.meter_stop_wh is not None and session.meter_stop_wh >= session.meter_start_wh
    assert bench.force_stopped == [("S1", 1, tx)]
    again = await run(bench, "force_stop", {"transaction_id": tx})
    assert again.status == "Rejected"
    with pytest.raises(CommandError, match="transaction_id"):
        await run(bench, "force_stop", {"transaction_id": 424242})


async def _open(bench: Bench, tx: int) -> bool:
    session = await bench.store.sessions.get(tx)
    return session is not None and session.is_open


async def test_not_connected(bench: Bench) -> None:
    await bench.station.go_offline()
    await eventually(lambda: "S1" not in bench.server.connected(), what="S1 offline")
    for command in ("soft_reset", "clear_cache", "get_diagnostics"):
        result = await run(bench, command)
        assert result.status == "NotConnected", command
    assert (await run(bench, "update_firmware", {"location": "http://127.0.0.1:1/fw.bin"})).status == "NotConnected"


# --- timeouts: the station receives but never answers --------------------------------

TIMEOUT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("remote_start", {"id_tag": "TAG1"}),
    ("remote_stop", {"transaction_id": 1}),
    ("soft_reset", {}),
    ("hard_reset", {}),
    ("unlock", {"connector": 1}),
    ("set_available", {}),
    ("set_unavailable", {"connector": 1}),
    ("clear_cache", {}),
    ("get_configuration", {}),
    ("change_configuration", {"key": "HeartbeatInterval", "value": "60"}),
    ("trigger_message", {"message": "Heartbeat"}),
    ("reserve_now", {"connector": 1, "id_tag": "TAG1", "expiry": "2099-01-01T00:00:00Z"}),
    ("cancel_reservation", {"reservation_id": 1}),
    ("update_firmware", {"location": "http://127.0.0.1:1/fw.bin"}),
    ("get_diagnostics", {}),
]


async def test_every_command_times_out_on_a_mute_station(bench: Bench) -> None:
    bench.service._timeout_s = 0.2  # keep 15 timeouts short
    bench.station.mute_calls = True
    try:
        for command, params in TIMEOUT_CASES:
            result = await run(bench, command, params)
            assert result.status == "Timeout", command
            assert result.error and "no answer" in result.error
    finally:
        bench.station.mute_calls = False
    report = await run(bench, "maintenance_report")  # a report still comes, with the timeout in it
    assert report.status == "Accepted"
    events = await bench.store.events.query(EventQuery(source="S1", text="remote command"))
    timeouts = [e for e in events if e.details.get("status") == "Timeout"]
    assert {e.details["command"] for e in timeouts} == {c for c, _ in TIMEOUT_CASES}


# --- parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "params", "named"),
    [
        ("remote_start", {}, "id_tag"),
        ("remote_start", {"id_tag": "X" * 21}, "id_tag"),
        ("remote_start", {"id_tag": "TAG1", "connector": 0}, "connector"),
        ("remote_start", {"id_tag": "TAG1", "conector": 1}, "conector"),
        ("remote_stop", {"transaction_id": "abc"}, "transaction_id"),
        ("unlock", {}, "connector"),
        ("set_available", {"connector": -1}, "connector"),
        ("change_configuration", {"key": "K"}, "value"),
        ("change_configuration", {"key": "K" * 51, "value": "1"}, "key"),
        ("trigger_message", {"message": "Reboot"}, "message"),
        ("reserve_now", {"connector": 1, "id_tag": "TAG1", "expiry": "tomorrow"}, "expiry"),
        ("reserve_now", {"connector": 1, "id_tag": "TAG1", "expiry": "2001-01-01T00:00:00Z"}, "expiry"),
        ("update_firmware", {}, "file"),
        ("update_firmware", {"file": "../etc/passwd"}, "file"),
        ("update_firmware", {"file": "missing.bin"}, "file"),
        ("update_firmware", {"location": "file:///etc/passwd"}, "location"),
        ("maintenance_report", {"format": "pdf"}, "format"),
        ("reboot", {}, "unknown command"),
    ],
)
async def test_bad_parameters_are_named(bench: Bench, command: str, params: dict[str, Any], named: str) -> None:
    with pytest.raises(CommandError, match=named):
        await run(bench, command, params)


async def test_unknown_station_and_missing_actor(bench: Bench) -> None:
    with pytest.raises(CommandError, match="station_id"):
        await bench.service.execute("NOPE", "clear_cache", {}, "alice")
    with pytest.raises(CommandError, match="actor"):
        await bench.service.execute("S1", "clear_cache", {}, " ")


# --- the event log ------------------------------------------------------------------


async def test_event_log_records_who_asked_what_and_the_outcome(bench: Bench) -> None:
    await run(bench, "unlock", {"connector": 1}, actor="carol")
    with pytest.raises(CommandError):
        await run(bench, "unlock", {"connector": "x"}, actor="dave")
    events = await bench.store.events.query(EventQuery(source="S1", text="remote command"))
    ok, refused = events[1], events[0]
    assert ok.details == {"actor": "carol", "command": "unlock", "params": {"connector": 1}, "status": "Unlocked"}
    assert "carol" in ok.message
    assert refused.details["actor"] == "dave" and refused.details["status"] == "Invalid"
    assert "connector" in refused.details["error"]


# --- firmware, diagnostics, report ------------------------------------------------------


async def test_firmware_update_end_to_end(bench: Bench) -> None:
    image = b"\x7fFIRMWARE" * 1000
    (bench.data_dir / "firmware").mkdir(exist_ok=True)
    (bench.data_dir / "firmware" / "evlink-4.2.bin").write_bytes(image)
    result = await run(bench, "update_firmware", {"file": "evlink-4.2.bin"})
    assert result.status == "Accepted"
    assert result.payload["location"] == f"http://127.0.0.1:{bench.files.port}/firmware/evlink-4.2.bin"
    status = (await bench.store.maintenance.file_status("S1"))["firmware"]
    assert status.status in ("Requested", "Downloading")

    async def installed() -> bool:
        return (await bench.store.maintenance.file_status("S1"))["firmware"].status == "Installed"

    await eventually_async(installed, 30, "firmware Installed")
    assert bench.station.commands.firmware_image == image  # fetched over HTTP from the box
    events = await bench.store.events.query(EventQuery(source="S1", text="firmware status"))
    assert [e.details["firmware"] for e in reversed(events)] == ["Downloading", "Downloaded", "Installing", "Installed"]


async def test_firmware_download_failure_is_tracked(bench: Bench) -> None:
    result = await run(bench, "update_firmware", {"location": f"http://127.0.0.1:{bench.files.port}/firmware/gone.bin"})
    assert result.status == "Accepted"

    async def failed() -> bool:
        return (await bench.store.maintenance.file_status("S1"))["firmware"].status == "DownloadFailed"

    await eventually_async(failed, 20, "DownloadFailed")


async def test_get_diagnostics_uploads_to_the_box(bench: Bench) -> None:
    result = await run(bench, "get_diagnostics")
    assert result.status == "Accepted"
    assert result.payload["fileName"] == "S1-diagnostics.log"
    assert result.payload["location"] == f"http://127.0.0.1:{bench.files.port}/diagnostics/S1/"
    uploaded = bench.data_dir / "diagnostics" / "S1" / "S1-diagnostics.log"

    async def done() -> bool:
        return (await bench.store.maintenance.file_status("S1"))["diagnostics"].status == "Uploaded"

    await eventually_async(done, 20, "diagnostics Uploaded")
    assert uploaded.read_text().startswith("S1 diagnostics")


async def test_maintenance_report(bench: Bench) -> None:
    await start_session(bench)
    report = await run(bench, "maintenance_report")
    assert report.status == "Accepted"
    data = report.payload
    assert data["identity"]["name"] == "Station 1" and data["identity"]["firmware"] == "sim-1.0"
    assert data["identity"]["serial"] == bench.station.serial
    assert data["connected"] is True
    assert any(k["key"] == "NumberOfConnectors" and k["readonly"] for k in data["configuration"]["keys"])
    assert data["recent_events"] and "0" in data["connectors"]
    assert data["recent_sessions"][0]["id_tag"] == "TAG1"
    page = await run(bench, "maintenance_report", {"format": "html"})
    assert page.payload["html"].startswith("<!DOCTYPE html>") and "NumberOfConnectors" in page.payload["html"]
