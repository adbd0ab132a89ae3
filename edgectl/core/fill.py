"""Step 4: max-min fair water-filling over zone/phase constraints, whole amps.

Every (zone, grid phase) is a constraint over the zone's whole subtree:
constraint index k = zone_index × 3 + phase. A member starts at its minimum
(admission already accounted that) and rises with a common water level t:
its setpoint is clamp(t, min, hi). On constraint k its load rises as
clamp(t, min, pair_hi) where pair_hi ≤ hi is lower when consumption
optimisation caps what the member is accounted for on that phase.

Progressive filling: the level rises until some constraint is full; the
members still rising on it freeze there (that constraint is why they are
limited); the others go on. Levels are integers, so whole amps fall out
directly; the amps a full constraint has left over (less than one per member)
are handed out +1 A in rank order afterwards, so shares bound by the same
constraint differ by at most 1 A and no amp that fits is wasted.

Speed: members that are interchangeable for the filling (same min, hi and
constraints) form one class filled as a count, so a cycle costs per class
and per constraint, not per connector; only the +1 A hand-out walks members.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_EPS = 1e-6
AT_MAX = -1  # binding marker: the member reached its own maximum
_BIG = 1 << 20  # above any member position or constraint index (rank keys)

Pairs = tuple[tuple[int, int], ...]  # (constraint k, pair_hi) where the load rises


class FillClass:
    """Members interchangeable for the filling: same min, hi and pairs."""

    __slots__ = ("active", "binding", "hi", "level", "lo", "n", "pairs")

    def __init__(self, lo: int, hi: int, pairs: Pairs) -> None:
        self.lo = lo
        self.hi = hi
        self.pairs = pairs
        self.n = 0
        self.level = lo
        self.binding = AT_MAX
        self.active = True


def _load(counts: dict[tuple[int, int], int], t: int) -> int:
    total = 0
    for (lo, hi), n in counts.items():
        if t > lo and n:
            total += n * ((t if t < hi else hi) - lo)
    return total


def _max_level(counts: dict[tuple[int, int], int], room: float) -> float:
    """Largest integer level whose added load fits in `room`; inf if all fit."""
    top = 0
    bottom = 1 << 30
    for (lo, hi), n in counts.items():
        if n:
            top = max(top, hi)
            bottom = min(bottom, lo)
    if top == 0 or _load(counts, top) <= room + _EPS:
        return math.inf
    lo_t, hi_t = bottom, top  # load(lo_t) == 0 <= room; load(hi_t) > room
    while hi_t - lo_t > 1:
        mid = (lo_t + hi_t) // 2
        if _load(counts, mid) <= room + _EPS:
            lo_t = mid
        else:
            hi_t = mid
    return float(lo_t)


def water_fill(room: list[float], classes: list[FillClass]) -> None:
    """Raise every class (counts `n` set, listed in order of their first
    member's rank) fairly; set each one's `level` and `binding` and take
    what they use out of `room`. The +1 A hand-out is `hand_out`'s."""
    counts: dict[int, dict[tuple[int, int], int]] = {}
    on: dict[int, list[tuple[FillClass, int]]] = {}  # constraint -> (class, its pair_hi there)
    for cls in classes:
        if cls.hi <= cls.lo or not cls.pairs:
            # Nothing to raise, or its load rises on no constraint at all.
            cls.level = max(cls.lo, cls.hi)
            cls.active = False
            continue
        for k, ph in cls.pairs:
            c = counts.setdefault(k, {})
            c[(cls.lo, ph)] = c.get((cls.lo, ph), 0) + cls.n
            on.setdefault(k, []).append((cls, ph))

    levels = {k: _max_level(c, room[k]) for k, c in counts.items()}
    while levels:
        best = min(levels.values())
        if best == math.inf:
            break
        t_star = int(best)
        dirty: set[int] = set()
        for k in [k for k, t in levels.items() if t == best]:
            for cls, ph in on[k]:
                if not cls.active or ph <= t_star:
                    continue  # frozen already, or saturated on k: its load there no longer moves
                _freeze(cls, max(cls.lo, min(t_star, cls.hi)), k, room, counts, dirty)
        for k in dirty:
            levels[k] = _max_level(counts[k], room[k])

    for cls in classes:
        if cls.active:
            _freeze(cls, cls.hi, AT_MAX, room, counts, None)


def rising_of(classes: list[FillClass]) -> list[list[int] | None]:
    """Per class: the constraints a +1 A would load, if it is bound below its max."""
    return [
        [k for k, ph in cls.pairs if cls.level < ph] if cls.binding != AT_MAX and cls.level < cls.hi else None
        for cls in classes
    ]


def hand_out(
    room: list[float], levels: list[int], rising: list[list[int] | None], member_class: list[int]
) -> list[int]:
    """Hand out what full constraints have left, +1 A each, in rank order.

    `member_class[j]` is the class of the j-th member in rank order, `levels`
    and `rising` (see `rising_of`) are per class; returns each member's
    setpoint. Rooms only shrink, so once a member of a class finds no amp
    left, none of its class-mates will: the walk stops when no class can rise.
    """
    out = [levels[c] for c in member_class]
    for j in extra_amp(room, rising, member_class):
        out[j] += 1
    return out


def extra_amp(room: list[float], rising: list[list[int] | None], member_class: np.ndarray | list[int]) -> list[int]:
    """The +1 A walk: the positions (in rank order) of the members that get one;
    `room` shrinks by what they take. A class that cannot rise (`None`) is
    skipped; each class is a group of `extra_amp_groups`."""
    members = member_class.tolist() if isinstance(member_class, np.ndarray) else list(member_class)
    positions = [j for j, c in enumerate(members) if rising[c] is not None]
    group_ks = tuple(() if ks is None else tuple(ks) for ks in rising)
    return extra_amp_groups(room, positions, [members[j] for j in positions], group_ks)


def _freeze(
    cls: FillClass,
    level: int,
    binding: int,
    room: list[float],
    counts: dict[int, dict[tuple[int, int], int]],
    dirty: set[int] | None,
) -> None:
    cls.active = False
    cls.level = level
    cls.binding = binding
    for k, ph in cls.pairs:
        counts[k][(cls.lo, ph)] -= cls.n
        room[k] -= cls.n * (min(level, ph) - cls.lo)
        if dirty is not None:
            dirty.add(k)


def group_fill(
    room: np.ndarray,
    incidence: np.ndarray,
    kpos_key: np.ndarray,
    ramp: np.ndarray,
    entry_lo: np.ndarray,
    entry_hi: np.ndarray,
    table: np.ndarray,
    first_touch: Callable[[], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """The same filling as `water_fill` for members that are not capped by
    consumption optimisation (their load rises on every constraint up to
    their hi), computed for all constraints at once with numpy.

    `table` (groups x entries, float64, changed in place) counts the members
    of each group per (lo, hi) entry; `ramp` is one member's load per entry
    at every integer level (compiled once, `Flat.ramp`), so `incidence @
    (table @ ramp)` is every constraint's added load at every level, as
    `water_fill`'s dictionaries count it. All of it is on whole amps, so
    numpy's float64 sums are exact. Takes what the members use out of `room`
    (in place) and returns, per group, the level where it froze (`_BIG`:
    never) and the constraint that froze it (AT_MAX: none).

    The levels, the freezing order and the bindings are `water_fill`'s: a
    group on a constraint that is full at the level t* freezes there, every
    member of it with hi > t* at max(lo, t*) and bound by that constraint;
    its members with hi <= t* rise to their hi, as those of a group never
    frozen. A group freezes once: the levels only rise. Among several
    constraints full at the same level a group is bound by the one its
    members touched first in rank order (`water_fill` visits them so): the
    order of (first member of the group whose load rises, `first_touch()`,
    and the constraint's position in the group's list, `kpos_key`), asked
    for only on such a tie.
    """
    n_groups = table.shape[0]
    level_g = np.full(n_groups, _BIG, dtype=np.int64)
    binding_g = np.full(n_groups, AT_MAX, dtype=np.int64)
    rank_key: np.ndarray | None = None
    while True:
        load = incidence @ (table @ ramp)  # (constraints, levels)
        top = load[:, -1]
        room_eps = room + _EPS
        partial = (top > room_eps) & (top > 0.0)  # loaded, and somewhere not all of it fits
        if not partial.any():
            break
        # The highest level that fits (load rises with the level: `fits` is a prefix).
        level = np.where(partial, (load <= room_eps[:, None]).sum(axis=1) - 1.0, math.inf)
        best = float(level.min())
        if best < 0.0:
            # Not even level 0 fits (room < 0): such a constraint holds its
            # members at the lowest minimum among them, as `water_fill`.
            present = ((incidence @ table) > 0.0) & (entry_hi > entry_lo)[None, :]
            bottom = np.where(present, entry_lo[None, :], math.inf).min(axis=1)
            level = np.where(partial, np.maximum(level, bottom), math.inf)
            best = float(level.min())
        t_star = int(best)
        binding_ks = np.flatnonzero(level == best)
        if len(binding_ks) > 1:
            if rank_key is None:
                first = first_touch()
                rank_key = (first[None, :] * _BIG + kpos_key).min(axis=1)
            binding_ks = binding_ks[np.argsort(rank_key[binding_ks])]
            on_k = incidence[binding_ks] > 0.0  # (B, groups)
            first_k = np.where(on_k.any(axis=0), binding_ks[on_k.argmax(axis=0)], -1)
        else:
            first_k = np.where(incidence[binding_ks[0]] > 0.0, binding_ks[0], -1)
        hit = (first_k >= 0) & (level_g == _BIG)
        level_g[hit] = t_star
        binding_g[hit] = first_k[hit]
        frozen = np.where(hit[:, None] & (entry_hi > t_star)[None, :], table, 0.0)
        room -= incidence @ (frozen @ ramp[:, t_star])
        table -= frozen
    room -= incidence @ (table @ ramp[:, -1])
    return level_g, binding_g


def extra_amp_groups(
    room: list[float], positions: list[int], groups: list[int], group_ks: tuple[tuple[int, ...], ...]
) -> list[int]:
    """The +1 A walk over the members that could rise (`positions` in rank
    order, their `groups`): those that get one. Rooms only
    shrink, so once a member of a group finds no amp left on one of the
    group's constraints, no later member of that group will."""
    need = 1 - _EPS
    dead: set[int] = set()
    live = len(set(groups))
    lucky: list[int] = []
    for j, g in zip(positions, groups, strict=True):
        if g in dead:
            continue
        ks = group_ks[g]
        for k in ks:
            if room[k] < need:
                dead.add(g)
                live -= 1
                break
        else:
            for k in ks:
                room[k] -= 1
            lucky.append(j)
            continue
        if not live:
            break
    return lucky
