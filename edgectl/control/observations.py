"""The latest of everything the adapters observed, frozen into snapshots.

Implements the observer ports (edgectl.ports): adapters report here, cheaply
and synchronously, and every report that can change an allocation wakes the
control loop. `snapshot(now)` copies the current picture into the immutable
core `Snapshot` without I/O.

Rules:
- a station counts as online only while it is connected and accepted; while
  offline its open sessions are kept (the allocator reserves its fallback);
- a failed meter is forgotten at once (absent = lost = degraded budget);
- what can change an allocation wakes the loop at once (connections, statuses,
  sessions, meter samples and failures, inputs, remote setpoints); a car's own
  meter values do not — the next cycle picks them up;
- the effective charge duration of a session accumulates while the connector
  reports Charging and draws more than CHARGING_THRESHOLD_A (or reports no
  current at all), using the injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from edgectl.core.phases import Phases
from edgectl.core.snapshot import ConnectorObservation, MeterReading, Snapshot, StationObservation

CHARGING_THRESHOLD_A = 0.5


@dataclass
class _Connector:
    status: str = "Available"
    error_code: str = "NoError"
    transaction_id: int | None = None
    id_tag: str | None = None
    started: datetime | None = None
    energy_wh: float = 0.0
    current_a: Phases | None = None
    power_w: float | None = None
    soc_percent: float | None = None
    offered_a: float | None = None
    charging_s: float = 0.0
    charging_since: datetime | None = None


@dataclass
class _Station:
    online: bool = False
    epoch: int = 0  # bumped on every (re)connection: what it acknowledged before is void
    connectors: dict[int, _Connector] = field(default_factory=dict)
    # The last observation built, while nothing in it changes with time (no
    # charge clock running); every change goes through `station()`, which drops it.
    cached: StationObservation | None = None

    def connector(self, connector_id: int) -> _Connector:
        c = self.connectors.get(connector_id)
        if c is None:
            c = self.connectors[connector_id] = _Connector()
        return c


class SiteObservations:
    """StationObserver + MeterObserver + InputObserver for the control loop."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._stations: dict[str, _Station] = {}
        self._meters: dict[str, MeterReading] = {}
        self._inputs: dict[int, bool] = {}
        self._remote_a: dict[str, float] = {}
        self.wake = asyncio.Event()

    # --- helpers for the loop ---
    def station(self, station_id: str) -> _Station:
        """The station's record, to change: its cached observation is dropped."""
        s = self._stations.get(station_id)
        if s is None:
            s = self._stations[station_id] = _Station()
        s.cached = None
        return s

    def epoch(self, station_id: str) -> int:
        s = self._stations.get(station_id)
        return 0 if s is None else s.epoch

    def transactions(self) -> dict[tuple[str, int], int]:
        """Open sessions, online stations or not."""
        return {
            (sid, cid): c.transaction_id
            for sid, s in self._stations.items()
            for cid, c in s.connectors.items()
            if c.transaction_id is not None
        }

    def snapshot(self, now: datetime) -> Snapshot:
        # Each station's observation is built once per change and reused:
        # nothing in it depends on `now` (a running charge clock is carried
        # as its start, `ConnectorObservation.charging_since`).
        stations: dict[str, StationObservation] = {}
        for sid, s in self._stations.items():
            if not s.online:
                continue
            cached = s.cached
            if cached is None:
                cached = s.cached = _observe(s)  # true until the station reports again
            stations[sid] = cached
        return Snapshot(
            time=now,
            meters=dict(self._meters),
            digital_inputs=dict(self._inputs),
            remote_setpoints_a=dict(self._remote_a),
            stations=stations,
        )

    def restore_session(
        self, station_id: str, connector_id: int, transaction_id: int, id_tag: str, started: datetime, energy_wh: float
    ) -> None:
        """Seed an open session from the store after a restart (station still offline)."""
        c = self.station(station_id).connector(connector_id)
        c.transaction_id, c.id_tag, c.started, c.energy_wh = transaction_id, id_tag, started, energy_wh
        c.status = "Charging"

    def set_remote_setpoint(self, zone_id: str, amps: float | None) -> None:
        if amps is None:
            self._remote_a.pop(zone_id, None)
        else:
            self._remote_a[zone_id] = amps
        self.wake.set()

    # --- StationObserver ---
    def station_connected(self, station_id: str) -> None:
        s = self.station(station_id)
        s.online = True
        s.epoch += 1
        self.wake.set()

    def station_disconnected(self, station_id: str) -> None:
        s = self.station(station_id)
        s.online = False
        now = self._now()
        for c in s.connectors.values():
            _stop_clock(c, now)
        self.wake.set()

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str = "NoError") -> None:
        c = self.station(station_id).connector(connector_id)
        if c.status == status and c.error_code == error_code:
            return
        c.status, c.error_code = status, error_code
        self._update_clock(c)
        self.wake.set()

    def transaction_started(
        self, station_id: str, connector_id: int, transaction_id: int, id_tag: str, started: datetime,
        meter_start_wh: float,
    ) -> None:
        c = self.station(station_id).connector(connector_id)
        if c.transaction_id == transaction_id:
            return  # a replay
        c.transaction_id, c.id_tag, c.started = transaction_id, id_tag, started
        c.energy_wh, c.charging_s, c.charging_since = 0.0, 0.0, None
        self._update_clock(c)
        self.wake.set()

    def meter_values(
        self, station_id: str, connector_id: int, transaction_id: int | None, energy_wh: float | None,
        current_a: Phases | None, power_w: float | None = None, soc_percent: float | None = None,
        offered_a: float | None = None,
    ) -> None:
        c = self.station(station_id).connector(connector_id)
        if energy_wh is not None and (transaction_id is None or transaction_id == c.transaction_id):
            c.energy_wh = energy_wh
        if current_a is not None:
            c.current_a = current_a
        c.power_w, c.soc_percent, c.offered_a = power_w, soc_percent, offered_a
        self._update_clock(c)
        # No wake-up: a car's reading is not a safety event, and hundreds of
        # stations reporting would run cycles back to back. The next cycle (a
        # meter sample, a status, or the periodic one) uses it.

    def transaction_stopped(self, station_id: str, connector_id: int, transaction_id: int) -> None:
        s = self.station(station_id)
        for c in s.connectors.values():
            if c.transaction_id == transaction_id:
                _stop_clock(c, self._now())
                c.transaction_id, c.id_tag, c.started, c.energy_wh = None, None, None, 0.0
                c.current_a = None
                self.wake.set()

    # --- MeterObserver ---
    def meter_reading(self, meter_id: str, reading: MeterReading) -> None:
        self._meters[meter_id] = reading
        self.wake.set()

    def meter_failed(self, meter_id: str, error: str) -> None:
        if self._meters.pop(meter_id, None) is not None:
            self.wake.set()

    # --- InputObserver ---
    def digital_input(self, channel: int, active: bool) -> None:
        if self._inputs.get(channel) != active:
            self._inputs[channel] = active
            self.wake.set()

    def _update_clock(self, c: _Connector) -> None:
        drawing = c.current_a is None or max(c.current_a) > CHARGING_THRESHOLD_A
        charging = c.transaction_id is not None and c.status == "Charging" and drawing
        now = self._now()
        if charging and c.charging_since is None:
            c.charging_since = now
        elif not charging:
            _stop_clock(c, now)


def _observe(s: _Station) -> StationObservation:
    # Positional arguments and no helper call per connector: a zone step
    # rebuilds the stations that reported since the last cycle.
    connectors = {}
    for cid, c in s.connectors.items():
        tx = c.transaction_id
        connectors[cid] = ConnectorObservation(
            c.status, c.id_tag, tx, c.started, c.energy_wh, None if tx is None else c.charging_s, c.current_a, None,
            None if tx is None else c.charging_since,
        )
    return StationObservation(True, connectors)


def _stop_clock(c: _Connector, now: datetime) -> None:
    if c.charging_since is not None:
        c.charging_s += max(0.0, (now - c.charging_since).total_seconds())
        c.charging_since = None

