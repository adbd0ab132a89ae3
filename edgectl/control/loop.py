"""The control loop: trigger → snapshot → decide (pure core) → apply → publish.

Rules (DESIGN "The control cycle"):
- a cycle runs when an observation wakes it, and at least every `cycle_s`;
  event-started cycles are at least `min_cycle_s` apart, and everything
  that arrives meanwhile is coalesced into one more cycle; the periodic
  cycles do not count, so an event after a quiet spell is planned at once;
- the decision is the same pure engine `edgectl plan` runs;
- applying never blocks on one dead station for long (timeouts, back-off, see
  apply.py); publishing is fire-and-forget callbacks;
- each completed cycle notifies liveness (the systemd watchdog);
- one structured `control.cycle` event per cycle at debug level, and info-level
  events only when a setpoint changes (`control.setpoints`) or profiles were
  sent (`control.applied`: when the cycle started, how long deciding took,
  when the last command was handed to its station, when all were answered).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from edgectl.clock import Clock
from edgectl.control.apply import ApplyReport, ProfileApplier
from edgectl.control.observations import SiteObservations
from edgectl.core.enforcement import plan_profiles
from edgectl.core.engine import allocate
from edgectl.core.result import Allocation
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import Topology
from edgectl.gcpolicy import CollectorHold
from edgectl.ports import StationCalls

log = structlog.get_logger("edgectl.control")

MAX_OVERLAP = 2  # cycles waiting for their stations' answers at once


@dataclass(frozen=True, slots=True)
class CycleResult:
    allocation: Allocation
    report: ApplyReport
    duration_s: float
    snapshot: Snapshot  # what the allocation was decided on (subscribers reuse it)


class ControlLoop:
    def __init__(
        self,
        topology: Callable[[], Topology],
        observations: SiteObservations,
        calls: StationCalls,
        clock: Clock,
        *,
        cycle_s: float = 2.0,
        min_cycle_s: float = 0.0,
        lease_s: int = 120,
        call_timeout_s: float = 10.0,
        params: AllocatorParams | None = None,
        on_rejected: Callable[[str, int, str], None] | None = None,
    ) -> None:
        self._topology = topology
        self._obs = observations
        self._calls = calls
        self._clock = clock
        self._cycle_s = cycle_s
        self._min_cycle_s = min_cycle_s
        self._lease_s = lease_s
        self._params = params or AllocatorParams()
        self._state = AllocatorState()
        self.applier = ProfileApplier(calls, clock, observations.epoch, call_timeout_s, on_rejected)
        self.last: CycleResult | None = None
        self.cycles = 0
        self._planned_seq = 0
        self._published_seq = 0
        self._subscribers: list[Callable[[CycleResult], None]] = []
        self._liveness: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[CycleResult], None]) -> None:
        self._subscribers.append(callback)

    def on_cycle_done(self, callback: Callable[[], None]) -> None:
        self._liveness.append(callback)

    async def run(self) -> None:
        # A cycle plans at once and then waits for its stations' answers. The
        # next trigger waits only for the last cycle's decreases to be answered
        # (its increases are out by then), not for every answer (a thousand
        # stations answer over hundreds of ms). At most MAX_OVERLAP cycles are
        # waiting for answers at a time.
        waiting: set[asyncio.Task[CycleResult]] = set()
        triggered = False  # the cycle about to start was asked for by an event
        event_cycle_started = float("-inf")
        try:
            while True:
                while len(waiting) >= MAX_OVERLAP:
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    self._reap(waiting)
                # The last cycle's decreases answered and increases handed out: only
                # then plan again (a newer plan would otherwise starve its increases).
                await self.applier.settled.wait()
                started = self._clock.monotonic()
                if triggered:
                    event_cycle_started = started
                self._obs.wake.clear()  # what arrives from here on is in this cycle's snapshot or wakes the next
                task = asyncio.get_running_loop().create_task(self.cycle(), name="control.cycle")
                waiting.add(task)
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that arrives as the event is set (shutdown would hang).
                triggered = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, self._cycle_s - (self._clock.monotonic() - started))):
                        await self._obs.wake.wait()
                        triggered = True
                self._reap(waiting)
                if triggered:
                    # Bursts coalesce: at most one event-started cycle per
                    # min_cycle_s, and what arrives meanwhile joins it. The
                    # periodic cycles do not count, so the first event after a
                    # quiet spell (a zone step, a car arriving) is planned at once.
                    spacing_s = self._min_cycle_s - (self._clock.monotonic() - event_cycle_started)
                    if spacing_s > 0:
                        await asyncio.sleep(spacing_s)
        finally:
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    @staticmethod
    def _reap(waiting: set[asyncio.Task[CycleResult]]) -> None:
        """Drop finished cycles; a cycle that failed fails the loop (the supervisor restarts it)."""
        for task in [t for t in waiting if t.done()]:
            waiting.discard(task)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def cycle(self) -> CycleResult:
        self._obs.wake.clear()
        self._planned_seq += 1
        seq = self._planned_seq
        started = self._clock.monotonic()
        # Synchronous from here to the last profile written (the applier
        # releases the hold then): no collector pass in between.
        hold = CollectorHold().hold()
        try:
            return await self._cycle(seq, started, hold)
        finally:
            hold.release()

    async def _cycle(self, seq: int, started: float, hold: CollectorHold) -> CycleResult:
        topology = self._topology()
        now = self._clock.now()
        snapshot = self._obs.snapshot(now)
        previous = self._state.setpoints
        allocation, self._state = allocate(topology, snapshot, self._state, self._params)
        connected = self._calls.connected().intersection(snapshot.stations)  # the snapshot's: the online ones
        commands = plan_profiles(
            topology, allocation, self.applier.planning_base(), self._obs.transactions(), connected, now, self._lease_s
        )
        planned = self._clock.monotonic()
        # Before the await: another cycle may plan (and replace the state) meanwhile.
        changed = {k: v for k, v in self._state.setpoints.items() if previous.get(k) != v}
        report = await self.applier.apply(topology, commands, dispatched=hold.release)
        result = CycleResult(allocation, report, self._clock.monotonic() - started, snapshot)
        if report.sent:
            # Monotonic stamps (CLOCK_MONOTONIC, shared by every process on the
            # box) so a benchmark can line them up with its own trigger.
            log.info(
                "control.applied", sent=report.sent, accepted=report.accepted, failed=report.failed,
                held=report.held, started_mono_s=round(started, 6),
                planned_ms=round((planned - started) * 1000, 2),
                last_dispatch_mono_s=None if report.last_dispatch_s is None else round(report.last_dispatch_s, 6),
                last_dispatch_ms=None if report.last_dispatch_s is None else round(
                    (report.last_dispatch_s - started) * 1000, 2),
                answered_ms=round(result.duration_s * 1000, 2),
                dispatch_ms=[round(d * 1000, 2) for d in report.dispatch_s],
            )
        self.cycles += 1
        stale = seq < self._published_seq  # a newer cycle finished first (overlapping applies)
        if not stale:
            self._published_seq = seq
            self.last = result
        if changed:
            log.info(
                "control.setpoints", changed=len(changed),
                setpoints={f"{s}/{c}": v for (s, c), v in sorted(changed.items())[:20]},
            )
        log.debug(
            "control.cycle", connectors=len(allocation.connectors), sent=report.sent, failed=report.failed,
            held=report.held, duration_ms=round(result.duration_s * 1000, 2),
        )
        if not stale:
            for callback in self._subscribers:
                callback(result)
        for ping in self._liveness:
            ping()
        return result
