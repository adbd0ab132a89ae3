"""Simulated Modbus meters served by pymodbus, over TCP or RTU (a pty).

Rules of this module:
- Registers are built from the same model files and encoded with the same
  codec as the daemon reads them with (`edgectl.adapters.modbus`), at the
  model's protocol addresses and register types (holding vs input are served
  from separate blocks, so a wrong function code gets "illegal address").
- Each read recomputes the physics, so energy integrates between reads.
- Several meters per server: one unit id each (an RS-485 line or a gateway).
- Faults on command, per meter: "silent" (no answer: the client times out),
  "nan" (garbage values: NaN floats, all-ones integers), "short" (a response
  one register short), "exception" (Modbus exception 4), "slow" (answers
  after `slow_delay_s`, more than the client's timeout).
- The server records every request (unit, function, address, count, start,
  end) and the highest number of requests in service at once, so tests can
  prove a client never overlaps requests on one bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from edgectl.adapters.modbus.codec import DataType, encode
from edgectl.adapters.modbus.models import MeterModel, RegisterSpec
from edgectl.core.phases import Phases
from simulators.meter.physics import MeterPhysics, PhysicalSample


class Fault(StrEnum):
    NONE = "none"
    SILENT = "silent"
    NAN = "nan"
    SHORT = "short"
    EXCEPTION = "exception"
    SLOW = "slow"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    unit_id: int
    function_code: int
    address: int
    count: int
    started_s: float
    ended_s: float


_ALL_ONES = {
    DataType.UINT16: 0xFFFF,
    DataType.INT16: 0x7FFF,
    DataType.UINT32: 0xFFFFFFFF,
    DataType.INT32: 0x7FFFFFFF,
    DataType.INT64: 0x7FFFFFFFFFFFFFFF,
}


class SimMeter:
    """One simulated meter (one unit id): a model, its physics and its fault."""

    def __init__(self, model: MeterModel, unit_id: int = 1, physics: MeterPhysics | None = None) -> None:
        self.model = model
        self.unit_id = unit_id
        self.physics = physics or MeterPhysics()
        self.fault = Fault.NONE
        self.slow_delay_s = 5.0
        self.last_served: dict[str, float] = {}
        self.server: MeterServer | None = None
        self._by_type: dict[int, list[RegisterSpec]] = {3: [], 4: []}
        for spec in model.quantities.values():
            self._by_type[3 if spec.register_type == "holding" else 4].append(spec)

    def set_ev_current(self, current_a: Phases) -> None:
        self.physics.set_ev_current(current_a)

    def set_fault(self, fault: Fault | str, slow_delay_s: float | None = None) -> None:
        self.fault = Fault(fault)
        if slow_delay_s is not None:
            self.slow_delay_s = slow_delay_s

    def sample(self) -> PhysicalSample:
        now = datetime.now().astimezone()
        hour = now.hour + now.minute / 60 + now.second / 3600
        return self.physics.sample(time.monotonic(), hour)

    def device(self) -> SimDevice:
        def block(function_code: int) -> list[SimData]:
            specs = self._by_type[function_code]
            if not specs:
                return [SimData(address=0, count=1, datatype=SimType.INVALID)]
            return [SimData(address=s.address, count=s.count, values=0, datatype=SimType.REGISTERS) for s in specs]

        bits = [SimData(address=0, values=[False] * 16, datatype=SimType.BITS)]
        return SimDevice(id=self.unit_id, simdata=(bits, list(bits), block(3), block(4)), action=self._action)

    def _encode(self, spec: RegisterSpec, value_si: float) -> list[int]:
        if self.fault is Fault.NAN:
            if spec.data_type is DataType.FLOAT32:
                return encode(math.nan, spec.data_type, spec.word_order, spec.byte_order)
            return encode(_ALL_ONES[spec.data_type], spec.data_type, spec.word_order, spec.byte_order)
        return encode(value_si / spec.si_factor, spec.data_type, spec.word_order, spec.byte_order)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: Any,
    ) -> ExcCodes | None:
        server = self.server
        started = time.monotonic()
        if server is not None:
            server.enter()
        try:
            values = self.sample().as_quantities()
            for spec in self._by_type.get(function_code, []):
                if spec.quantity in values:
                    offset = spec.address - start_address
                    registers[offset : offset + spec.count] = self._encode(spec, values[spec.quantity])
                    self.last_served[spec.quantity] = values[spec.quantity]
            if server is not None and server.service_delay_s > 0:
                # Hold the request "in service" a moment, so overlapping requests would be seen.
                await asyncio.sleep(server.service_delay_s)
            if self.fault is Fault.SLOW:
                await asyncio.sleep(self.slow_delay_s)
            if self.fault is Fault.EXCEPTION:
                return ExcCodes.DEVICE_FAILURE
            return None
        finally:
            if server is not None:
                server.leave(RequestRecord(self.unit_id, function_code, address, count, started, time.monotonic()))


class MeterServer:
    """A pymodbus server (TCP on host:port, or RTU on a serial device) hosting SimMeters."""

    def __init__(self, meters: list[SimMeter], service_delay_s: float = 0.002) -> None:
        if len({m.unit_id for m in meters}) != len(meters):
            raise ValueError("unit ids must be unique on one server")
        self.meters = {m.unit_id: m for m in meters}
        for m in meters:
            m.server = self
        self.service_delay_s = service_delay_s
        self.requests: list[RequestRecord] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._drop_next = False
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, record: RequestRecord) -> None:
        self.in_flight -= 1
        self.requests.append(record)

    def meter(self, unit_id: int) -> SimMeter:
        return self.meters[unit_id]

    def _trace_pdu(self, sending: bool, pdu: Any) -> Any:
        if sending:
            meter = self.meters.get(getattr(pdu, "dev_id", -1))
            if meter is not None and meter.fault is Fault.SILENT:
                self._drop_next = True
            elif meter is not None and meter.fault is Fault.SHORT and getattr(pdu, "registers", None):
                pdu.registers = pdu.registers[:-1]
        return pdu

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        # Called right after _trace_pdu for the same response: an empty frame is never sent.
        if sending and self._drop_next:
            self._drop_next = False
            return b""
        return data

    def _devices(self) -> list[SimDevice]:
        return [m.device() for m in self.meters.values()]

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 5020) -> None:
        self._server = ModbusTcpServer(
            self._devices(),
            address=(host, port),
            trace_pdu=self._trace_pdu,
            trace_packet=self._trace_packet,
        )
        await self._server.serve_forever(background=True)

    async def start_rtu(self, serial_port: str, baudrate: int = 19200, parity: str = "E", stopbits: int = 1) -> None:
        self._server = ModbusSerialServer(
            self._devices(),
            framer=FramerType.RTU,
            port=serial_port,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            trace_pdu=self._trace_pdu,
            trace_packet=self._trace_packet,
        )
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None
