"""The ordered queue of CALLs a simulated station sends to its central system.

Rules:
- One queue, one sender: messages leave in the order they were queued.
- A message is built when it is sent (`build()`), so a StopTransaction queued
  offline carries the transactionId the central system gave to the
  StartTransaction sent just before it.
- Durable messages (transaction messages) survive disconnects; volatile ones
  (status, heartbeat, authorize, notifications) are dropped when the session
  ends, their waiters getting ConnectionError.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class OutMsg:
    build: Callable[[], Any]
    durable: bool = False
    on_result: Callable[[Any], None] | None = None
    future: asyncio.Future[Any] | None = None
    attempts: int = 0
    action: str = field(default="")


class Outbox:
    def __init__(self) -> None:
        self._items: deque[OutMsg] = deque()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def actions(self) -> list[str]:
        return [m.action for m in self._items]

    def put(self, msg: OutMsg) -> None:
        self._items.append(msg)
        self._wake.set()

    async def peek(self) -> OutMsg:
        while not self._items:
            self._wake.clear()
            await self._wake.wait()
        return self._items[0]

    def done(self, msg: OutMsg, result: Any = None, error: BaseException | None = None) -> None:
        if msg in self._items:
            self._items.remove(msg)
        if msg.future is not None and not msg.future.done():
            if error is not None:
                msg.future.set_exception(error)
            else:
                msg.future.set_result(result)

    def drop_volatile(self) -> None:
        for msg in [m for m in self._items if not m.durable]:
            self.done(msg, error=ConnectionError("the session ended before the message was sent"))
