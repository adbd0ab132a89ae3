"""Handshake, registration (Pending / Accepted / auto-register), implicit
acceptance on reconnect, post-boot setup, connection replacement."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from ocpp_support import RecordingObserver, SiteHolder, eventually
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from edgectl.adapters.ocpp import OcppServer, identity_from_path
from edgectl.adapters.store import EventQuery, Store
from edgectl.ports import StationNotConnectedError


@pytest.mark.parametrize(
    ("path", "identity"),
    [
        ("/ocpp/CP1", "CP1"),
        ("/CP1", "CP1"),
        ("/ocpp/EVB1%2DA", "EVB1-A"),
        ("/ocpp/CP1?x=1", "CP1"),
        ("/ocpp/" + "A" * 48, "A" * 48),
        ("/ocpp/" + "A" * 49, None),
        ("/ocpp/CP%201", None),
        ("/ocpp/", None),
        ("/", None),
        ("/ocpp/a/b", None),
        ("/ocpp/a%2Fb", None),
    ],
)
def test_identity_from_path(path: str, identity: str | None) -> None:
    assert identity_from_path(path) == identity


async def _status_of(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kwargs):
            pass
    return info.value.response.status_code


async def test_handshake_refusals(server: OcppServer) -> None:
    base = f"ws://127.0.0.1:{server.port}"
    assert await _status_of(base + "/ocpp/CP1") == 400  # no subprotocol offered
    assert await _status_of(base + "/ocpp/CP1", subprotocols=["ocpp2.0.1"]) == 400
    assert await _status_of(base + "/ocpp/CP%201", subprotocols=["ocpp1.6"]) == 400
    assert await _status_of(base + "/ocpp/SECRET", subprotocols=["ocpp1.6"]) == 401
    bad = {"Authorization": "Basic " + base64.b64encode(b"SECRET:nope").decode()}
    assert await _status_of(base + "/ocpp/SECRET", subprotocols=["ocpp1.6"], additional_headers=bad) == 401
    good = {"Authorization": "Basic " + base64.b64encode(b"SECRET:pw").decode()}
    offered: Any = ["ocpp2.0.1", "ocpp1.6"]
    async with connect(base + "/ocpp/SECRET", subprotocols=offered, additional_headers=good) as ws:
        assert ws.subprotocol == "ocpp1.6"


async def test_unknown_station_is_pending_and_detected(
    server: OcppServer, stations: Any, store: Store, observer: RecordingObserver
) -> None:
    st = await stations("NEW1", path="/")
    result = await st.boot(serial="X" * 40)  # too long for the schema: truncated, not refused
    assert result["status"] == "Pending"
    assert result["interval"] == 60
    assert result["currentTime"] == "2026-01-05T08:00:00.000Z"
    detected = await store.stations_registry.get("NEW1")
    assert detected is not None
    assert detected.remote_address == "127.0.0.1"
    assert detected.vendor == "Schneider Electric"
    assert detected.serial == "X" * 25
    reply = await st.call("Heartbeat", {})
    assert reply[:3] == [4, reply[1], "SecurityError"]
    assert await st.ok("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})  # still usable
    assert observer.calls == []
    assert "NEW1" not in server.connected()
    assert "NEW1" in server.online()


async def test_auto_register_accepts_and_records(
    server: OcppServer, stations: Any, store: Store, site: SiteHolder, observer: RecordingObserver
) -> None:
    site.set_auto_register(True)
    st = await stations("NEW2")
    assert (await st.boot())["status"] == "Accepted"
    assert await st.ok("Heartbeat", {})
    assert await store.stations_registry.get("NEW2") is not None
    await asyncio.sleep(0.05)
    assert st.received == []  # no setup: not in the site, no model, no zone
    assert observer.calls == []


async def test_registered_station_accepted_then_set_up(
    server: OcppServer, stations: Any, store: Store, observer: RecordingObserver
) -> None:
    st = await stations("CP1")
    result = await st.boot()
    assert result == {"status": "Accepted", "currentTime": "2026-01-05T08:00:00.000Z", "interval": 300}
    await eventually(lambda: observer.named("station_connected") == [("CP1",)])
    assert server.connected() == frozenset({"CP1"})
    keys = [(a, p["key"], p["value"]) for a, p in st.received]
    assert keys == [
        ("ChangeConfiguration", "LoadBalancerEnabled", "true"),
        ("ChangeConfiguration", "ExternalEnergyManagementEnabled", "true"),
        ("ChangeConfiguration", "MeterValueSampleInterval", "10"),
        (
            "ChangeConfiguration",
            "MeterValuesSampledData",
            "Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import",
        ),
    ]


async def test_setup_failures_are_recorded_and_station_still_announced(
    server: OcppServer, stations: Any, store: Store, observer: RecordingObserver
) -> None:
    async def picky(action: str, payload: dict[str, Any]) -> Any:
        if payload["key"] == "LoadBalancerEnabled":
            return ("error", "NotSupported")
        if payload["key"] == "ExternalEnergyManagementEnabled":
            return {"status": "RebootRequired"}
        if payload["key"] == "MeterValuesSampledData" and "Power" in payload["value"]:
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    st = await stations("CP1", responder=picky)
    await st.boot()
    await eventually(lambda: observer.named("station_connected") == [("CP1",)])
    assert st.received[-1][1] == {
        "key": "MeterValuesSampledData",
        "value": "Energy.Active.Import.Register,Current.Import",
    }
    messages = sorted(e.message for e in await store.events.query(EventQuery(source="CP1")))
    assert messages == [
        "configuration key needs a station reboot",
        "configuration key not applied",
        "configuration key refused",
        "station booted",
    ]


async def test_registered_station_reconnecting_without_boot(
    server: OcppServer, stations: Any, observer: RecordingObserver
) -> None:
    st = await stations("CP2")
    assert "currentTime" in await st.ok("Heartbeat", {})  # no SecurityError: implicitly accepted
    await eventually(lambda: observer.named("station_connected") == [("CP2",)])
    assert [a for a, _ in st.received] == ["ChangeConfiguration"] * 2  # generic model: meter values only


async def test_station_added_to_site_while_connected_gets_set_up(
    server: OcppServer, stations: Any, site: SiteHolder, observer: RecordingObserver
) -> None:
    from dataclasses import replace

    site.set_auto_register(True)
    st = await stations("LATE")
    await st.boot()
    cp2 = site.site.stations[1]
    site.site = replace(site.site, stations=(*site.site.stations, replace(cp2, id="LATE")))
    await st.ok("Heartbeat", {})
    await eventually(lambda: observer.named("station_connected") == [("LATE",)])


async def test_second_connection_replaces_the_first(
    server: OcppServer, stations: Any, observer: RecordingObserver
) -> None:
    first = await stations("CP2")
    await first.boot()
    await eventually(lambda: "CP2" in server.connected())

    async def silent(action: str, payload: dict[str, Any]) -> Any:
        return None

    first.responder = silent
    pending = asyncio.create_task(server.call("CP2", "GetConfiguration", {}, timeout_s=30))
    await eventually(lambda: len(first.received) == 3)

    second = await stations("CP2")
    with pytest.raises(StationNotConnectedError):
        await pending
    await eventually(lambda: first.ws.close_code is not None)
    assert first.ws.close_code == 1000
    assert first.ws.close_reason == "replaced by a new connection"
    assert "CP2" not in server.connected()
    await second.boot()
    await eventually(lambda: len(observer.named("station_connected")) == 2)
    assert [n for n, _ in observer.calls] == ["station_connected", "station_disconnected", "station_connected"]
    assert server.connected() == frozenset({"CP2"})
    assert (await server.call("CP2", "GetConfiguration", {})) == {"configurationKey": []}


async def test_stop_leaves_no_tasks_and_reports_disconnects(
    store: Store, clock: Any, site: SiteHolder, observer: RecordingObserver
) -> None:
    from ocpp_support import RawStation

    from edgectl.settings import OcppConfig

    srv = OcppServer(OcppConfig(host="127.0.0.1", port=0, call_timeout_s=1.0), store, observer, clock, site)
    before = set(asyncio.all_tasks())
    await srv.start()
    ws = await connect(f"ws://127.0.0.1:{srv.port}/ocpp/CP1", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    st = RawStation(ws)
    await st.boot()
    await eventually(lambda: "CP1" in srv.connected())
    await srv.stop()
    await eventually(lambda: ws.close_code is not None)
    await st.close()
    assert observer.named("station_disconnected") == [("CP1",)]
    await asyncio.sleep(0)
    leftover = {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()}
    assert leftover == set()
