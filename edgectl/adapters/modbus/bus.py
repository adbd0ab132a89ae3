"""One Modbus bus = one pymodbus client + one asyncio.Lock, shared by its meters.

Rules of this module:
- A bus is a TCP endpoint (host, port) or a serial line (device path). Several
  meters on one RS-485 line, or several unit ids behind one TCP gateway, share
  one `ModbusBus`: one client, one lock, so their requests never overlap.
- A meter's whole poll (all its blocks) runs under the lock in one go, then
  the RTU inter-frame delay is honoured before the next meter may talk.
- Reconnection uses jittered exponential back-off; while backing off, reads
  fail at once with `BusUnavailable` (the poller counts that as a failure).
- Errors are translated to `ModbusReadError` subclasses; nothing else leaks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from edgectl.adapters.modbus.plan import Block
from edgectl.clock import Clock
from edgectl.core.site import Meter, Transport


class ModbusReadError(Exception):
    """A poll could not get the registers."""


class BusUnavailable(ModbusReadError):
    pass


class DeviceError(ModbusReadError):
    """The device answered with a Modbus exception response."""


@dataclass(frozen=True, slots=True)
class BusSettings:
    timeout_s: float = 1.0  # per request attempt
    retries: int = 0  # extra attempts per request (pymodbus does them)
    inter_frame_delay_s: float = 0.0  # RTU: silence kept after each meter's poll
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 5.0  # a recovered zone meter must not stay degraded for long


@dataclass(frozen=True, slots=True)
class BusConfig:
    transport: Transport
    host: str | None = None
    port: int = 502
    serial_port: str | None = None
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1

    @property
    def key(self) -> tuple[str, str, int]:
        if self.transport is Transport.TCP:
            return ("tcp", str(self.host), self.port)
        return ("rtu", str(self.serial_port), 0)

    @classmethod
    def of(cls, meter: Meter) -> BusConfig:
        if meter.transport is Transport.TCP:
            if not meter.host:
                raise ValueError(f"meter {meter.id}: TCP transport needs a host")
            return cls(Transport.TCP, host=meter.host, port=meter.port)
        if not meter.serial_port:
            raise ValueError(f"meter {meter.id}: RTU transport needs a serial_port")
        return cls(
            Transport.RTU,
            serial_port=meter.serial_port,
            baudrate=meter.baudrate,
            parity=meter.parity,
            stopbits=meter.stopbits,
        )


class ModbusBus:
    def __init__(
        self,
        config: BusConfig,
        clock: Clock,
        settings: BusSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or BusSettings()
        self.lock = asyncio.Lock()
        self._clock = clock
        self._rng = rng or random.Random()
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self._backoff_s = 0.0
        self._next_attempt_mono = 0.0
        self._last_failure = ""  # why the connection was given up: said again while waiting to retry

    def _make_client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        s, c = self.settings, self.config
        # reconnect_delay=0: pymodbus must not reconnect on its own; we do, with back-off.
        if c.transport is Transport.TCP:
            return AsyncModbusTcpClient(
                str(c.host), port=c.port, timeout=s.timeout_s, retries=s.retries, reconnect_delay=0
            )
        return AsyncModbusSerialClient(
            str(c.serial_port),
            framer=FramerType.RTU,
            baudrate=c.baudrate,
            bytesize=8,
            parity=c.parity,
            stopbits=c.stopbits,
            timeout=s.timeout_s,
            retries=s.retries,
            reconnect_delay=0,
        )

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def _ensure_connected(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        if self._client is not None and self._client.connected:
            return self._client
        now = self._clock.monotonic()
        if now < self._next_attempt_mono:
            # Keep the reason: "not connected" alone would hide that the meter stopped answering.
            raise BusUnavailable(
                f"not connected ({self._last_failure}); next attempt in {self._next_attempt_mono - now:.1f} s"
            )
        if self._client is not None:
            self._client.close()
        self._client = self._make_client()
        try:
            async with asyncio.timeout(self.settings.timeout_s + 1.0):  # not wait_for: it can eat a cancel on 3.11
                ok = await self._client.connect()
        except (TimeoutError, OSError, ModbusException) as exc:
            ok = False
            reason = f"{type(exc).__name__}: {exc}"
        else:
            reason = "connection refused or unreachable"
        if not ok:
            message = f"cannot connect to {self.describe()}: {reason}"
            self._schedule_retry(message)
            raise BusUnavailable(message)
        self._backoff_s = 0.0
        return self._client

    def _schedule_retry(self, reason: str) -> None:
        self._last_failure = reason
        s = self.settings
        self._backoff_s = min(s.backoff_max_s, max(s.backoff_initial_s, self._backoff_s * 2))
        # Jitter so that many meters behind one dead gateway do not retry in lock-step.
        delay = self._backoff_s * self._rng.uniform(0.8, 1.2)
        self._next_attempt_mono = self._clock.monotonic() + delay

    def describe(self) -> str:
        c = self.config
        return f"{c.host}:{c.port}" if c.transport is Transport.TCP else f"{c.serial_port}"

    async def read_blocks(self, unit_id: int, blocks: Sequence[Block]) -> list[list[int]]:
        """All blocks of one meter, in one go under the bus lock."""
        async with self.lock:
            try:
                client = await self._ensure_connected()
                out = [await self._read(client, unit_id, b) for b in blocks]
            finally:
                if self.settings.inter_frame_delay_s > 0:
                    await self._clock.sleep(self.settings.inter_frame_delay_s)
        return out

    async def _read(
        self, client: AsyncModbusTcpClient | AsyncModbusSerialClient, unit_id: int, block: Block
    ) -> list[int]:
        s = self.settings
        call = client.read_holding_registers if block.register_type == "holding" else client.read_input_registers
        # Guard: pymodbus has its own timeout, but never let a stuck transport hold the bus lock.
        guard_s = s.timeout_s * (s.retries + 1) + 1.0
        try:
            async with asyncio.timeout(guard_s):
                response = await call(block.address, count=block.count, device_id=unit_id)
        except (TimeoutError, ModbusException, OSError) as exc:
            message = (
                f"no valid answer from unit {unit_id} at {self.describe()} "
                f"({block.register_type} {block.address}+{block.count}): {type(exc).__name__}: {exc}"
            )
            if not client.connected:
                self._schedule_retry(message)
            raise ModbusReadError(message) from exc
        if response.isError():
            raise DeviceError(
                f"unit {unit_id} answered exception code {getattr(response, 'exception_code', '?')} "
                f"for {block.register_type} {block.address}+{block.count}"
            )
        return list(response.registers)

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class BusRegistry:
    """Hands out one `ModbusBus` per bus key, so meters on one bus share it."""

    def __init__(self, clock: Clock, settings: BusSettings | None = None) -> None:
        self._clock = clock
        self._settings = settings
        self._buses: dict[tuple[str, str, int], ModbusBus] = {}

    def bus_for(self, meter: Meter) -> ModbusBus:
        config = BusConfig.of(meter)
        bus = self._buses.get(config.key)
        if bus is None:
            bus = self._buses[config.key] = ModbusBus(config, self._clock, self._settings)
        elif bus.config != config:
            raise ValueError(f"meter {meter.id}: serial settings differ from another meter on {bus.describe()}")
        return bus

    @property
    def buses(self) -> tuple[ModbusBus, ...]:
        return tuple(self._buses.values())

    async def close(self) -> None:
        for bus in self._buses.values():
            await bus.close()
