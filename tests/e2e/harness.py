"""Bring up the real daemon (in-process or as a subprocess) and a simulated
site on loopback, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgectl.adapters.store import open_store
from edgectl.core.site import Site
from edgectl.settings import ControlConfig, DaemonConfig, GpioConfig, LogConfig, OcppConfig, WebConfig
from edgectl.supervisor import Components, run_daemon
from simulators.meter.physics import BaseLoadProfile
from simulators.site import SimSite
from simulators.station import Car, SimStation

FAST_CAR = Car(phases=3, max_current_a=32.0, capacity_wh=80_000.0, soc=0.3, response_delay_s=0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_for(data_dir: Path, port: int, lease_s: int = 60, cycle_s: float = 0.5) -> DaemonConfig:
    return DaemonConfig(
        data_dir=data_dir,
        ocpp=OcppConfig(host="127.0.0.1", port=port, heartbeat_interval_s=60, call_timeout_s=3.0),
        gpio=GpioConfig(pin_factory="mock"),
        web=WebConfig(host="127.0.0.1", http_port=0, https_port=None),  # loopback, any free port
        log=LogConfig(level="warning"),
        control=ControlConfig(cycle_s=cycle_s, lease_s=lease_s, meter_poll_s=0.5),
    )


async def import_site(config: DaemonConfig, site: Site) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    async with open_store(config.db_path) as store:
        await store.site.replace(site)


@dataclass
class Running:
    components: Components
    sim: SimSite
    stop: asyncio.Event
    task: asyncio.Task[int]

    def station(self, sid: str) -> SimStation:
        return self.sim.stations[sid]

    def setpoint(self, sid: str, cid: int) -> int:
        last = self.components.loop.last
        assert last is not None
        return last.allocation.setpoints()[(sid, cid)]


@contextlib.asynccontextmanager
async def running_site(
    site: Site,
    tmp_path: Path,
    *,
    lease_s: int = 60,
    meter_interval_s: int = 2,
    base_load: BaseLoadProfile | None = None,
    pin_factory: Any = None,
) -> AsyncIterator[Running]:
    """The daemon in this process plus every station of `site`, connected and ready
    (and its TCP meters served on their loopback ports)."""
    port = free_port()
    config = config_for(tmp_path / "data", port, lease_s)
    await import_site(config, site)
    sim = SimSite(
        site, f"ws://127.0.0.1:{port}/ocpp", tick_s=0.2, meter_interval_s=meter_interval_s, base_load=base_load
    )
    await sim.start(stations=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started: asyncio.Future[Components] = loop.create_future()
    task = asyncio.create_task(
        run_daemon(config, stop=stop, install_signals=False, on_started=started.set_result, pin_factory=pin_factory)
    )
    done, _ = await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        raise RuntimeError(f"daemon exited with {task.result()}")
    coupling = asyncio.create_task(sim.run_coupling())
    try:
        for st in sim.stations.values():
            await st.start()
        await asyncio.gather(*(st.wait_ready(15.0) for st in sim.stations.values()))
        yield Running(started.result(), sim, stop, task)
    finally:
        coupling.cancel()
        await sim.stop()
        stop.set()
        await asyncio.wait_for(task, 15.0)


async def eventually(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
    """Wait (polling, bounded) until `check()` holds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class DaemonProcess:
    """`edgectl run` as a real subprocess (for SIGKILL tests)."""

    config_path: Path
    proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edgectl", "--config", str(self.config_path), "run",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
        )

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 15)


def write_config(path: Path, data_dir: Path, port: int, lease_s: int) -> None:
    path.write_text(
        f'data_dir = "{data_dir}"\n'
        f"[ocpp]\nhost = \"127.0.0.1\"\nport = {port}\ncall_timeout_s = 3.0\n"
        f"[gpio]\npin_factory = \"mock\"\n"
        f"[web]\nhost = \"127.0.0.1\"\nhttp_port = 0\nhttps_port = 0\n"
        f"[log]\nlevel = \"warning\"\n"
        f"[control]\ncycle_s = 0.5\nlease_s = {lease_s}\n",
        encoding="utf-8",
    )
