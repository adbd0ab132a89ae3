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

_EPS = 1e-6
AT_MAX = -1  # binding marker: the member reached its own maximum

Pairs = tuple[tuple[int, int], ...]  # (constraint k, pair_hi) where the load rises


class _Class:
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


def water_fill(room: list[float], members: list[tuple[int, int, Pairs]]) -> list[tuple[int, int]]:
    """Raise `members` = [(min, hi, pairs)] given in rank order, fairly.

    Returns (setpoint, binding constraint or AT_MAX) per member and takes what
    they use out of `room`.
    """
    classes: dict[tuple[int, int, Pairs], _Class] = {}
    member_class: list[_Class] = []
    for lo, hi, pairs in members:
        key = (lo, hi, pairs)
        cls = classes.get(key)
        if cls is None:
            cls = classes[key] = _Class(lo, hi, pairs)
        cls.n += 1
        member_class.append(cls)

    counts: dict[int, dict[tuple[int, int], int]] = {}
    on: dict[int, list[tuple[_Class, int]]] = {}  # constraint -> (class, its pair_hi there)
    for cls in classes.values():
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

    for cls in classes.values():
        if cls.active:
            _freeze(cls, cls.hi, AT_MAX, room, counts, None)

    # Hand out what full constraints have left, +1 A each, in rank order.
    rising_of: dict[int, list[int] | None] = {}
    for cls in classes.values():
        bound = cls.binding != AT_MAX and cls.level < cls.hi
        rising_of[id(cls)] = [k for k, ph in cls.pairs if cls.level < ph] if bound else None
    out: list[tuple[int, int]] = []
    need = 1 - _EPS
    for cls in member_class:
        rising = rising_of[id(cls)]
        if rising is not None:
            for k in rising:
                if room[k] < need:
                    break
            else:
                for k in rising:
                    room[k] -= 1
                out.append((cls.level + 1, cls.binding))
                continue
        out.append((cls.level, cls.binding))
    return out


def _freeze(
    cls: _Class,
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
