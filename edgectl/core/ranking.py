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

from datetime import datetime
from itertools import compress, repeat
from operator import not_

from edgectl.core.site import SiteSettings
from edgectl.core.state import AllocatorState
from edgectl.core.topology import ConnectorKey, Flat


def rank(
    flat: Flat,
    wanting: list[int],
    want: list[bool],
    value: list[float],
    vip: list[bool],
    state: AllocatorState,
    now: datetime,
    settings: SiteSettings,
) -> tuple[list[int], tuple[ConnectorKey, ...], datetime | None]:
    """(admission order, ranking to store, time of the last full re-ranking).

    `wanting` are the connector numbers that want current, in site order
    (`want[i]` says the same per connector); `value[i]` is connector i's
    shedding-priority value (energy or duration), `vip[i]` whether it is
    served first.
    """
    rotation_s = settings.rotation_minutes * 60
    due = (
        state.ranked_at is None
        or now < state.ranked_at
        or (now - state.ranked_at).total_seconds() >= rotation_s
        or not state.ranking
    )
    ranked_at: datetime | None = now if due else state.ranked_at
    ordered: list[int] | None = None
    if not due:
        # Connectors of the stored order still wanting current, in that order
        # (keys the topology no longer has map to slot n, which wants nothing).
        n = len(flat.keys)
        seq = list(map(flat.index.get, state.ranking, repeat(n)))
        ordered = list(compress(seq, map([*want, False].__getitem__, seq)))
        if len(set(ordered)) != len(wanting):
            ordered = None  # an arrival: rank everyone again now
    if ordered is None:
        sort_key = list(zip(value, flat.tiebreak, strict=True))  # tiebreak: the order of (station id, connector id)
        ordered = sorted(wanting, key=sort_key.__getitem__)
    # VIPs first, keeping the order among each group.
    if any(map(vip.__getitem__, ordered)):
        final = list(compress(ordered, map(vip.__getitem__, ordered)))
        final.extend(compress(ordered, map(not_, map(vip.__getitem__, ordered))))
    else:
        final = ordered
    stored = tuple(map(flat.keys.__getitem__, ordered))
    if stored == state.ranking:
        stored = state.ranking  # share the unchanged tuple
    return final, stored, ranked_at
