"""State the allocator carries from one cycle to the next, explicitly.

Nothing is hidden between calls: the engine takes an `AllocatorState` and
returns the next one. The control loop keeps it in memory (and may persist it);
`edgectl plan` starts from `AllocatorState()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from edgectl.core.topology import ConnectorKey


@dataclass(frozen=True, slots=True)
class AllocatorParams:
    """Tunables with safe defaults (documented in docs/allocation.md)."""

    meter_stale_s: float = 5.0  # older samples count as a lost meter
    optimisation_margin_a: float = 2.0  # accounted = measured draw + margin
    optimisation_delay_s: float = 60.0  # "draws clearly less ... for a while"
    optimisation_threshold_a: float = 3.0  # "clearly less" than its setpoint
    overdraw_margin_a: float = 2.0  # drawing more than setpoint + this is "clearly more"
    overdraw_window_s: float = 30.0  # longer than the EV reaction window: not respecting it


@dataclass(frozen=True, slots=True)
class AllocatorState:
    # Admission order fixed at the last rotation, new arrivals inserted at once.
    ranking: tuple[ConnectorKey, ...] = ()
    ranked_at: datetime | None = None
    # Last setpoint per connector (DC fallback, consumption optimisation).
    setpoints: Mapping[ConnectorKey, int] = field(default_factory=dict)
    # Per connector and grid phase: since when it draws clearly less than its setpoint.
    under_since: Mapping[ConnectorKey, tuple[datetime | None, datetime | None, datetime | None]] = field(
        default_factory=dict
    )
    # Since when a connector draws clearly more than its setpoint (a station not respecting it).
    over_since: Mapping[ConnectorKey, datetime] = field(default_factory=dict)
