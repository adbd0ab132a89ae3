"""Many simulated stations in one process.

Rules:
- `Fleet.from_count` makes N stations of one model named <prefix><nnn>;
  `Fleet.from_site_file` makes the stations of an installer's site file
  (SPEC §8: [[stations]] id, model, connectors with id, max_current and
  wiring; TRI* wiring = three station-side phases, MONO* = one).
- All stations share one SimClock; start() staggers the connections a
  little (`stagger_s` real seconds per station) so the server sees a
  realistic burst, not one instant.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulators.station.clock import SimClock
from simulators.station.connector import Connector
from simulators.station.station import SimStation


class Fleet:
    def __init__(self, stations: Iterable[SimStation]) -> None:
        self.stations = {s.identity: s for s in stations}

    @classmethod
    def from_count(
        cls, count: int, url: str, model: str = "generic_ac", prefix: str = "SIM", connectors: int = 2,
        max_current_a: float = 32.0, clock: SimClock | None = None, **kwargs: Any,
    ) -> Fleet:
        clock = clock or SimClock()
        width = max(3, len(str(count)))
        return cls(
            SimStation(
                f"{prefix}{i:0{width}d}", model,
                [Connector(c, max_current_a=max_current_a) for c in range(1, connectors + 1)],
                url, clock=clock, **kwargs,
            )
            for i in range(1, count + 1)
        )

    @classmethod
    def from_site_file(cls, path: str | Path, url: str, clock: SimClock | None = None, **kwargs: Any) -> Fleet:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        clock = clock or SimClock()
        stations = []
        for entry in data.get("stations", []):
            connectors = [
                Connector(
                    int(c["id"]),
                    max_current_a=float(c.get("max_current", 32)),
                    phases=1 if str(c.get("wiring", "TRI123")).upper().startswith("MONO") else 3,
                )
                for c in entry.get("connectors", [{"id": 1}])
            ]
            stations.append(
                SimStation(entry["id"], entry.get("model", "generic_ac"), connectors, url, clock=clock,
                           serial=entry.get("serial"), **kwargs)
            )
        return cls(stations)

    async def start(self, stagger_s: float = 0.0) -> None:
        for st in self.stations.values():
            await st.start()
            if stagger_s:
                await asyncio.sleep(stagger_s)

    async def wait_ready(self, timeout_s: float = 60.0) -> float:
        """Wait until every station is booted; returns the real seconds it took."""
        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in self.stations.values())), timeout_s)
        return time.perf_counter() - t0

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.stations.values()), return_exceptions=True)

    def snapshot(self) -> dict[str, Any]:
        return {ident: describe(st) for ident, st in self.stations.items()}


def describe(st: SimStation) -> dict[str, Any]:
    """A JSON-able picture of one station (control API, logs)."""
    return {
        "online": st.online,
        "model": st.model.id,
        "queued": st.outbox.actions(),
        "connectors": {
            c.id: {
                "status": c.status(),
                "limit_a": st.effective_limit_a(c.id),
                "offered_a": c.offered_a,
                "current_a": list(c.phase_currents_a()),
                "energy_wh": round(c.meter_wh, 1),
                "soc": None if c.ev is None else round(c.ev.soc, 4),
                "transaction_id": None if c.tx is None else c.tx.transaction_id,
            }
            for c in st.connectors.values()
        },
    }
