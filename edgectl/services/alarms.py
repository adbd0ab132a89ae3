"""Alarms: the hooks the adapters and the control loop call, and the store.

`AlarmMonitor` is the I/O shell around the pure `AlarmRules`:
- its hooks are synchronous and cheap (they run inside OCPP handlers, meter
  pollers and the control loop): a fact goes through the rules, and the
  transitions that change something are queued — a `Clear` for a key that
  is not active, or a `Raise` for one that is, is dropped right there, so a
  good reading every poll costs no I/O;
- `process()` writes the queued transitions in order (store, event log,
  `alarm.raised` / `alarm.cleared` events) and runs the grace-period timers;
  `run()` (the "alarms" service) calls it whenever something is queued and
  every `tick_s` otherwise;
- `load()` reads the active alarms first (call it before the OCPP server
  starts), so an alarm raised before a restart clears like any other;
- an operator clears an alarm by id with `clear(alarm_id, actor)`; who did is
  stored and logged. If the condition persists it is not raised again until
  it has gone away once (the operator acknowledged it).

Implements the station-observer hooks (tee it with the control loop's
observer), `meter_failed` / `meter_reading` (the pollers' failure and
reading hooks), `profile_rejected` (ControlLoop's `on_rejected`) and
`cycle(allocation, snapshot)` (each control cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from edgectl.adapters.store import Alarm, AlarmQuery, Event, EventType, Store
from edgectl.clock import Clock
from edgectl.core.phases import Phases
from edgectl.core.result import Allocation
from edgectl.core.site import Site
from edgectl.core.snapshot import MeterReading, Snapshot
from edgectl.services.alarm_rules import AlarmKey, AlarmKind, AlarmRules, Clear, Raise, Transition

log = structlog.get_logger(__name__)


def _key(alarm: Alarm) -> AlarmKey | None:
    try:
        return AlarmKey(AlarmKind(alarm.kind), alarm.source, alarm.connector_id)
    except ValueError:
        return None  # a kind from a newer release: leave it to the operator


def alarm_dict(a: Alarm) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "source": a.source, "connector": a.connector_id, "code": a.code,
        "message": a.message, "details": dict(a.details), "active": a.active,
        "raised_at": None if a.raised_at is None else a.raised_at.isoformat(),
        "cleared_at": None if a.cleared_at is None else a.cleared_at.isoformat(),
        "cleared_by": a.cleared_by,
    }


class AlarmMonitor:
    name = "alarms"

    def __init__(
        self,
        store: Store,
        clock: Clock,
        site: Callable[[], Site],
        rules: AlarmRules | None = None,
        *,
        tick_s: float = 5.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._site = site
        self.rules = rules or AlarmRules()
        self._tick_s = tick_s
        self._queue: deque[Transition] = deque()
        self._expected: set[AlarmKey] = set()  # active in the store, or queued to be
        self._wake = asyncio.Event()
        self._loaded = False

    # --- start-up -----------------------------------------------------------------

    async def load(self) -> None:
        for alarm in await self._store.alarms.active():
            key = _key(alarm)
            if key is not None:
                self._expected.add(key)
        self._loaded = True

    # --- StationObserver -------------------------------------------------------------

    def station_connected(self, station_id: str) -> None:
        self._push(self.rules.station_connected(station_id))

    def station_disconnected(self, station_id: str) -> None:
        self._push(self.rules.station_disconnected(station_id, self._clock.monotonic()))

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str = "NoError") -> None:
        self._push(self.rules.connector_status(station_id, connector_id, status, error_code))

    def transaction_started(
        self, station_id: str, connector_id: int, transaction_id: int, id_tag: str, started: datetime,
        meter_start_wh: float,
    ) -> None:
        pass  # no alarm depends on it

    def meter_values(
        self, station_id: str, connector_id: int, transaction_id: int | None, energy_wh: float | None,
        current_a: Phases | None, power_w: float | None = None, soc_percent: float | None = None,
        offered_a: float | None = None,
    ) -> None:
        pass  # the setpoint rule reads currents from the cycle's snapshot instead

    def transaction_stopped(self, station_id: str, connector_id: int, transaction_id: int) -> None:
        pass

    # --- meters, control loop -------------------------------------------------------

    def meter_failed(self, meter_id: str, error: str) -> None:
        self._push(self.rules.meter_failed(meter_id, error, self._clock.monotonic()))

    def meter_reading(self, meter_id: str, reading: MeterReading) -> None:
        self._push(self.rules.meter_ok(meter_id))

    def profile_rejected(self, station_id: str, connector_id: int, why: str) -> None:
        self._push(self.rules.profile_rejected(station_id, connector_id, why))

    def cycle(self, allocation: Allocation, snapshot: Snapshot) -> None:
        self._push(self.rules.cycle(self._clock.monotonic(), allocation, snapshot))

    # --- the queue ------------------------------------------------------------------

    def _push(self, transitions: list[Transition]) -> None:
        for t in transitions:
            if isinstance(t, Raise):
                if t.key in self._expected:
                    continue
                self._expected.add(t.key)
            else:
                if t.key not in self._expected:
                    continue
                self._expected.discard(t.key)
            self._queue.append(t)
            self._wake.set()

    async def process(self) -> None:
        """Run the timers, then write every queued transition."""
        registered = [s.id for s in self._site().stations]
        self._push(self.rules.tick(self._clock.monotonic(), registered))
        self._wake.clear()
        while self._queue:
            transition = self._queue.popleft()
            try:
                await self._write(transition)
            except Exception:
                # A failed write must not stop alarm handling; the alarm is lost
                # once (logged), the next change of its condition tries again.
                log.exception("alarm.write_failed", kind=transition.key.kind.value, source=transition.key.source)

    async def run(self) -> None:
        if not self._loaded:
            await self.load()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick_s):
                    await self._wake.wait()
            await self.process()

    async def _write(self, t: Transition) -> None:
        k = t.key
        if isinstance(t, Raise):
            alarm, new = await self._store.alarms.raise_alarm(
                Alarm(k.kind.value, k.source, k.connector, code=t.code, message=t.message, details=t.details)
            )
            if new:
                log.warning("alarm.raised", kind=k.kind.value, source=k.source, connector=k.connector, code=t.code,
                            alarm_id=alarm.id)
                await self._event(alarm, f"alarm raised: {t.message}", {"alarm_id": alarm.id, "kind": k.kind.value,
                                                                          "code": t.code, **dict(t.details)})
            return
        assert isinstance(t, Clear)
        cleared = await self._store.alarms.clear(k.kind.value, k.source, k.connector, by="system")
        if cleared is not None:
            log.info("alarm.cleared", kind=k.kind.value, source=k.source, connector=k.connector, reason=t.reason,
                     alarm_id=cleared.id, by="system")
            await self._event(cleared, f"alarm cleared: {cleared.message} ({t.reason})",
                              {"alarm_id": cleared.id, "kind": k.kind.value, "by": "system", "reason": t.reason})

    async def _event(self, alarm: Alarm, message: str, details: dict[str, Any]) -> None:
        await self._store.events.append(Event(EventType.SYSTEM, message, source=alarm.source, details=details))

    # --- for the web/API ---------------------------------------------------------------

    async def active(self, source: str | None = None) -> list[Alarm]:
        return await self._store.alarms.active(source)

    async def history(self, query: AlarmQuery | None = None) -> list[Alarm]:
        return await self._store.alarms.query(query)

    async def clear(self, alarm_id: int, actor: str) -> Alarm | None:
        """An operator clears an active alarm; None when it is unknown or already cleared."""
        if not actor.strip():
            raise ValueError("who clears the alarm (actor) is required")
        cleared = await self._store.alarms.clear_id(alarm_id, by=actor)
        if cleared is None:
            return None
        key = _key(cleared)
        if key is not None:
            self._expected.discard(key)
        log.info("alarm.cleared", kind=cleared.kind, source=cleared.source, connector=cleared.connector_id,
                 alarm_id=alarm_id, by=actor)
        await self._event(cleared, f"alarm cleared by {actor}: {cleared.message}",
                          {"alarm_id": alarm_id, "kind": cleared.kind, "by": actor})
        return cleared
