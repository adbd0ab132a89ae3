"""When an alarm is raised and cleared: pure rules, fed facts and times.

No I/O, no clock reads: every method takes `now_s` (a monotonic reading the
caller made) and returns transitions, `Raise` or `Clear`. The rules keep
only the timing they need (since when a station is away, a meter failing, a
connector over its setpoint); whether an alarm is active is the caller's
business, so a rule may say `Clear` for a key that is not active (a no-op).

Kinds and their rules:
- station_offline: a registered station away (disconnected, or never
  connected since start) for `offline_grace_s`; cleared on reconnection.
- meter_unreachable: a meter failing continuously for `meter_grace_s` (the
  pollers report every failed poll); cleared by its next good reading.
- connector_faulted: a StatusNotification Faulted, code = the OCPP error
  code (connector 0: the station); cleared by any other status.
- setpoint_not_respected: a connector drawing more than its setpoint plus
  `tolerance_a` on any phase for longer than `reaction_window_s` (an EV
  needs a few seconds to follow a lower limit); cleared once it draws within
  the tolerance again or has nothing to draw. Without a current reading the
  rule cannot judge: it forgets the timing and clears nothing.
- profile_rejected: a charging profile the station rejected; cleared when the
  station reconnects (it is set up and sent its profiles afresh) — or by an
  operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from edgectl.core.result import Allocation, ConnectorState
from edgectl.core.snapshot import Snapshot


class AlarmKind(StrEnum):
    STATION_OFFLINE = "station_offline"
    METER_UNREACHABLE = "meter_unreachable"
    CONNECTOR_FAULTED = "connector_faulted"
    SETPOINT_NOT_RESPECTED = "setpoint_not_respected"
    PROFILE_REJECTED = "profile_rejected"


@dataclass(frozen=True, slots=True)
class AlarmKey:
    kind: AlarmKind
    source: str  # station identity or meter id
    connector: int = 0


@dataclass(frozen=True, slots=True)
class Raise:
    key: AlarmKey
    message: str
    code: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Clear:
    key: AlarmKey
    reason: str


Transition = Raise | Clear


class GraceWatch:
    """Names whose bad condition has lasted `grace_s`; each reported once per episode."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self._since: dict[str, float] = {}
        self._reported: set[str] = set()

    def bad(self, name: str, now_s: float) -> None:
        self._since.setdefault(name, now_s)

    def good(self, name: str) -> None:
        self._since.pop(name, None)
        self._reported.discard(name)

    def watching(self) -> list[str]:
        return sorted(self._since)

    def since(self, name: str) -> float | None:
        return self._since.get(name)

    def due(self, now_s: float) -> list[str]:
        names = [n for n, t in self._since.items() if now_s - t >= self.grace_s and n not in self._reported]
        self._reported.update(names)
        return sorted(names)


