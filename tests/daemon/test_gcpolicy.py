"""The collector policy: what survives a full collection is frozen; a thaw
reclaims cycles that died while frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref

from edgectl.gcpolicy import CollectorPolicy


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


async def test_full_collections_freeze_their_survivors_and_a_thaw_reclaims_frozen_cycles() -> None:
    policy = CollectorPolicy(thaw_s=3600)
    task = asyncio.create_task(policy.run())
    await asyncio.sleep(0)
    try:
        gc.unfreeze()
        survivor = _Node()
        gc.collect()  # a full collection: its survivors get frozen right after
        await asyncio.sleep(0.01)
        assert policy.freezes >= 1
        assert gc.get_freeze_count() > 0
        assert policy.longest_full_ms > 0

        ref = weakref.ref(survivor)
        del survivor  # dies while frozen: no full collection can see it now
        gc.collect()
        await asyncio.sleep(0.01)
        assert ref() is not None

        collected, pause_ms = policy.thaw()
        assert ref() is None and collected >= 1 and pause_ms >= 0
        assert gc.get_freeze_count() > 0  # frozen again after the thaw
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
    assert policy._on_collection not in gc.callbacks  # uninstalled on stop
