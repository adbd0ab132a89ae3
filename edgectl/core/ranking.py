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

Connectors are handled by their number in the topology (`Topology.flat`);
the stored ranking stays a tuple of connector keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import repeat
from typing import cast

import numpy as np

from edgectl.core.site import SiteSettings
from edgectl.core.state import AllocatorState
from edgectl.core.topology import ConnectorKey, Flat


def rank(
    flat: Flat,
    wanting: list[int],
    want: list[bool],
    values: Callable[[], list[float]],
    vip_np: np.ndarray,
    state: AllocatorState,
    now: datetime,
    settings: SiteSettings,
) -> tuple[list[int], np.ndarray, tuple[ConnectorKey, ...], datetime | None]:
    """(admission order, the same as an array, ranking to store, time of the
    last full re-ranking).

    `wanting` are the connector numbers that want current, in site order
    (`want[i]` says the same per connector);
    `values()[i]` is connector i's shedding-priority value (energy or
    duration; asked for only when everyone is ranked again),
    `vip_np[i]` whether it is served first.
    """
    rotation_s = settings.rotation_minutes * 60
    due = (
        state.ranked_at is None
        or now < state.ranked_at
        or (now - state.ranked_at).total_seconds() >= rotation_s
        or not state.ranking
    )
    ranked_at: datetime | None = now if due else state.ranked_at
    n = len(flat.keys)
    want_np = np.zeros(n + 1, dtype=bool)  # slot n: keys the topology no longer has
    if len(wanting) == n:
        want_np[:n] = True  # everyone wants current
    else:
        want_np[:n] = np.fromiter(want, dtype=bool, count=n)
    ordered: np.ndarray | None = None
    if not due:
        # Connectors of the stored order still wanting current, in that order
        # (keys the topology no longer has map to slot n, which wants nothing).
        seq = _numbers(flat, state.ranking)
        ordered = seq[want_np[seq]]
        seen = np.zeros(n + 1, dtype=bool)
        seen[ordered] = True
        if np.count_nonzero(seen) != len(wanting):
            ordered = None  # an arrival: rank everyone again now
    if ordered is None:
        sort_key = list(zip(values(), flat.tiebreak, strict=True))  # tiebreak: the order of (station id, connector id)
        ordered = np.array(sorted(wanting, key=sort_key.__getitem__), dtype=np.intp)
    # VIPs first, keeping the order among each group.
    is_vip = vip_np[ordered]
    final_np = np.concatenate((ordered[is_vip], ordered[~is_vip])) if is_vip.any() else ordered
    final = final_np.tolist()
    memo = _memo(flat)
    if memo is not None and memo[0] is state.ranking and np.array_equal(memo[1], ordered):
        return final, final_np, state.ranking, ranked_at  # unchanged: share the stored tuple
    stored = tuple(map(flat.keys.__getitem__, ordered.tolist()))
    if stored == state.ranking:
        stored = state.ranking  # share the unchanged tuple
    flat.memo["ranking"] = (stored, ordered)
    return final, final_np, stored, ranked_at


def _numbers(flat: Flat, ranking: tuple[ConnectorKey, ...]) -> np.ndarray:
    """Connector numbers of a stored ranking (n for keys the topology lacks)."""
    memo = _memo(flat)
    if memo is not None and memo[0] is ranking:
        seq: np.ndarray = memo[1]
        return seq
    n = len(flat.keys)
    return np.fromiter(map(flat.index.get, ranking, repeat(n)), dtype=np.intp, count=len(ranking))


def _memo(flat: Flat) -> tuple[tuple[ConnectorKey, ...], np.ndarray] | None:
    return cast("tuple[tuple[ConnectorKey, ...], np.ndarray] | None", flat.memo.get("ranking"))
