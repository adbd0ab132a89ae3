"""Keeping CPython's cyclic garbage collector out of the reaction path.

Why: a box with a thousand stations holds a large heap that lives as long as
the stations stay connected (sockets, connection state, sessions). A full
(generation 2) collection walks all of it with the event loop stopped:
40–70 ms each, every few seconds under load, and it finds almost nothing
(measured with 1,000 stations, docs/performance.md). A zone step or a meter
sample that lands on one is late by that much.

The policy:
- everything built during start-up is frozen (`gc.freeze`, the supervisor
  does it once);
- when a full collection finishes, whatever survived it is long-lived: it
  is frozen right after, so the next full collection walks only what came
  later (a few ms instead of tens);
- every `thaw_s` the frozen part is thawed, collected once and frozen again,
  so reference cycles among objects that died after they were frozen (a
  closed connection's) are reclaimed: one full pause per period, logged.

Reference counting frees everything that is not in a cycle at once, frozen
or not; only cyclic garbage waits for the thaw.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import structlog

log = structlog.get_logger("edgectl.gc")

THAW_S = 900.0


class CollectorPolicy:
    """A service: installs the freeze-after-full-collection hook and thaws periodically."""

    name = "gc.policy"

    def __init__(self, thaw_s: float = THAW_S) -> None:
        # Real time, not the site clock: this is about the CPU the process
        # spends, and a test's fake clock would thaw in a tight loop.
        self._thaw_s = thaw_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._freeze_queued = False
        self.freezes = 0  # after full collections
        self.thaws = 0
        self.longest_full_ms = 0.0  # the longest full collection since the last thaw (the thaw's own excluded)
        self._full_started: float | None = None

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        # Runs inside the collector, in whichever thread allocated (the store
        # has its own): only queue the freeze for the event loop.
        if info.get("generation") != 2 or self._loop is None:
            return
        if phase == "start":
            self._full_started = time.perf_counter()
            return
        if self._full_started is not None:
            self.longest_full_ms = max(self.longest_full_ms, (time.perf_counter() - self._full_started) * 1000)
            self._full_started = None
        if self._freeze_queued:
            return
        self._freeze_queued = True
        self._loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._freeze_queued = False
        gc.freeze()
        self.freezes += 1

    def thaw(self) -> tuple[int, float]:
        """Thaw, collect everything once, freeze again: (objects collected, pause in ms)."""
        started = time.perf_counter()
        gc.unfreeze()
        loop, self._loop = self._loop, None  # not a full collection to count or freeze after
        try:
            collected = gc.collect()
        finally:
            self._loop = loop
        gc.freeze()
        self.thaws += 1
        return collected, (time.perf_counter() - started) * 1000

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        gc.callbacks.append(self._on_collection)
        try:
            while True:
                await asyncio.sleep(self._thaw_s)
                collected, pause_ms = self.thaw()
                log.info(
                    "gc.thawed", collected=collected, pause_ms=round(pause_ms, 1), frozen=gc.get_freeze_count(),
                    freezes_after_full=self.freezes, longest_full_ms=round(self.longest_full_ms, 1),
                )
                self.longest_full_ms = 0.0
        finally:
            gc.callbacks.remove(self._on_collection)


class CollectorHold:
    """Holds the cyclic collector off from `hold()` until `release()`.

    For the control loop's plan-and-dispatch stretch (synchronous from the
    snapshot to the last profile written): it allocates tens of thousands of
    short-lived objects (results, commands, frames, futures), and the
    collections they would trigger cost about as much as the writing itself
    at a thousand stations. Deferred, the collector runs once the profiles
    are out. Released before anything awaits a station's answer; releasing
    twice is harmless."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = False

    def hold(self) -> CollectorHold:
        if gc.isenabled():
            gc.disable()
            self._held = True
        return self

    def release(self) -> None:
        if self._held:
            self._held = False
            gc.enable()
