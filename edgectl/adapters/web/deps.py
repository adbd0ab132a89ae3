"""What the web adapter is built from, and the typed app keys that carry it.

The adapter never imports the control loop or another adapter (but the
store): the supervisor injects a `LiveStatus` (the running controller) and a
`StationCommands` (remote commands), either of which may be absent in tests
or before the controller runs (the endpoints then answer 503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from edgectl.adapters.store import Alarm, Store
from edgectl.adapters.web.passwords import ScryptParams
from edgectl.clock import Clock
from edgectl.core.site import Site, StationModel
from edgectl.ports import LiveStatus, StationCommands
from edgectl.settings import SystemConfig, WebConfig


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """SPEC §6 defaults. An admin changes failures, lock-out and inactivity at
    run time (stored in the box settings, `security.py`); these are the values
    until then."""

    max_failures: int = 6  # failed logins before the account locks
    lockout_s: float = 60.0
    inactivity_s: float = 600.0  # a cookie session dies after this long unused
    token_ttl_s: float = 24 * 3600.0  # bearer tokens for webservices logins
    scrypt: ScryptParams = field(default_factory=ScryptParams)


class AlarmControl(Protocol):
    """The running alarm monitor (`edgectl.services.AlarmMonitor`): an operator's
    clear must go through it, so that it stops expecting the alarm."""

    async def clear(self, alarm_id: int, actor: str) -> Alarm | None: ...


class MeterModels(Protocol):
    """The meter register maps (`edgectl.adapters.modbus.catalog.MeterModelCatalog`): the built-in
    models as documents, and the checks and TOML form of a custom one."""

    def builtin(self) -> dict[str, dict[str, Any]]: ...

    def check(self, text: str, origin: str) -> dict[str, Any]: ...  # ValueError naming the field

    def dump(self, doc: dict[str, Any]) -> str: ...


@dataclass
class WebDeps:
    store: Store
    clock: Clock
    live: LiveStatus | None = None
    commands: StationCommands | None = None
    config: WebConfig = field(default_factory=WebConfig)
    policy: SecurityPolicy = field(default_factory=SecurityPolicy)
    # Called after every change of the stored site (stations, zones, cards,
    # settings ...) so the running controller uses it from its next cycle.
    on_site_changed: Callable[[Site], None] | None = None
    models: dict[str, StationModel] | None = None  # station-model catalogue; None: the built-in one
    # How often the remote-energy watchdog looks at the heartbeat; None: never
    # (tests call `RemoteEnergy.check()` themselves with a FakeClock).
    rem_watch_s: float | None = 5.0
    alarms: AlarmControl | None = None  # None: clears go to the store directly (tests)
    system: SystemConfig = field(default_factory=SystemConfig)  # reboot / back-to-factory commands
    # Where the box's systemd-networkd file is written; None: network settings are stored only.
    network_dir: Path | None = None
    diagnostics_dir: Path | None = None  # what stations uploaded (`<dir>/<station>/<file>`), for station reports
    # Restarts the HTTPS listener with the new TLS 1.0 setting (set by `WebServer`); None: no live listener.
    restart_https: Callable[[bool], Awaitable[bool]] | None = None
    # The meter-model catalogue; None: the meter-model endpoints answer 503.
    meter_models: MeterModels | None = None


DEPS = web.AppKey("edgectl_deps", WebDeps)
