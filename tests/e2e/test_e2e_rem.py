"""Remote energy management end to end (SPEC §6): the designated webservices
login caps a zone over the REST API of the running daemon; the simulated
stations enforce the cap; within the minimum update period a second value
changes nothing; when the heartbeat stops, the zone returns to local control
and the stations get their full share again."""

from __future__ import annotations

import base64

import aiohttp

from edgectl.adapters.store import Role, User, open_store
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password
from edgectl.core.site import Card, Connector, RemoteEnergyManagement, Site, SiteSettings, Station, Wiring, Zone

from .harness import FAST_CAR, config_for, eventually, free_port, running_site

PASSWORD = "Str0ng!pass"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"ws:{PASSWORD}".encode()).decode()}
HEARTBEAT_S = 3  # the watchdog looks every 5 s: local control again within ~8 s


def rem_site() -> Site:
    return Site(
        settings=SiteSettings(remote_energy=RemoteEnergyManagement(
            enabled=True, login="ws", min_update_period_s=60, heartbeat_s=HEARTBEAT_S)),
        zones=(Zone("z", "Zone", 63),),
        stations=tuple(Station(f"S{i}", f"S{i}", "generic_ac", "z", (Connector(1, Wiring.TRI123, 32),))
                       for i in range(2)),
        cards=(Card("TAG0"), Card("TAG1")),
    )


async def test_remote_setpoint_caps_the_stations_then_heartbeat_loss_returns_to_local(tmp_path):
    # The webservices account exists before the daemon starts (same data dir as the harness uses).
    data = config_for(tmp_path / "data", free_port())
    data.data_dir.mkdir(parents=True, exist_ok=True)
    async with open_store(data.db_path) as store:
        await store.users.create(User("ws", hash_password(PASSWORD, FAST_TEST_PARAMS), Role.WEBSERVICES))

    async with running_site(rem_site(), tmp_path) as run:
        web = run.components.web
        assert web is not None
        base = f"http://127.0.0.1:{web.http_port}/api/v1"
        limits = lambda: [run.station(f"S{i}").effective_limit_a(1) for i in range(2)]  # noqa: E731
        for i in range(2):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
        await eventually(lambda: limits() == [32, 31] or limits() == [31, 32], what="local shares of 63 A")

        async with aiohttp.ClientSession(headers=AUTH) as http:
            async with http.put(f"{base}/zones/z/setpoint", json={"amps": 20}) as resp:
                assert resp.status == 200, await resp.text()
            await eventually(lambda: sum(limits()) <= 20 and min(limits()) >= 6, what="the stations apply the cap")
            # Within the minimum update period only the first value counts.
            async with http.put(f"{base}/zones/z/setpoint", json={"amps": 60}) as resp:
                assert resp.status == 429
                assert resp.content_type == "application/problem+json"
                assert (await resp.json())["retry_after_s"] > 0
            async with http.get(f"{base}/status") as resp:
                zone = next(z for z in (await resp.json())["zones"] if z["id"] == "z")
            assert zone["remote_setpoint"] == 20
            assert sum(limits()) <= 20
            # The heartbeat keeps the cap ...
            async with http.post(f"{base}/rem/heartbeat") as resp:
                assert resp.status == 200
            # ... its loss ends it: back to local control, full shares again.
            await eventually(lambda: sorted(limits()) == [31, 32], timeout_s=20,
                             what="local control after the heartbeat stopped")
            async with http.get(f"{base}/rem") as resp:
                assert (await resp.json())["zones"] == {}
