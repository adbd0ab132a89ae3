"""The demo's console view: zones and charging connectors, readable at a glance."""

from __future__ import annotations

from typing import Any

from edgectl.core.phases import Phases


def _ph(p: Phases | None) -> str:
    if p is None:
        return "   -/   -/   -"
    return "/".join(f"{v:4.0f}" for v in p)


def render(components: Any, sim: Any, final: bool = False) -> str:
    loop = components.loop
    result = loop.last
    if result is None:
        return "waiting for the first control cycle..."
    alloc = result.allocation
    site = components.runtime.site
    depth = {z.id: len(site.zone_path(z.id)) - 1 for z in site.zones}
    mode = {z.id: z.mode.value for z in site.zones}
    online = components.ocpp.connected()
    lines = [
        f"{'final state' if final else 'edgectl demo'} — {alloc.time:%H:%M:%S} UTC — cycle {loop.cycles}"
        f" — stations online {len(online)}/{len(site.stations)}",
        "",
        f"{'zone':24} {'limit A L1/L2/L3':>16} {'used':>16} {'reserved':>16} {'meter':>16}  why",
    ]
    for z in alloc.zones:
        name = "  " * depth[z.id] + f"{z.id} ({mode[z.id]})"
        flag = " DEGRADED" if z.degraded else ""
        lines.append(
            f"{name:24} {_ph(z.limit_a):>16} {_ph(z.used_a):>16} {_ph(z.reserved_a):>16} {_ph(z.measured_a):>16}"
            f"  {','.join(z.limited_by)}{flag}"
        )
    lines += ["", f"{'connector':14} {'state':10} {'setpoint':>8} {'drawn A (station L1/L2/L3)':>28}  why"]
    shown = 0
    for c in alloc.connectors:
        if c.state.value == "idle":
            continue
        st = sim.stations.get(c.station)
        drawn = Phases(*st.drawn_current_a(c.connector)) if st is not None else None
        lines.append(
            f"{c.station + '/' + str(c.connector):14} {c.state.value:10} {c.setpoint_a:>6} A {_ph(drawn):>28}"
            f"  {','.join(c.limited_by)}"
        )
        shown += 1
    idle = sum(1 for c in alloc.connectors if c.state.value == "idle")
    lines.append(f"({shown} active, {idle} idle connectors; last cycle {result.duration_s * 1000:.1f} ms)")
    return "\n".join(lines)
