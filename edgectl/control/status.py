"""The running controller as the web layer sees it (implements ports.LiveStatus).

Read-only views of the last allocation and current observations, a
subscription to cycle results, and remote energy-management setpoints (which
go through the observations so they wake the loop like any other input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgectl.clock import Clock
from edgectl.control.loop import ControlLoop, CycleResult
from edgectl.control.observations import SiteObservations
from edgectl.core.result import Allocation
from edgectl.core.snapshot import Snapshot


class ControllerStatus:
    def __init__(
        self,
        loop: ControlLoop,
        observations: SiteObservations,
        clock: Clock,
        connected: Callable[[], frozenset[str]],
        meter_health: Callable[[], dict[str, dict[str, Any]]],
    ) -> None:
        self._loop = loop
        self._obs = observations
        self._clock = clock
        self._connected = connected
        self._meter_health = meter_health
        self._subscribers: list[Callable[[Allocation], None]] = []
        loop.subscribe(self._publish)

    def allocation(self) -> Allocation | None:
        return self._loop.last.allocation if self._loop.last is not None else None

    def snapshot(self) -> Snapshot:
        return self._obs.snapshot(self._clock.now())

    def connected_stations(self) -> frozenset[str]:
        return self._connected()

    def meter_health(self) -> dict[str, dict[str, Any]]:
        return self._meter_health()

    def subscribe(self, callback: Callable[[Allocation], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def set_remote_setpoint(self, zone_id: str, amps: float | None) -> None:
        self._obs.set_remote_setpoint(zone_id, amps)

    def _publish(self, result: CycleResult) -> None:
        for callback in list(self._subscribers):
            callback(result.allocation)
