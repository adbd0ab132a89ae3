"""One station's WebSocket: the read loop, outgoing calls, owned tasks.

Rules:
- CALLs from the station are handled one at a time, in arrival order, and
  each answer is sent before the next frame is read (so StartTransaction is
  persisted and answered before the MeterValues that follow it). Handlers
  never call the station, so the loop cannot deadlock (ocpp #130).
- Calls to the station: one in flight (an asyncio.Lock); the timeout counts
  from the moment the CALL is sent, not while waiting for the lock. A timed
  out call's late answer finds no pending id and is dropped with a log line.
- A CALLRESULT / CALLERROR is never answered, even an unknown or malformed one.
- Work that must talk to the station after an answer (post-boot setup) runs
  in named tasks owned by the connection; `retire` fails pending calls with
  StationNotConnectedError and cancels and awaits those tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from edgectl.adapters.ocpp import frames
from edgectl.adapters.ocpp.frames import OcppCallError
from edgectl.adapters.ocpp.validation import check
from edgectl.ports import CallRejectedError, CallTimeoutError, StationNotConnectedError

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Reply:
    """What a handler answers; `start_setup` asks for post-boot setup after sending."""

    payload: dict[str, Any] | None = None
    error: OcppCallError | None = None
    start_setup: bool = False


Dispatcher = Callable[["StationConnection", frames.Call], Awaitable[Reply]]
SetupRunner = Callable[["StationConnection"], Coroutine[Any, Any, None]]


@dataclass(eq=False)
class StationConnection:
    station_id: str
    ws: ServerConnection
    remote_address: str | None = None
    accepted: bool = False  # Boot answered Accepted, or implicitly accepted
    announced: bool = False  # the observer was told station_connected
    retired: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _pending: dict[str, tuple[str, asyncio.Future[frames.CallResult | frames.CallError]]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _setup_task: asyncio.Task[None] | None = None
    _noted: set[tuple[str, str]] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return self.announced and not self.retired

    def note(self, what: str, details: dict[str, Any]) -> None:
        """Log a leniency or oddity once per connection and kind."""
        key = (what, str(details.get("field") or details.get("action") or ""))
        if key not in self._noted:
            self._noted.add(key)
            log.warning("ocpp.lenient", station_id=self.station_id, what=what, **details)

    # --- incoming -----------------------------------------------------------------

    async def run(self, dispatch: Dispatcher, setup: SetupRunner) -> None:
        """Read frames until the socket closes."""
        try:
            async for message in self.ws:
                if self.retired:
                    break  # replaced: the new connection speaks for the station now
                frame = frames.decode(message)
                if isinstance(frame, frames.Call):
                    reply = await dispatch(self, frame)
                    if reply.error is not None:
                        await self.ws.send(frames.encode_error(frame.unique_id, reply.error))
                    else:
                        await self.ws.send(frames.encode_result(frame.unique_id, reply.payload or {}))
                    if reply.start_setup:
                        self.start_setup(setup)
                elif isinstance(frame, frames.CallResult | frames.CallError):
                    self._resolve(frame)
                elif frame.answerable:
                    self.note("bad_frame", {"action": frame.error.code, "description": frame.error.description})
                    await self.ws.send(frames.encode_error(frame.unique_id, frame.error))
                else:
                    self.note("bad_answer", {"action": frame.error.code, "description": frame.error.description})
        except ConnectionClosed:
            pass

    def _resolve(self, frame: frames.CallResult | frames.CallError) -> None:
        entry = self._pending.get(frame.unique_id)
        if entry is None or entry[1].done():
            log.info("ocpp.unexpected_answer", station_id=self.station_id, unique_id=frame.unique_id)
            return
        entry[1].set_result(frame)

    def start_setup(self, setup: SetupRunner) -> None:
        if self.retired or (self._setup_task is not None and not self._setup_task.done()):
            return
        self._setup_task = self.spawn(f"ocpp.setup:{self.station_id}", setup(self))

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("ocpp.task_failed", station_id=self.station_id, task=task.get_name(), exc_info=task.exception())

    # --- outgoing -----------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        if self.retired:
            raise StationNotConnectedError(self.station_id)
        async with self._lock:
            if self.retired:
                raise StationNotConnectedError(self.station_id)
            unique_id = str(uuid.uuid4())
            future: asyncio.Future[frames.CallResult | frames.CallError] = asyncio.get_running_loop().create_future()
            self._pending[unique_id] = (action, future)
            try:
                try:
                    await self.ws.send(frames.encode_call(unique_id, action, payload))
                except ConnectionClosed:
                    raise StationNotConnectedError(self.station_id) from None
                try:
                    async with asyncio.timeout(timeout_s):
                        answer = await future
                except TimeoutError:
                    log.warning("ocpp.call_timeout", station_id=self.station_id, action=action, timeout_s=timeout_s)
                    raise CallTimeoutError(f"{self.station_id}: {action} unanswered after {timeout_s} s") from None
            finally:
                self._pending.pop(unique_id, None)
        if isinstance(answer, frames.CallError):
            raise CallRejectedError(answer.code, answer.description)
        return self._result_payload(action, answer.payload)

    def _result_payload(self, action: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise CallRejectedError(frames.ErrorCode.FORMATION_VIOLATION, "the CALLRESULT payload is not an object")
        # Lenient: a station's sloppy answer is logged (once) and used anyway;
        # the caller reads the fields it needs defensively.
        try:
            check(action + "Response", payload)
        except OcppCallError as exc:
            self.note("bad_result", {"action": action, "code": exc.code, "description": exc.description})
        return payload

    # --- teardown -----------------------------------------------------------------

    async def retire(self) -> bool:
        """Stop everything this connection owns; True the first time only."""
        if self.retired:
            return False
        self.retired = True
        for _action, future in self._pending.values():
            if not future.done():
                future.set_exception(StationNotConnectedError(self.station_id))
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
        return True
