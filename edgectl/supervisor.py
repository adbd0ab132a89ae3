"""The composition root: builds the daemon and runs it until told to stop.

Rules:
- Start-up is ordered and shutdown is its reverse: every resource (the store
  now; servers, buses and clients later) is entered into one
  `AsyncExitStack`, so whatever was started is closed, in reverse order, on
  any exit path.
- Every long-running activity is a named *service* (`name` + `async run()`)
  owned by ONE `asyncio.TaskGroup`: no stray `create_task`. A service that
  fails takes the daemon down (exit 1) and systemd restarts it — better than
  running half a controller.
- systemd is told READY=1 once every service has been started, STOPPING=1 as
  soon as a stop is requested, and WATCHDOG=1 by the watchdog service only
  while every liveness check passes.

Later issues extend `build_services` (OCPP server, control loop, meters,
web); each new resource goes into the exit stack there, in start-up order.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from edgectl import stationmodels
from edgectl.adapters.files import FileEndpoints, FileServer
from edgectl.adapters.gpio import build_gpio_services
from edgectl.adapters.modbus.catalog import MeterModelCatalog, custom_models
from edgectl.adapters.modbus.poller import MeterPoller, create_pollers, run_pollers
from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import Event, EventType, Store, open_store
from edgectl.adapters.web import WebDeps, WebServer
from edgectl.adapters.web.views_models import METER_MODELS
from edgectl.clock import Clock, SystemClock
from edgectl.control.loop import ControlLoop
from edgectl.control.observations import SiteObservations
from edgectl.control.status import ControllerStatus
from edgectl.core.site import Site
from edgectl.core.snapshot import MeterReading
from edgectl.core.state import AllocatorParams
from edgectl.core.topology import Topology, compile_site
from edgectl.gcpolicy import CollectorPolicy
from edgectl.sdnotify import Notifier
from edgectl.services import AlarmMonitor, StationCommandService, StationObserverTee
from edgectl.settings import DaemonConfig
from edgectl.tls import ensure_certificate, server_context

log = structlog.get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Service(Protocol):
    """Something the daemon runs until shutdown; cancelled to stop."""

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...


LivenessCheck = Callable[[], bool]


class WatchdogService:
    """Pings the systemd watchdog at half of WatchdogSec=.

    A ping proves the event loop turns; liveness checks (e.g. "the control
    loop completed a cycle recently", added later) make it prove the daemon
    does its job. While any check fails no ping is sent, and systemd
    restarts the daemon when WatchdogSec= runs out.
    """

    name = "watchdog"

    def __init__(self, notifier: Notifier, clock: Clock, checks: Sequence[LivenessCheck] = ()) -> None:
        self._notifier = notifier
        self._clock = clock
        self._checks = list(checks)
        self._healthy = True

    def add_check(self, check: LivenessCheck) -> None:
        self._checks.append(check)

    async def run(self) -> None:
        interval_s = self._notifier.watchdog_interval_s
        if interval_s is None:
            log.info("watchdog.disabled")
            await asyncio.Future()  # nothing to do, but stay a service until shutdown
        log.info("watchdog.enabled", interval_s=interval_s)
        while True:
            healthy = all(check() for check in self._checks)
            if healthy != self._healthy:
                log.warning("watchdog.unhealthy") if not healthy else log.info("watchdog.healthy")
                self._healthy = healthy
            if healthy:
                self._notifier.watchdog()
            assert interval_s is not None
            await self._clock.sleep(interval_s)


@dataclass
class Supervisor:
    notifier: Notifier
    services: list[Service] = field(default_factory=list)

    def add(self, service: Service) -> None:
        if any(s.name == service.name for s in self.services):
            raise ValueError(f"two services named {service.name!r}")
        self.services.append(service)

    async def run(self, stop: asyncio.Event, ready_status: str = "running") -> None:
        """Run every service until `stop` is set (returns) or one fails (raises)."""
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_run_service(s), name=s.name) for s in self.services]
            self.notifier.ready(ready_status)
            log.info("daemon.ready", services=[s.name for s in self.services])
            await stop.wait()
            self.notifier.stopping("stopping")
            log.info("daemon.stopping")
            for task in tasks:
                task.cancel()


async def _run_service(service: Service) -> None:
    log.info("service.started", service=service.name)
    try:
        await service.run()
    except asyncio.CancelledError:
        log.info("service.stopped", service=service.name)
        raise
    except Exception:
        log.exception("service.failed", service=service.name)
        raise
    log.info("service.finished", service=service.name)


@dataclass(frozen=True)
class Runtime:
    """What services are built from (typed, instead of a string-keyed app dict)."""

    config: DaemonConfig
    clock: Clock
    notifier: Notifier
    store: Store
    site: Site
    pin_factory: Any = None  # a gpiozero Factory the demo shares with its input simulator


@dataclass
class Components:
    """The running daemon's parts, for the demo and tests to look at."""

    runtime: Runtime
    observations: SiteObservations
    ocpp: OcppServer
    loop: ControlLoop
    pollers: list[MeterPoller]
    topology: Topology
    status: ControllerStatus  # ports.LiveStatus for the web layer
    alarms: AlarmMonitor | None = None
    commands: StationCommandService | None = None  # ports.StationCommands for the web layer
    files: FileServer | None = None
    web: WebServer | None = None


class ControlService:
    name = "control-loop"

    def __init__(self, loop: ControlLoop) -> None:
        self._loop = loop

    async def run(self) -> None:
        await self._loop.run()


class MeterService:
    name = "meters"

    def __init__(self, pollers: list[MeterPoller]) -> None:
        self._pollers = pollers

    async def run(self) -> None:
        if not self._pollers:
            await asyncio.Future()  # no meters: nothing to poll, stay until shutdown
        await run_pollers(self._pollers)


async def build_services(runtime: Runtime, stack: AsyncExitStack) -> tuple[list[Service], Components]:
    """The daemon's services in start-up order. `stack` takes their resources."""
    config, clock, store, site = runtime.config, runtime.clock, runtime.store, runtime.site
    observations = SiteObservations(clock.now)
    topology = compile_site(site, stationmodels.catalogue())

    # Sessions still open from before a restart continue when their station returns.
    known = {s.id for s in site.stations}
    for session in await store.sessions.open_sessions():
        if session.station_id in known:
            observations.restore_session(
                session.station_id, session.connector_id, session.transaction_id, session.id_tag,
                session.start_at, session.energy_wh,
            )

    # Security profile 2: the OCPP TLS listener uses the box's certificate (generated once).
    ocpp_tls = None
    if config.ocpp.tls_port is not None:
        # TLS 1.0 as an admin last set it (web security settings), else as configured; read at start only.
        tls10 = bool((await store.box_settings.get("security") or {}).get("tls10", config.web.tls10))
        ocpp_tls = server_context(*ensure_certificate(config.data_dir, clock.now()), allow_tls10=tls10)
    # Alarms hear stations, meters and the control loop. Loaded before the OCPP
    # server starts, so an alarm from before a restart clears on reconnection.
    alarms = AlarmMonitor(store, clock, lambda: site)
    await alarms.load()
    station_observer = StationObserverTee(observations, alarms)
    ocpp = OcppServer(config.ocpp, store, station_observer, clock, lambda: site, ssl_context=ocpp_tls)
    await ocpp.start()
    stack.push_async_callback(ocpp.stop)

    files = FileServer(
        FileEndpoints(
            config.data_dir / "firmware", config.data_dir / "diagnostics",
            max_upload_bytes=config.files.max_upload_bytes,
        ),
        config.files.host or config.ocpp.host, config.files.port,
    )
    await files.start()
    stack.push_async_callback(files.stop)

    def meter_reading(meter_id: str, reading: MeterReading) -> None:
        observations.meter_reading(meter_id, reading)
        alarms.meter_reading(meter_id, reading)

    def meter_failed(meter_id: str, error: str) -> None:
        observations.meter_failed(meter_id, error)
        alarms.meter_failed(meter_id, error)

    # Custom meter models imported from the web (box settings), read at start like the meters.
    stored_models = (await store.box_settings.get(METER_MODELS) or {}).get("models", {})
    registry, pollers = create_pollers(
        site.meters, clock, meter_reading, custom_models=custom_models(stored_models),
        period_s=config.control.meter_poll_s, on_failure=meter_failed,
    )
    stack.push_async_callback(registry.close)
    stale_s = max((p.max_sample_age_s for p in pollers), default=AllocatorParams().meter_stale_s)

    loop = ControlLoop(
        lambda: topology, observations, ocpp, clock,
        cycle_s=config.control.cycle_s, min_cycle_s=config.control.min_cycle_s, lease_s=config.control.lease_s,
        call_timeout_s=config.ocpp.call_timeout_s, params=AllocatorParams(meter_stale_s=stale_s),
        on_rejected=alarms.profile_rejected,
    )
    # The alarms judge the very snapshot the cycle decided on (no second copy).
    loop.subscribe(lambda result: alarms.cycle(result.allocation, result.snapshot))

    def file_base_url(station_id: str) -> str | None:
        # The address the station used to reach the box reaches the file endpoints too.
        if config.files.public_url:
            return config.files.public_url.rstrip("/")
        host = ocpp.local_address(station_id)
        if host is None:
            return None
        return f"http://{f'[{host}]' if ':' in host else host}:{files.port}"

    commands = StationCommandService(
        ocpp, store, clock, lambda: site, firmware_dir=config.data_dir / "firmware", file_base_url=file_base_url,
        on_force_stopped=observations.transaction_stopped, timeout_s=config.ocpp.call_timeout_s,
    )
    watchdog = WatchdogService(runtime.notifier, clock)
    last_cycle = [clock.monotonic()]
    loop.on_cycle_done(lambda: last_cycle.__setitem__(0, clock.monotonic()))
    # Healthy only while the loop completes cycles: a stuck loop gets us restarted.
    watchdog.add_check(lambda: clock.monotonic() - last_cycle[0] < max(30.0, 5 * config.control.cycle_s))

    async def factory_reset_requested() -> None:
        # The reset itself lands with the operations issue; the request is recorded.
        log.warning("factory_reset.requested", source="gpio-bridge")
        await store.events.append(Event(EventType.SECURITY, "factory reset requested (GPIO 7-8 bridge)", source="box"))

    gpio = build_gpio_services(
        config.gpio, observations, clock, factory_reset_requested, pin_factory=runtime.pin_factory
    )
    stack.callback(gpio.close)
    services: list[Service] = [
        watchdog, MeterService(pollers), gpio.inputs, gpio.reset_bridge, ControlService(loop), alarms,
        CollectorPolicy(),
    ]

    def meter_health() -> dict[str, dict[str, Any]]:
        now = clock.now()
        return {
            p.meter.id: {
                "state": p.health.state,
                "last_error": p.health.last_error,
                "sample_age_s": p.health.sample_age_s(now),
            }
            for p in pollers
        }

    status = ControllerStatus(loop, observations, clock, ocpp.connected, meter_health)

    def site_changed(new_site: Site) -> None:
        # The web layer changed the stored site: the OCPP server, the loop and the
        # commands read `site` / `topology` through the closures above, so they use
        # it from the next message / cycle. Meters stay as built at start (restart).
        nonlocal site, topology
        try:
            topology = compile_site(new_site, stationmodels.catalogue())
        except Exception:
            log.exception("site.compile_failed")
            return
        site = new_site
        log.info("site.changed", zones=len(site.zones), stations=len(site.stations))
        # Cards or authorization modes may have changed: push them to the
        # stations' local lists and offline keys (only differences are sent).
        ocpp.auth_sync.request("site")

    web_server = WebServer(
        WebDeps(store=store, clock=clock, live=status, commands=commands, config=config.web,
                on_site_changed=site_changed, alarms=alarms, system=config.system,
                network_dir=config.network_dir, diagnostics_dir=config.data_dir / "diagnostics",
                meter_models=MeterModelCatalog()),
        config.data_dir,
    )
    await web_server.start()
    stack.push_async_callback(web_server.stop)
    return services, Components(
        runtime, observations, ocpp, loop, pollers, topology, status, alarms=alarms, commands=commands, files=files,
        web=web_server,
    )


async def run_daemon(
    config: DaemonConfig,
    *,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    on_started: Callable[[Components], None] | None = None,
    pin_factory: Any = None,
) -> int:
    """Run until SIGTERM/SIGINT (or `stop`); the process exit code."""
    clock = clock or SystemClock()
    notifier = notifier or Notifier()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop(signum: int) -> None:
        if not stop.is_set():
            log.info("daemon.signal", signal=signal.Signals(signum).name)
            notifier.stopping("stopping")
        stop.set()

    async with AsyncExitStack() as stack:
        for signum in STOP_SIGNALS if install_signals else ():
            loop.add_signal_handler(signum, request_stop, signum)
            stack.callback(loop.remove_signal_handler, signum)
        notifier.status("starting")
        log.info("daemon.starting", config=str(config.source), data_dir=str(config.data_dir))
        store = await stack.enter_async_context(open_store(config.db_path, clock, max_events=config.log.max_events))
        site = await store.site.load()
        if site is None:
            log.info("site.none")
            site = Site()
        else:
            log.info("site.loaded", zones=len(site.zones), stations=len(site.stations), meters=len(site.meters))
        runtime = Runtime(
            config=config, clock=clock, notifier=notifier, store=store, site=site, pin_factory=pin_factory
        )
        supervisor = Supervisor(notifier)
        services, components = await build_services(runtime, stack)
        for service in services:
            supervisor.add(service)
        if on_started is not None:
            on_started(components)
        # Everything built so far (schemas, validators, the site, imported
        # modules) lives as long as the daemon: move it out of the cyclic
        # collector's sight, so a full collection walks only what the running
        # box allocates (it stalled the event loop ~100 ms at a time: meter
        # poll jitter p99 3 ms -> 107 ms, see docs/performance.md). What the
        # box keeps from then on is frozen after each full collection
        # (edgectl.gcpolicy).
        gc.collect()
        gc.freeze()
        await store.events.append(Event(EventType.SYSTEM, "daemon started", source="box"))
        await supervisor.run(stop, ready_status=f"running: {len(site.stations)} stations, {len(site.zones)} zones")
        await store.events.append(Event(EventType.SYSTEM, "daemon stopped", source="box"))
    log.info("daemon.stopped")
    return 0
