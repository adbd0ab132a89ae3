"""What the web adapter is built from, and the typed app keys that carry it.

The adapter never imports the control loop or another adapter (but the
store): the supervisor injects a `LiveStatus` (the running controller) and a
`StationCommands` (remote commands), either of which may be absent in tests
or before the controller runs (the endpoints then answer 503).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from edgectl.adapters.store import Store
from edgectl.adapters.web.passwords import ScryptParams
from edgectl.clock import Clock
from edgectl.core.site import Site, StationModel
from edgectl.ports import LiveStatus, StationCommands
from edgectl.settings import WebConfig


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """SPEC §6 defaults; the admin page shows them (read-only for now)."""

    max_failures: int = 6  # failed logins before the account locks
    lockout_s: float = 60.0
    inactivity_s: float = 600.0  # a cookie session dies after this long unused
    token_ttl_s: float = 24 * 3600.0  # bearer tokens for webservices logins
    scrypt: ScryptParams = field(default_factory=ScryptParams)


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


DEPS = web.AppKey("edgectl_deps", WebDeps)