class AlarmRules:
    def __init__(
        self,
        *,
        offline_grace_s: float = 60.0,
        meter_grace_s: float = 10.0,
        tolerance_a: float = 2.0,
        reaction_window_s: float = 30.0,
    ) -> None:
        self.tolerance_a = tolerance_a
        self.reaction_window_s = reaction_window_s
        self._offline = GraceWatch(offline_grace_s)
        self._meters = GraceWatch(meter_grace_s)
        self._errors: dict[str, str] = {}  # meter -> last error
        self._connected: set[str] = set()
        self._over_since: dict[tuple[str, int], float] = {}
        self._over_reported: set[tuple[str, int]] = set()
        self._rejected: set[tuple[str, int]] = set()

    # --- stations -------------------------------------------------------------

    def station_connected(self, station_id: str) -> list[Transition]:
        self._connected.add(station_id)
        self._offline.good(station_id)
        out: list[Transition] = [Clear(AlarmKey(AlarmKind.STATION_OFFLINE, station_id), "reconnected")]
        for sid, cid in sorted(k for k in self._rejected if k[0] == station_id):
            self._rejected.discard((sid, cid))
            out.append(Clear(AlarmKey(AlarmKind.PROFILE_REJECTED, sid, cid), "reconnected"))
        return out

    def station_disconnected(self, station_id: str, now_s: float) -> list[Transition]:
        self._connected.discard(station_id)
        self._offline.bad(station_id, now_s)
        return []

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> list[Transition]:
        key = AlarmKey(AlarmKind.CONNECTOR_FAULTED, station_id, connector_id)
        if status == "Faulted":
            where = "station" if connector_id == 0 else f"connector {connector_id}"
            return [Raise(key, f"{station_id} {where} faulted: {error_code}", code=error_code)]
        return [Clear(key, f"status {status}")]

    def profile_rejected(self, station_id: str, connector_id: int, why: str) -> list[Transition]:
        self._rejected.add((station_id, connector_id))
        key = AlarmKey(AlarmKind.PROFILE_REJECTED, station_id, connector_id)
        return [Raise(key, f"{station_id} connector {connector_id} rejected its charging profile: {why}", code=why)]

    # --- meters ---------------------------------------------------------------

    def meter_failed(self, meter_id: str, error: str, now_s: float) -> list[Transition]:
        self._errors[meter_id] = error
        self._meters.bad(meter_id, now_s)
        return self._meters_due(now_s)

    def meter_ok(self, meter_id: str) -> list[Transition]:
        self._meters.good(meter_id)
        return [Clear(AlarmKey(AlarmKind.METER_UNREACHABLE, meter_id), "reading again")]

    def _meters_due(self, now_s: float) -> list[Transition]:
        return [
            Raise(
                AlarmKey(AlarmKind.METER_UNREACHABLE, m),
                f"meter {m} unreachable: {self._errors.get(m, '')}",
                details={"error": self._errors.get(m)},
            )
            for m in self._meters.due(now_s)
        ]

    # --- time passing -----------------------------------------------------------

    def tick(self, now_s: float, registered: Iterable[str]) -> list[Transition]:
        """Grace periods that ran out; a registered station never seen counts as away from now."""
        registered = set(registered)
        out: list[Transition] = []
        for sid in sorted(registered - self._connected):
            if self._offline.since(sid) is None:
                self._offline.bad(sid, now_s)
        for sid in [s for s in self._offline.watching() if s not in registered]:
            self._offline.good(sid)  # removed from the site: nothing to watch
            out.append(Clear(AlarmKey(AlarmKind.STATION_OFFLINE, sid), "no longer in the site"))
        for sid in self._offline.due(now_s):
            away = now_s - (self._offline.since(sid) or now_s)
            out.append(Raise(AlarmKey(AlarmKind.STATION_OFFLINE, sid), f"{sid} offline", details={"away_s": away}))
        return out + self._meters_due(now_s)

    # --- each control cycle -------------------------------------------------------

    def cycle(self, now_s: float, allocation: Allocation, snapshot: Snapshot) -> list[Transition]:
        out: list[Transition] = []
        for c in allocation.connectors:
            key = (c.station, c.connector)
            alarm = AlarmKey(AlarmKind.SETPOINT_NOT_RESPECTED, c.station, c.connector)
            if c.state not in (ConnectorState.CHARGING, ConnectorState.SUSPENDED):
                self._forget(key)
                out.append(Clear(alarm, f"connector {c.state.value}"))
                continue
            station = snapshot.stations.get(c.station)
            obs = station.connectors.get(c.connector) if station is not None else None
            measured = obs.current_a if obs is not None else None
            if measured is None:
                self._forget(key)
                continue
            excess = max(measured) - c.setpoint_a
            if excess <= self.tolerance_a:
                self._forget(key)
                out.append(Clear(alarm, "within its setpoint"))
                continue
            since = self._over_since.setdefault(key, now_s)
            if now_s - since >= self.reaction_window_s and key not in self._over_reported:
                self._over_reported.add(key)
                out.append(
                    Raise(
                        alarm,
                        f"{c.station} connector {c.connector} draws {max(measured):.1f} A"
                        f" over its setpoint of {c.setpoint_a} A",
                        details={
                            "setpoint_a": c.setpoint_a,
                            "measured_a": [round(v, 2) for v in measured],
                            "over_for_s": round(now_s - since, 1),
                        },
                    )
                )
        return out

    def _forget(self, key: tuple[str, int]) -> None:
        self._over_since.pop(key, None)
        self._over_reported.discard(key)
