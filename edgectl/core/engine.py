"""One allocation cycle: snapshot in, setpoints out (SPEC §2 steps 1-6)."""

from __future__ import annotations

from edgectl.core.result import Allocation
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import Topology


def allocate(
    topology: Topology,
    snapshot: Snapshot,
    state: AllocatorState | None = None,
    params: AllocatorParams | None = None,
) -> tuple[Allocation, AllocatorState]:
    raise NotImplementedError
