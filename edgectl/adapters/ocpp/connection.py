"""One station's WebSocket: the read loop, outgoing calls, owned tasks.

Rules:
- CALLs from the station are handled one at a time, in arrival order, and
  each answer is sent before the next frame is read (so StartTransaction is
  persisted and answered before the MeterValues that follow it). Handlers
  never call the station, so the loop cannot deadlock (ocpp #130).
- Calls to the station: one in flight (`OneInFlight`, a FIFO turn); the
  timeout counts from the moment the CALL is sent, not while waiting for the
  turn. `start_call` writes the CALL synchronously when the station's turn
  is free and its socket takes data at once (the applier's fast path), else
  it falls back to `call` in a task. A timed
  out call's late answer finds no pending id and is dropped with a log line.
- A CALLRESULT / CALLERROR is never answered, even an unknown or malformed one.
- Work that must talk to the station after an answer (post-boot setup) runs
  in named tasks owned by the connection; `retire` fails pending calls with
  StationNotConnectedError and cancels and awaits those tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import math
import os
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from edgectl.adapters.ocpp import frames
from edgectl.adapters.ocpp.frames import OcppCallError
from edgectl.adapters.ocpp.validation import check
from edgectl.ports import CallRejectedError, CallTimeoutError, EncodedPayload, StationNotConnectedError

log = structlog.get_logger(__name__)

# Unique ids of our CALLs: a per-process random prefix and a counter. Unique
# across connections and restarts (a late answer from an old connection never
# matches a new call), cheaper than a uuid4 each, and under OCPP's 36 characters.
_ID_PREFIX = os.urandom(6).hex()
_id_counter = itertools.count(1)


def next_unique_id() -> str:
    return f"{_ID_PREFIX}-{next(_id_counter)}"


class _Deadlines:
    """Timeouts of `start_call`s, in 0.1 s buckets with one timer each.

    A zone step starts a thousand calls at once: one timer per call would
    cost a heap push with Python-level comparisons each. A call answered in
    time is not removed; its bucket finds it gone from the pending map. A
    call times out up to one bucket (0.1 s) late. Buckets are kept per event
    loop (tests run many loops one after the other; a closed loop's are
    dropped with it)."""

    BUCKET_S = 0.1

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[int, list[tuple[StationConnection, str, str, float]]]
        ] = weakref.WeakKeyDictionary()

    def add(
        self, loop: asyncio.AbstractEventLoop, timeout_s: float, conn: StationConnection, unique_id: str, action: str
    ) -> None:
        buckets = self._loops.get(loop)
        if buckets is None:
            buckets = self._loops[loop] = {}
        key = math.ceil((loop.time() + timeout_s) / self.BUCKET_S)
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = []
            loop.call_at(key * self.BUCKET_S, self._fire, buckets, key)
        bucket.append((conn, unique_id, action, timeout_s))

    @staticmethod
    def _fire(buckets: dict[int, list[tuple[StationConnection, str, str, float]]], key: int) -> None:
        for conn, unique_id, action, timeout_s in buckets.pop(key, ()):
            conn._expire(unique_id, action, timeout_s)


_DEADLINES = _Deadlines()


class OneInFlight:
    """One call to the station at a time, in arrival order.

    Like an asyncio.Lock, but it can also be taken without awaiting
    (`try_take`): the applier writes a thousand stations' profiles from one
    loop, no task each. `give_back` hands the turn straight to the next
    waiter, so nobody can overtake the queue."""

    __slots__ = ("_busy", "_waiters")

    def __init__(self) -> None:
        self._busy = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_take(self) -> bool:
        if self._busy:
            return False
        self._busy = True
        return True

    async def take(self) -> None:
        if self.try_take():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back()  # the turn came with the cancellation: pass it on
            raise

    def give_back(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():  # a cancelled waiter is skipped
                turn.set_result(None)
                return
        self._busy = False


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
    _gate: OneInFlight = field(default_factory=OneInFlight)
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
                        await self._answer(frames.encode_error(frame.unique_id, reply.error))
                    else:
                        await self._answer(frames.encode_result(frame.unique_id, reply.payload or {}))
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

    async def _answer(self, text: str) -> None:
        # The answer to every station message: written at once when the socket
        # takes it (as `start_call` does), else through websockets' `send`.
        if not self._writable_now():
            await self.ws.send(text)
            return
        with contextlib.suppress(StationNotConnectedError):  # the read loop ends with the socket
            self._write_now(text, "answer")

    def _write_now(self, text: str, action: str) -> None:
        """Frame and write `text` without awaiting (the caller checked
        `_writable_now`): websockets' own `send` is a coroutine, and these two
        calls are its synchronous core. StationNotConnectedError if the socket
        went away under us."""
        try:
            self.ws.protocol.send_text(text.encode())
            self.ws.send_data()
        except Exception as exc:
            log.info("ocpp.write_failed", station_id=self.station_id, action=action, error=repr(exc))
            raise StationNotConnectedError(self.station_id) from exc

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

    async def call(self, action: str, payload: dict[str, Any] | EncodedPayload, timeout_s: float) -> dict[str, Any]:
        if self.retired:
            raise StationNotConnectedError(self.station_id)
        await self._gate.take()
        try:
            if self.retired:
                raise StationNotConnectedError(self.station_id)
            unique_id, future = self._open(action)
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
        finally:
            self._gate.give_back()
        return self._payload_of(action, answer)

    def start_call(
        self, action: str, payload: dict[str, Any] | EncodedPayload, timeout_s: float
    ) -> asyncio.Future[dict[str, Any]]:
        """The CALL written before this returns when nothing is in flight and
        the socket takes data at once; otherwise `call` in a task (it waits
        its turn). The future resolves like `call`: the answer's payload, or
        StationNotConnectedError / CallTimeoutError / CallRejectedError."""
        loop = asyncio.get_running_loop()
        if self.retired or not self._writable_now() or not self._gate.try_take():
            return loop.create_task(self.call(action, payload, timeout_s), name=f"ocpp.call:{self.station_id}")
        result: asyncio.Future[dict[str, Any]] = loop.create_future()
        unique_id, answer = self._open(action)
        try:
            self._write_now(frames.encode_call(unique_id, action, payload), action)
        except StationNotConnectedError as gone:  # as `call` would report it
            self._pending.pop(unique_id, None)
            self._gate.give_back()
            result.set_exception(gone)
            return result
        _DEADLINES.add(loop, timeout_s, self, unique_id, action)
        answer.add_done_callback(functools.partial(self._finish, unique_id, action, result))
        return result

    def _writable_now(self) -> bool:
        # Open, nothing fragmented in progress and nothing waiting in the
        # transport's buffer: a write now goes straight to the kernel and
        # `send` would not have awaited anything (flow control, closing).
        ws = self.ws
        return ws.state is State.OPEN and ws.send_in_progress is None and ws.transport.get_write_buffer_size() == 0

    def _open(self, action: str) -> tuple[str, asyncio.Future[frames.CallResult | frames.CallError]]:
        unique_id = next_unique_id()
        future: asyncio.Future[frames.CallResult | frames.CallError] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = (action, future)
        return unique_id, future

    def _expire(self, unique_id: str, action: str, timeout_s: float) -> None:
        entry = self._pending.get(unique_id)
        if entry is not None and not entry[1].done():
            log.warning("ocpp.call_timeout", station_id=self.station_id, action=action, timeout_s=timeout_s)
            entry[1].set_exception(CallTimeoutError(f"{self.station_id}: {action} unanswered after {timeout_s} s"))

    def _finish(
        self,
        unique_id: str,
        action: str,
        result: asyncio.Future[dict[str, Any]],
        answer: asyncio.Future[frames.CallResult | frames.CallError],
    ) -> None:
        self._pending.pop(unique_id, None)
        self._gate.give_back()
        if result.done():  # the caller gave up waiting (cancelled)
            return
        if answer.cancelled():
            result.cancel()
            return
        exc = answer.exception()
        if exc is not None:
            result.set_exception(exc)
            return
        try:
            result.set_result(self._payload_of(action, answer.result()))
        except CallRejectedError as rejected:
            result.set_exception(rejected)

    def _payload_of(self, action: str, answer: frames.CallResult | frames.CallError) -> dict[str, Any]:
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
