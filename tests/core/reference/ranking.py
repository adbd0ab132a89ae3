"""Step 3's order: who is admitted first when there is not room for everyone.

- VIP (VIP station, or an authorized VIP card) before everyone else;
- then the shedding priority: *energy* = least energy delivered in this
  session first; *duration* = shortest charging time first (the effective
  charge duration when known, else the time since the session started);
- ties by (station id, connector id), so the order is total and deterministic.

The order is fixed at each rotation (every `rotation_minutes`) and carried in
`AllocatorState.ranking`, so a suspended car is not flapped in and out on
every cycle, yet gets its turn at the next rotation. A new arrival (a
connector missing from the stored order) makes everyone be ranked again at
once on their current values — so with energy priority the newcomer displaces
the connector that has taken the most — without restarting the rotation
period. Departures only remove their connector from the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edgectl.core.site import SheddingPriority, SiteSettings
from edgectl.core.snapshot import ConnectorObservation
from edgectl.core.state import AllocatorState

from .topology import ConnectorKey, ConnectorSpec


@dataclass(slots=True)  # not frozen: built per connector per cycle, and frozen init is slow
class Candidate:
    spec: ConnectorSpec
    obs: ConnectorObservation
    vip: bool
    min_a: int
    max_a: int  # connector max, or less when the car is known to take less
    car_limited: bool
    energy_wh: float
    duration_s: float


def _priority(c: Candidate, priority: SheddingPriority) -> tuple[float, str, int]:
    value = c.energy_wh if priority is SheddingPriority.ENERGY else c.duration_s
    return (value, c.spec.key[0], c.spec.key[1])


def rank(
    candidates: list[Candidate], state: AllocatorState, now: datetime, settings: SiteSettings
) -> tuple[list[Candidate], tuple[ConnectorKey, ...], datetime | None]:
    """(admission order, ranking to store, time of the last full re-ranking)."""
    priority = settings.shedding_priority
    rotation_s = settings.rotation_minutes * 60
    due = (
        state.ranked_at is None
        or now < state.ranked_at
        or (now - state.ranked_at).total_seconds() >= rotation_s
        or not state.ranking
    )
    known = set(state.ranking)
    arrival = any(c.spec.key not in known for c in candidates)
    ranked_at: datetime | None = now if due else state.ranked_at
    if due or arrival:
        ordered = sorted(candidates, key=lambda c: _priority(c, priority))
    else:
        by_key = {c.spec.key: c for c in candidates}
        ordered = [by_key[k] for k in state.ranking if k in by_key]
    # VIPs first, keeping the order among each group.
    final = [c for c in ordered if c.vip] + [c for c in ordered if not c.vip]
    return final, tuple(c.spec.key for c in ordered), ranked_at
