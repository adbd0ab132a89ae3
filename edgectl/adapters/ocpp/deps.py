"""What the central system's handlers need: store, observer, clock, site, models.

`SafeObserver` shields the station conversation from a bug in the control
loop: an observer that raises is logged, and the station still gets its
answer (the data is already persisted by then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    # The site object the station index was built from, and the index.
    _site_index: dict[str, tuple[Site, dict[str, Station], dict[tuple[str, int], Connector]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def station(self, station_id: str) -> Station | None:
        """The registered station with this identity (exact match), or None."""
        return self._index()[0].get(station_id)

    def connector(self, station_id: str, connector_id: int) -> Connector | None:
        return self._index()[1].get((station_id, connector_id))

    def _index(self) -> tuple[dict[str, Station], dict[tuple[str, int], Connector]]:
        # Every station message looks its station up: a dict per site object
        # (rebuilt when the site is replaced), not a walk over a thousand.
        site = self.site()
        cached = self._site_index.get("site")
        if cached is None or cached[0] is not site:
            stations = {s.id: s for s in site.stations}
            connectors = {(s.id, c.id): c for s in site.stations for c in s.connectors}
            cached = self._site_index["site"] = (site, stations, connectors)
        return cached[1], cached[2]

    def model_ocpp(self, station: Station) -> Mapping[str, Any]:
        """The `[ocpp]` table of the station's model file ({} when none)."""
        table = self.models.load_raw().get(station.model, {}).get("ocpp", {})
        return table if isinstance(table, Mapping) else {}
