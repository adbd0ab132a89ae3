"""What the central system's handlers need: store, observer, clock, site, models.

`SafeObserver` shields the station conversation from a bug in the control
loop: an observer that raises is logged, and the station still gets its
answer (the data is already persisted by then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from edgectl.adapters.store import Store
from edgectl.clock import Clock
from edgectl.core.site import Connector, Site, Station
from edgectl.ports import StationObserver
from edgectl.settings import OcppConfig

log = structlog.get_logger(__name__)


class ModelCatalogue(Protocol):
    """`edgectl.stationmodels` (or a test double): raw model files by id."""

    def load_raw(self) -> dict[str, dict[str, Any]]: ...


class SafeObserver:
    def __init__(self, inner: StationObserver) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Callable[..., None]:
        method = getattr(self._inner, name)

        def safe(*args: Any, **kwargs: Any) -> None:
            try:
                method(*args, **kwargs)
            except Exception:
                log.exception("ocpp.observer_failed", method=name)

        setattr(self, name, safe)  # built once: every station message calls it
        return safe


@dataclass(frozen=True, slots=True)
class Deps:
    config: OcppConfig
    store: Store
    observer: StationObserver  # a SafeObserver around the control loop's
    clock: Clock
    site: Callable[[], Site]
    models: ModelCatalogue

    def station(self, station_id: str) -> Station | None:
        """The registered station with this identity (exact match), or None."""
        for s in self.site().stations:
            if s.id == station_id:
                return s
        return None

    def connector(self, station_id: str, connector_id: int) -> Connector | None:
        station = self.station(station_id)
        if station is None:
            return None
        return next((c for c in station.connectors if c.id == connector_id), None)

    def model_ocpp(self, station: Station) -> Mapping[str, Any]:
        """The `[ocpp]` table of the station's model file ({} when none)."""
        table = self.models.load_raw().get(station.model, {}).get("ocpp", {})
        return table if isinstance(table, Mapping) else {}
