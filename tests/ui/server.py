"""A real daemon with simulated stations (and a meter) on loopback, run in a
background thread with its own event loop, so that Playwright's synchronous
API can drive a browser from the test thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from edgectl.adapters.store import Role, User, open_store
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password
from edgectl.core.site import Site
from edgectl.settings import ControlConfig, DaemonConfig, GpioConfig, LogConfig, OcppConfig, WebConfig
from edgectl.sitefile import load_site
from edgectl.supervisor import Components, run_daemon
from simulators.site import SimSite

T = TypeVar("T")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_for(data_dir: Path, port: int) -> DaemonConfig:
    """Like tests/e2e/harness.py: loopback only, fast cycles, mock GPIO."""
    return DaemonConfig(
        data_dir=data_dir,
        ocpp=OcppConfig(host="127.0.0.1", port=port, heartbeat_interval_s=60, call_timeout_s=3.0),
        gpio=GpioConfig(pin_factory="mock"),
        web=WebConfig(host="127.0.0.1", http_port=0, https_port=None),
        log=LogConfig(level="warning"),
        control=ControlConfig(cycle_s=0.5, lease_s=60, meter_poll_s=0.5),
    )
PASSWORD = "Str0ng!pass"
FACTORY_PASSWORD = "Factory!2024"


def demo_site(meter_port: int) -> Site:
    text = f"""
[site]
name = "Test car park"
timezone = "Europe/Paris"

[[zones]]
id = "main"
name = "Main board"
max_current = 100
mode = "dynamic"
meter = "pm-main"
degraded_current = 40

[[zones]]
id = "p1"
parent = "main"
name = "Parking P1"
max_current = 63

[[zones]]
id = "p2"
parent = "main"
name = "Parking P2"
max_current = 32

[[meters]]
id = "pm-main"
model = "pm5320"
transport = "tcp"
host = "127.0.0.1"
port = {meter_port}
unit_id = 1

[[stations]]
id = "S1"
name = "Station 1"
model = "generic_ac"
zone = "p1"
connectors = [{{ id = 1, wiring = "TRI123", max_current = 32, socket = "T2" }},
              {{ id = 2, wiring = "TRI123", max_current = 32, socket = "T2" }}]

[[stations]]
id = "S2"
name = "Station 2"
model = "generic_ac"
zone = "p2"
connectors = [{{ id = 1, wiring = "TRI123", max_current = 32, socket = "T2" }}]

[[cards]]
id_tag = "TAG1"
comment = "Fleet car 1"

[[cards]]
id_tag = "TAG2"
vip = true
comment = "Manager"
zones = ["p1"]

[tou]
enabled = true
[[tou.periods]]
name = "peak"
percent = 50
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
slots = [["08:00", "12:00"]]
zones = ["p1"]
"""
    return load_site(text, "ui-test-site.toml")


class SiteThread:
    """The daemon (with `daemon_site`) + simulated stations of `sim_site`."""

    def __init__(self, tmp: Path, daemon_site: Site, sim_site: Site, users: dict[str, tuple[Role, str]],
                 wait_ready: bool = True) -> None:
        self.tmp, self.daemon_site, self.sim_site, self.users = tmp, daemon_site, sim_site, users
        self.wait_ready = wait_ready
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="edgectl-ui-site", daemon=True)
        self.ready: Future[None] = Future()
        self.components: Components | None = None
        self.sim: SimSite | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""

    def start(self, timeout_s: float = 60.0) -> SiteThread:
        self.thread.start()
        self.ready.result(timeout_s)
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._run())
        except BaseException as exc:  # reported to the test thread
            if not self.ready.done():
                self.ready.set_exception(exc)

    async def _run(self) -> None:
        port = free_port()
        config = config_for(self.tmp / "data", port)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        async with open_store(config.db_path) as store:
            await store.site.replace(self.daemon_site)
            for name, (role, password) in self.users.items():
                await store.users.create(User(name, hash_password(password, FAST_TEST_PARAMS), role))
        self.sim = SimSite(self.sim_site, f"ws://127.0.0.1:{port}/ocpp", tick_s=0.2, meter_interval_s=2)
        await self.sim.start(stations=False)
        self._stop = asyncio.Event()
        started: asyncio.Future[Components] = self.loop.create_future()
        task = asyncio.create_task(run_daemon(config, stop=self._stop, install_signals=False,
                                              on_started=started.set_result))
        done, _ = await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            raise RuntimeError(f"daemon exited with {task.result()}")
        self.components = started.result()
        assert self.components.web is not None
        self.url = f"http://127.0.0.1:{self.components.web.http_port}"
        coupling = asyncio.create_task(self.sim.run_coupling())
        for st in self.sim.stations.values():
            await st.start()
        with contextlib.suppress(TimeoutError):
            if not self.wait_ready:
                raise TimeoutError
            await asyncio.wait_for(asyncio.gather(*(st.wait_ready(15.0) for st in self.sim.stations.values())), 20)
        self.ready.set_result(None)
        await self._stop.wait()
        coupling.cancel()
        await self.sim.stop()
        await asyncio.wait_for(task, 15.0)

    def call(self, fn: Callable[[], T], timeout_s: float = 10.0) -> T:
        """Run `fn()` on the daemon's loop (simulator objects are not thread-safe)."""
        async def wrapper() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout_s)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
