"""End to end: SimStation against a test central system on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from simulators.station import Car, Connector, Fleet, SimClock, SimStation

from .csms import TestCentral

SCALE = 5.0  # simulated seconds per real second


def schedule(limit: float) -> dict[str, Any]:
    return {"charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": limit}]}


def tx_default(limit: float, stack: int = 0, pid: int = 1) -> dict[str, Any]:
    return {
        "charging_profile_id": pid, "stack_level": stack, "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": schedule(limit),
    }


def tx_profile(limit: float, valid_to: str, stack: int = 5, pid: int = 2, tx: int | None = None) -> dict[str, Any]:
    p = {
        "charging_profile_id": pid, "stack_level": stack, "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative", "valid_to": valid_to,
        "charging_schedule": schedule(limit),
    }
    if tx is not None:
        p["transaction_id"] = tx
    return p


async def until(pred: Any, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not pred():  # noqa: ASYNC110  (polling: no event says "the car now draws X")
            await asyncio.sleep(0.01)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(scale=SCALE)


async def make_station(central: TestCentral, clock: SimClock, model: str = "generic_ac", **kw: Any) -> SimStation:
    st = SimStation("CP1", model, [Connector(1, 32, 3), Connector(2, 32, 1)], central.url, clock=clock,
                    tick_s=0.25, meter_interval_s=2, **kw)
    await st.start()
    await st.wait_ready(5)
    return st


async def test_boot_transaction_meter_values_and_profile_expiry(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock)
        try:
            await central.wait_for(lambda: len(central.of("CP1", "StatusNotification")) >= 3)
            assert central.actions("CP1")[0] == "BootNotification"
            boot = central.of("CP1", "BootNotification")[0]
            assert boot["charge_point_vendor"] == "Generic"
            assert {s["connector_id"] for s in central.of("CP1", "StatusNotification")} == {0, 1, 2}

            cs = central.cps["CP1"]
            res = await cs.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=tx_default(6)))
            assert res.status == "Accepted"

            st.plug_in(1, Car(phases=3, max_current_a=32, soc=0.2), id_tag="TAG1")
            await central.wait_for(lambda: central.of("CP1", "StartTransaction"))
            tx_id = central.of("CP1", "StartTransaction")[0]["assigned"]
            await until(lambda: st.drawn_current_a(1) == (6.0, 6.0, 6.0))

            valid_to = clock.now() + timedelta(seconds=3)
            res = await cs.call(call.SetChargingProfile(
                connector_id=1, cs_charging_profiles=tx_profile(10, valid_to.isoformat(), tx=tx_id)))
            assert res.status == "Accepted"
            await until(lambda: st.drawn_current_a(1) == (10.0, 10.0, 10.0))
            assert clock.now() < valid_to + timedelta(seconds=0.5)
            await until(lambda: st.drawn_current_a(1) == (6.0, 6.0, 6.0))
            assert clock.now() >= valid_to  # fell back only after expiry

            await central.wait_for(lambda: any(
                sv.get("phase") == "L3" and float(sv["value"]) > 0
                for mv in central.of("CP1", "MeterValues") for m in mv["meter_value"] for sv in m["sampled_value"]))
            mv = central.of("CP1", "MeterValues")[-1]
            assert mv["transaction_id"] == tx_id
            measurands = {sv.get("measurand") for sv in mv["meter_value"][0]["sampled_value"]}
            assert {"Energy.Active.Import.Register", "Current.Import", "Power.Active.Import",
                    "Current.Offered", "SoC"} <= measurands

            st.unplug(1)
            await central.wait_for(lambda: central.of("CP1", "StopTransaction"))
            stop = central.of("CP1", "StopTransaction")[0]
            assert stop["transaction_id"] == tx_id and stop["reason"] == "EVDisconnected"
            assert stop["meter_stop"] > 0 and stop["transaction_data"]
        finally:
            await st.stop()


async def test_single_phase_car_draws_on_l1_only(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock)
        try:
            st.plug_in(1, Car(phases=1, max_current_a=16), id_tag="T")
            await until(lambda: st.drawn_current_a(1) == (16.0, 0.0, 0.0))
        finally:
            await st.stop()


async def test_evlink_rejects_profiles_until_setup_keys(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock, model="evlink_parking")
        try:
            cs = central.cps["CP1"]
            assert central.of("CP1", "BootNotification")[0]["charge_point_vendor"] == "Schneider Electric"
            set_default = call.SetChargingProfile(connector_id=0, cs_charging_profiles=tx_default(6))
            assert (await cs.call(set_default)).status == "Rejected"
            for key, value in st.model.setup_keys.items():
                res = await cs.call(call.ChangeConfiguration(key=key, value=value))
                assert res.status == "Accepted"
            assert (await cs.call(set_default)).status == "Accepted"
            res = await cs.call(call.GetConfiguration(key=["ChargeProfileMaxStackLevel", "Nope"]))
            assert res.configuration_key[0]["readonly"] is True and res.unknown_key == ["Nope"]
            res = await cs.call(call.ChangeConfiguration(key="ChargeProfileMaxStackLevel", value="99"))
            assert res.status == "Rejected"
        finally:
            await st.stop()


async def test_offline_keeps_charging_queues_and_delivers_in_order(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock)
        try:
            cs = central.cps["CP1"]
            await cs.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=tx_default(6)))
            st.plug_in(1, Car(), id_tag="TAG1")
            await central.wait_for(lambda: central.of("CP1", "StartTransaction"))
            tx_id = central.of("CP1", "StartTransaction")[0]["assigned"]
            valid_to = clock.now() + timedelta(seconds=4)
            live = tx_profile(12, valid_to.isoformat())
            await cs.call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=live))
            await until(lambda: st.drawn_current_a(1)[0] == 12.0)

            await st.go_offline()
            assert not st.online
            await asyncio.sleep(0.1)  # frames already on the wire still land
            before = len(central.records)
            # Offline: the live profile lapses and the station falls back by itself.
            await until(lambda: st.drawn_current_a(1)[0] == 6.0)
            await until(lambda: st.outbox.actions().count("MeterValues") >= 2)
            st.unplug(1)
            queued = st.outbox.actions()
            assert queued[-1] == "StopTransaction" and len(central.records) == before

            await st.go_online()
            await central.wait_for(lambda: central.of("CP1", "StopTransaction"))
            delivered = [a for a in central.actions("CP1")[before:] if a in ("MeterValues", "StopTransaction")]
            assert delivered[: len(queued)] == [a for a in queued if a in ("MeterValues", "StopTransaction")]
            stamps = [mv["meter_value"][0]["timestamp"] for mv in central.of("CP1", "MeterValues")]
            assert stamps == sorted(stamps)
            assert central.of("CP1", "StopTransaction")[0]["transaction_id"] == tx_id
        finally:
            await st.stop()


async def test_offline_start_gets_its_transaction_id_on_reconnect(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock)
        try:
            st.set_config("AllowOfflineTxForUnknownId", "true")
            await st.go_offline()
            st.plug_in(1, Car(), id_tag="NEW")
            await until(lambda: st.drawn_current_a(1)[0] == 32.0)
            await until(lambda: "MeterValues" in st.outbox.actions())
            st.unplug(1)
            await st.go_online()
            await central.wait_for(lambda: central.of("CP1", "StopTransaction"))
            tx_id = central.of("CP1", "StartTransaction")[0]["assigned"]
            assert central.of("CP1", "MeterValues")[0]["transaction_id"] == tx_id
            assert central.of("CP1", "StopTransaction")[0]["transaction_id"] == tx_id
            assert "BootNotification" not in central.actions("CP1")[1:]  # a reconnect is not a reboot
        finally:
            await st.stop()


async def test_remote_commands(clock: SimClock) -> None:
    async with TestCentral(now=clock.now) as central:
        st = await make_station(central, clock)
        try:
            cs = central.cps["CP1"]
            st.plug_in(2, Car(phases=1))
            assert (await cs.call(call.RemoteStartTransaction(id_tag="R1", connector_id=2))).status == "Accepted"
            await central.wait_for(lambda: central.of("CP1", "StartTransaction"))
            tx_id = central.of("CP1", "StartTransaction")[0]["assigned"]
            await until(lambda: st.connectors[2].tx is not None and st.connectors[2].tx.transaction_id == tx_id)
            comp = await cs.call(call.GetCompositeSchedule(connector_id=2, duration=600, charging_rate_unit="A"))
            assert comp.status == "Accepted"
            assert comp.charging_schedule["charging_schedule_period"][0]["limit"] == 32
            trig = await cs.call(call.TriggerMessage(requested_message="MeterValues", connector_id=2))
            assert trig.status == "Accepted"
            assert (await cs.call(call.RemoteStopTransaction(transaction_id=tx_id))).status == "Accepted"
            await central.wait_for(lambda: central.of("CP1", "StopTransaction"))
            assert central.of("CP1", "StopTransaction")[0]["reason"] == "Remote"
            assert (await cs.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))).status == "Accepted"
            await central.wait_for(lambda: any(
                s["connector_id"] == 1 and s["status"] == "Unavailable"
                for s in central.of("CP1", "StatusNotification")))
            assert (await cs.call(call.Reset(type="Hard"))).status == "Accepted"
            await central.wait_for(lambda: central.actions("CP1").count("BootNotification") == 2)
        finally:
            await st.stop()


@pytest.mark.slow
async def test_two_hundred_stations_boot_in_one_process() -> None:
    clock = SimClock(scale=1.0)
    async with TestCentral(now=clock.now, validate=False) as central:
        fleet = Fleet.from_count(200, central.url, model="evlink_pro_ac", clock=clock, connectors=2)
        t0 = time.perf_counter()
        await fleet.start()
        try:
            await fleet.wait_ready(timeout_s=60)
            elapsed = time.perf_counter() - t0
            print(f"\n200 stations booted in {elapsed:.2f} s")
            assert len({i for i, a, _ in central.records if a == "BootNotification"}) == 200
            assert elapsed < 30
        finally:
            await fleet.stop()


def test_fleet_from_site_file(tmp_path: Any) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        '[[stations]]\nid = "S03"\nmodel = "evlink_city"\nzone = "z"\n'
        'connectors = [{ id = 1, wiring = "TRI123", max_current = 32, socket = "T2" },\n'
        '              { id = 2, wiring = "MONO2", max_current = 16, socket = "T2" }]\n'
    )
    fleet = Fleet.from_site_file(site, "ws://127.0.0.1:1/ocpp")
    st = fleet.stations["S03"]
    assert st.model.vendor == "Schneider Electric"
    assert [(c.id, c.phases, c.max_current_a) for c in st.connectors.values()] == [(1, 3, 32.0), (2, 1, 16.0)]
