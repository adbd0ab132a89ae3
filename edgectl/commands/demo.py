"""`edgectl demo`: the daemon plus a complete virtual site on loopback.

The example site (config/site.example.toml unless --site) is imported into a
fresh data directory; its meters are served by simulated Modbus meters on
their (loopback) addresses, its stations are simulated OCPP 1.6J stations with
cars arriving and leaving, and the zone meters read the building load plus
what those cars really draw. The daemon is the real one (`run_daemon`), in
the same process. A console summary shows the site live. No root, no
hardware: GPIO is gpiozero's mock factory. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from edgectl.settings import (
    ConfigError,
    ControlConfig,
    DaemonConfig,
    GpioConfig,
    LogConfig,
    OcppConfig,
    WebConfig,
    load_config,
)

REPO_SITE = Path(__file__).resolve().parents[2] / "config" / "site.example.toml"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=Path, default=REPO_SITE, help="site file (default: the example site)")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the demo's data here (default: a temp dir)")
    parser.add_argument("--ocpp-port", type=int, default=0, help="OCPP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated traffic")
    parser.add_argument("--cars", type=int, default=8, help="cars plugged in at the start")
    parser.add_argument("--interarrival", type=float, default=30.0, help="mean seconds between new cars")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--refresh", type=float, default=2.0, help="console summary period (s)")
    parser.add_argument("--log-level", default="warning", help="daemon log level on stderr (default: warning)")
    parser.add_argument("--inputs-port", type=int, default=8766, help="digital-input control endpoint (127.0.0.1)")
    parser.add_argument(
        "--di-every", type=float, default=300.0, help="seconds between grid-operator signals on DI 1 (0: never)"
    )


def main(args: argparse.Namespace) -> int:
    from edgectl.sitefile import SiteFileError, load_site_file

    try:
        site = load_site_file(args.site)
    except (SiteFileError, OSError) as exc:
        print(f"edgectl demo: {exc}", file=sys.stderr)
        return 2
    try:
        base = load_config(args.config) if args.config and args.config.exists() else DaemonConfig()
    except ConfigError as exc:
        print(f"edgectl demo: {exc}", file=sys.stderr)
        return 2
    temp = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="edgectl-demo-")) if temp else args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    port = args.ocpp_port or _free_port()
    config = replace(
        base,
        data_dir=data_dir,
        # Loopback only: the demo's stations and meters live on this machine.
        ocpp=OcppConfig(host="127.0.0.1", port=port, heartbeat_interval_s=60, call_timeout_s=5.0),
        web=WebConfig(host="127.0.0.1", http_port=_port_or_free(base.web.http_port), https_port=None),
        gpio=GpioConfig(pin_factory="mock"),
        log=LogConfig(level=args.log_level, format="console"),
        control=ControlConfig(cycle_s=1.0, lease_s=60, meter_poll_s=0.5),
    )
    try:
        return asyncio.run(_demo(site, config, args))
    finally:
        if temp:
            shutil.rmtree(data_dir, ignore_errors=True)


def _port_or_free(port: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return _free_port()
    return port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _demo(site: object, config: DaemonConfig, args: argparse.Namespace) -> int:
    from edgectl.adapters.store import open_store
    from edgectl.commands.demo_console import render
    from edgectl.core.site import Site
    from edgectl.logs import configure_logging
    from edgectl.supervisor import Components, run_daemon
    from simulators.site import SimSite, TrafficSettings

    assert isinstance(site, Site)
    configure_logging(config.log)
    async with open_store(config.db_path) as store:
        await store.site.replace(site)

    url = f"ws://127.0.0.1:{config.ocpp.port}/ocpp"
    sim = SimSite(site, url, seed=args.seed)
    await sim.start(stations=False)  # meters first, so the daemon's first polls answer

    # The box's inputs are gpiozero mock pins the demo (and `edgectl di`) can drive.
    from gpiozero.pins.mock import MockFactory

    from simulators.inputs import InputsControl

    pin_factory = MockFactory()
    inputs = InputsControl(pin_factory, config.gpio.di_pins, config.gpio.reset_pins)
    try:
        inputs_url = await inputs.start(port=args.inputs_port)
    except OSError:
        inputs_url = await inputs.start(port=0)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started: asyncio.Future[Components] = loop.create_future()
    daemon = asyncio.create_task(
        run_daemon(config, stop=stop, install_signals=False, on_started=started.set_result, pin_factory=pin_factory),
        name="daemon",
    )
    waiters: list[asyncio.Future[Any]] = [started, daemon]
    done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if daemon in done:
        await sim.stop()
        await inputs.close()
        return daemon.result()
    components = started.result()

    print(f"edgectl demo: {len(site.stations)} simulated stations on {url}/<identity>", flush=True)
    print(f"edgectl demo: data in {config.data_dir}", flush=True)
    print(f"edgectl demo: digital inputs: edgectl di set 1 on --control {inputs_url}", flush=True)
    web_port = components.web.http_port if components.web is not None else config.web.http_port
    print(f"edgectl demo: dashboard http://127.0.0.1:{web_port}/  (REST API: /api/docs)", flush=True)
    print("edgectl demo: the console below shows the site live. Ctrl-C stops.", flush=True)
    try:
        async with asyncio.TaskGroup() as group:
            for st in sim.stations.values():
                await st.start()
            # A card swiped before the station is connected would be decided offline.
            await asyncio.gather(*(st.wait_ready(30.0) for st in sim.stations.values()), return_exceptions=True)
            keys = sim.free_connectors()
            for key in sim.rng.sample(keys, min(args.cars, len(keys))):
                sim.arrive(key)
            tasks = [
                group.create_task(sim.run_coupling(), name="demo-coupling"),
                group.create_task(sim.run_traffic(TrafficSettings(args.interarrival)), name="demo-traffic"),
                group.create_task(_console(components, sim, args.refresh), name="demo-console"),
            ]
            if args.di_every > 0:
                tasks.append(group.create_task(_grid_signal(inputs, args.di_every), name="demo-di"))
            if args.duration is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), args.duration)
            else:
                await stop.wait()
            for task in tasks:
                task.cancel()
    finally:
        stop.set()
        await sim.stop()
        code = await daemon
        await inputs.close()
    last = components.loop.last
    if last is not None:
        print(render(components, sim, final=True), flush=True)
    print("edgectl demo: stopped", flush=True)
    return code


async def _console(components: object, sim: object, refresh_s: float) -> None:
    from edgectl.commands.demo_console import render

    tty = sys.stdout.isatty()
    while True:
        await asyncio.sleep(refresh_s)
        text = render(components, sim)
        if tty:
            sys.stdout.write("\x1b[H\x1b[2J")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


async def _grid_signal(inputs: Any, every_s: float) -> None:
    """The grid operator asks for a reduction now and then: DI 1 on for a minute."""
    while True:
        await asyncio.sleep(every_s)
        inputs.set_input(1, True)
        await asyncio.sleep(min(60.0, every_s / 2))
        inputs.set_input(1, False)
