"""Writes planned charging profiles to the stations, safely.

Rules:
- decreases first: every decrease of the cycle goes out at once (concurrently,
  one call in flight per station), and only when they are all answered do the
  increases go out — and not in a zone where a decrease failed, because the
  current it was to free is not free;
- one call in flight per station (the OCPP adapter serialises; here each
  station's commands of a phase are sent in order by one task);
- a failed call (timeout, not connected, CALLERROR, Rejected) is retried on a
  later cycle, after a back-off that doubles up to MAX_BACKOFF_S: never a
  tight loop. A station in back-off keeps what it has: its live lease runs
  out by itself and its fallback applies;
- what a station acknowledged is remembered per connection epoch: after a
  reconnection it is forgotten, so the fallback is written again;
- applies may overlap: the loop plans the next cycle as soon as the last
  one's decreases are answered and its increases handed out (`settled`),
  while stations are still answering those increases. Planning counts what
  is in flight as if acknowledged, so nothing is sent twice, and a failed
  call leaves the acknowledged value in place, so the next plan sends it
  again. Should a newer apply start while an older one still waits for its
  decreases (a direct `apply` call), the older one's increases are dropped:
  an old increase must never land after a newer decrease.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from edgectl.clock import Clock
from edgectl.core.enforcement import Applied, ProfileCommand, ProfileKind
from edgectl.core.topology import ConnectorKey, Topology
from edgectl.ports import (
    CallRejectedError,
    CallTimeoutError,
    EncodedPayload,
    StationCalls,
    StationNotConnectedError,
)

log = structlog.get_logger("edgectl.control.apply")

NOTHING_ACKNOWLEDGED = Applied()


def _nothing() -> None:
    pass


FIRST_BACKOFF_S = 2.0
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True, slots=True)
class ApplyReport:
    sent: int
    accepted: int
    failed: int
    held: int  # increases held back because a decrease in their zone failed
    rejected: tuple[tuple[str, int, str], ...]  # (station, connector, status or error)
    # Monotonic time the last command was handed to its station's connection
    # (which writes it to the socket before its first await): the reaction
    # time the benchmark and the logs report. None when nothing was sent.
    last_dispatch_s: float | None = None
    superseded: int = 0  # increases dropped because a newer apply started meanwhile
    dispatch_s: tuple[float, ...] = ()  # per pass (decreases, increases): how long handing out took


@dataclass(slots=True)
class _Stamps:
    """When one apply handed its commands out (for its ApplyReport)."""

    last_s: float | None = None  # monotonic: the last command handed to its station
    passes_s: list[float] = field(default_factory=list)  # each single-command pass: how long it took


class ProfileApplier:
    def __init__(
        self,
        calls: StationCalls,
        clock: Clock,
        epoch: Callable[[str], int],
        timeout_s: float,
        on_rejected: Callable[[str, int, str], None] | None = None,
    ) -> None:
        self._calls = calls
        self._clock = clock
        self._epoch = epoch
        self._timeout_s = timeout_s
        self._on_rejected = on_rejected
        self._applied: dict[ConnectorKey, tuple[int, Applied]] = {}
        self._backoff: dict[str, tuple[datetime, float]] = {}  # station -> (retry after, current back-off)
        self._inflight: dict[ConnectorKey, tuple[int, Applied, object]] = {}  # sent, not answered yet
        self._generation = 0
        # Set when the newest apply is past its decreases (all answered, its
        # increases handed out): the loop plans the next cycle only then, so
        # a newer plan never starves the increases of an older one.
        self.settled = asyncio.Event()
        self.settled.set()

    def applied(self) -> Mapping[ConnectorKey, Applied]:
        """What each connector's station acknowledged in its current connection."""
        return {key: a for key, (ep, a) in self._applied.items() if ep == self._epoch(key[0])}

    def planning_base(self) -> Mapping[ConnectorKey, Applied]:
        """What to plan against: acknowledged, overlaid with what is on its way."""
        epoch = self._epoch
        base = {key: a for key, (ep, a) in self._applied.items() if ep == epoch(key[0])}
        for key, (ep, applied, _token) in self._inflight.items():
            if ep == epoch(key[0]):
                base[key] = applied
        return base

    def in_backoff(self, station_id: str) -> bool:
        until = self._backoff.get(station_id)
        return until is not None and self._clock.now() < until[0]

    async def apply(
        self, topology: Topology, commands: list[ProfileCommand], dispatched: Callable[[], None] | None = None
    ) -> ApplyReport:
        """Send the commands (decreases first); `dispatched` is called once
        the first batch is written, before anything is awaited."""
        self._generation += 1
        generation = self._generation
        self.settled.clear()
        try:
            return await self._apply(topology, commands, generation, dispatched or _nothing)
        finally:
            if generation == self._generation:
                self.settled.set()

    async def _apply(
        self, topology: Topology, commands: list[ProfileCommand], generation: int, dispatched: Callable[[], None]
    ) -> ApplyReport:
        stamps = _Stamps()  # this apply's own: applies may overlap
        if self._backoff:
            now = self._clock.now()
            backing_off = {sid for sid, (until, _b) in self._backoff.items() if now < until}
            commands = [c for c in commands if c.station not in backing_off]
        decreases = [c for c in commands if c.decrease]
        increases = [c for c in commands if not c.decrease]
        # With no decreases the increases go out in the same synchronous stretch.
        results_down = await self._send_all(decreases, stamps, dispatched if decreases else _nothing)
        failed_zones: set[int] = set()
        zone_path = {spec.key: spec.path for spec in topology.connectors}
        for cmd, ok in results_down:
            if not ok:
                failed_zones.update(zone_path.get((cmd.station, cmd.connector), ()))
        allowed = [c for c in increases if not failed_zones.intersection(zone_path.get((c.station, c.connector), ()))]
        held = len(increases) - len(allowed)
        superseded = 0
        if generation != self._generation:
            # A newer plan exists: it decides these increases (sending them now
            # could land an old increase after a newer decrease).
            superseded, allowed = len(allowed), []
        if generation == self._generation:
            # Set now: the waiting loop resumes after the increases below have been handed out.
            self.settled.set()
        results_up = await self._send_all(allowed, stamps, dispatched)
        results = results_down + results_up
        accepted = sum(1 for _c, ok in results if ok)
        rejected = tuple((c.station, c.connector, "failed") for c, ok in results if not ok)
        if held:
            log.warning("profiles.held", held=held, failed_zones=len(failed_zones))
        return ApplyReport(
            len(results), accepted, len(results) - accepted, held, rejected, stamps.last_s, superseded,
            tuple(stamps.passes_s),
        )

    async def _send_all(
        self, commands: list[ProfileCommand], stamps: _Stamps, dispatched: Callable[[], None]
    ) -> list[tuple[ProfileCommand, bool]]:
        by_station: dict[str, list[ProfileCommand]] = {}
        for c in commands:
            by_station.setdefault(c.station, []).append(c)
        if not by_station:
            dispatched()
            return []
        # A station with one command (the usual case: a new setpoint) gets it
        # from this loop at once, no task each: a zone step reaches a thousand
        # stations in one pass. A station with several (a fresh connection's
        # fallback and live profile) gets a task that sends them in order.
        queued = [
            asyncio.get_running_loop().create_task(self._send_station(sid, cmds, stamps), name=f"control.apply:{sid}")
            for sid, cmds in by_station.items()
            if len(cmds) > 1
        ]
        started = [(cmd, self._begin(cmd)) for (cmd,) in (cmds for cmds in by_station.values() if len(cmds) == 1)]
        first_s = self._clock.monotonic()
        answers = [self._calls.start_call(cmd.station, *self._request(cmd), self._timeout_s) for cmd, _ in started]
        if answers:
            stamps.last_s = self._clock.monotonic()
            stamps.passes_s.append(stamps.last_s - first_s)
        dispatched()
        out: list[tuple[ProfileCommand, bool]] = []
        for (cmd, begun), answer in zip(started, await asyncio.gather(*answers, return_exceptions=True), strict=True):
            out.append((cmd, self._judge(cmd, begun, answer)))
        for station_results in await asyncio.gather(*queued):
            out.extend(station_results)
        return out

    async def _send_station(
        self, station_id: str, commands: list[ProfileCommand], stamps: _Stamps
    ) -> list[tuple[ProfileCommand, bool]]:
        out: list[tuple[ProfileCommand, bool]] = []
        for i, cmd in enumerate(commands):
            ok = await self._send(cmd, stamps)
            out.append((cmd, ok))
            if not ok and self.in_backoff(station_id):
                # The station is not answering: do not queue more behind a timeout.
                out.extend((c, False) for c in commands[i + 1 :])
                break
        return out

    async def _send(self, cmd: ProfileCommand, stamps: _Stamps) -> bool:
        begun = self._begin(cmd)
        stamps.last_s = self._clock.monotonic()
        try:
            answer: dict[str, Any] | BaseException = await self._calls.start_call(
                cmd.station, *self._request(cmd), self._timeout_s
            )
        except (CallTimeoutError, StationNotConnectedError, CallRejectedError) as exc:
            answer = exc
        return self._judge(cmd, begun, answer)

    def _begin(self, cmd: ProfileCommand) -> tuple[int, object]:
        """Count the command as planned from now on (in flight); (epoch, token)."""
        key = (cmd.station, cmd.connector)
        epoch = self._epoch(cmd.station)
        token = object()
        pending = self._inflight.get(key)
        ahead = pending[1] if pending is not None and pending[0] == epoch else self._base(key, epoch)
        self._inflight[key] = (epoch, self._after(ahead, cmd), token)
        return epoch, token

    @staticmethod
    def _request(cmd: ProfileCommand) -> tuple[str, dict[str, Any] | EncodedPayload]:
        if cmd.kind is ProfileKind.CLEAR_LIVE:
            return "ClearChargingProfile", {"id": cmd.profile_id}
        return "SetChargingProfile", EncodedPayload(cmd.payload_json())

    def _judge(self, cmd: ProfileCommand, begun: tuple[int, object], answer: dict[str, Any] | BaseException) -> bool:
        """Book the station's answer (or the error instead of one); True when it took the command."""
        key = (cmd.station, cmd.connector)
        epoch, token = begun
        if self._inflight.get(key, (0, None, None))[2] is token:
            del self._inflight[key]
        if isinstance(answer, CallTimeoutError | StationNotConnectedError):
            status, ok = type(answer).__name__, False
        elif isinstance(answer, CallRejectedError):
            status, ok = answer.code, False
        elif isinstance(answer, BaseException):
            raise answer  # not a station's doing: a bug, let the loop fail loudly
        else:
            status = str(answer.get("status", ""))
            # ClearChargingProfile's Unknown: the live profile had already lapsed.
            ok = status in ("Accepted", "Unknown") if cmd.kind is ProfileKind.CLEAR_LIVE else status == "Accepted"
        if not ok:
            self._fail(cmd, status)
            return False
        self._backoff.pop(cmd.station, None)
        self._applied[key] = (epoch, self._after(self._base(key, epoch), cmd))
        return True

    def _base(self, key: ConnectorKey, epoch: int) -> Applied:
        known = self._applied.get(key)
        return known[1] if known is not None and known[0] == epoch else NOTHING_ACKNOWLEDGED

    @staticmethod
    def _after(previous: Applied, cmd: ProfileCommand) -> Applied:
        """The connector's state once the station accepted `cmd`."""
        if cmd.kind is ProfileKind.FALLBACK:
            return Applied(cmd.limit_a, previous.live_a, previous.live_valid_to, previous.live_transaction_id)
        if cmd.kind is ProfileKind.LIVE:
            return Applied(previous.fallback_a, cmd.limit_a, cmd.valid_to, cmd.transaction_id)
        return Applied(previous.fallback_a, None, None, None)

    def _fail(self, cmd: ProfileCommand, status: str) -> None:
        now = self._clock.now()
        _until, backoff = self._backoff.get(cmd.station, (now, FIRST_BACKOFF_S / 2))
        backoff = min(MAX_BACKOFF_S, backoff * 2)
        self._backoff[cmd.station] = (now + timedelta(seconds=backoff), backoff)
        log.warning(
            "profile.failed", station_id=cmd.station, connector_id=cmd.connector, kind=cmd.kind.value,
            limit_a=cmd.limit_a, status=status, retry_in_s=backoff,
        )
        if status in ("Rejected", "NotSupported") and self._on_rejected is not None:
            self._on_rejected(cmd.station, cmd.connector, status)
