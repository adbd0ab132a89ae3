"""The meter poller: read a meter every period, publish good readings, track health.

Rules of this module:
- Each sample carries its time from the injected clock (`sampled_at`).
- Only plausible, complete samples are published (`MeterReading` to the
  callback). Garbage, exception responses, wrong lengths and timeouts are
  failed polls: nothing is published, `last_good_at` stops advancing, the
  health goes `connection_error` and the consumer sees the meter stale.
- Logging happens on transitions only (`meter.lost`, `meter.recovered`),
  never per poll.
- The recommended staleness bound for a consumer is `max_sample_age_s`
  (period + timeout): a meter that stops answering is stale within one
  timeout after the last good period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import structlog

from edgectl.adapters.modbus.bus import BusRegistry, BusSettings, ModbusBus, ModbusReadError
from edgectl.adapters.modbus.codec import CodecError, Garbage
from edgectl.adapters.modbus.health import LOST, RECOVERED, HealthTracker, MeterHealth
from edgectl.adapters.modbus.models import MeterModel, get_model
from edgectl.adapters.modbus.plan import decode_sample, plan_blocks
from edgectl.clock import Clock
from edgectl.core.phases import Phases
from edgectl.core.site import Meter
from edgectl.core.snapshot import MeterReading

log = structlog.get_logger("edgectl.modbus")

Publish = Callable[[str, MeterReading], None]
Failed = Callable[[str, str], None]  # (meter id, error) on every failed poll
DEFAULT_PERIOD_S = 0.5


class MeterPoller:
    def __init__(
        self,
        meter: Meter,
        model: MeterModel,
        bus: ModbusBus,
        clock: Clock,
        publish: Publish,
        period_s: float = DEFAULT_PERIOD_S,
        on_failure: Failed | None = None,
    ) -> None:
        if period_s <= 0:
            raise ValueError("period_s must be positive")
        self.meter = meter
        self.model = model
        self.bus = bus
        self.period_s = period_s
        self._clock = clock
        self._publish = publish
        self._on_failure = on_failure
        self._blocks = plan_blocks(model)
        self._tracker = HealthTracker(meter.id)
        self._last_energy_wh: float | None = None
        self.last_reading: MeterReading | None = None

    @property
    def health(self) -> MeterHealth:
        return self._tracker.health

    @property
    def last_good_at(self) -> datetime | None:
        return self._tracker.health.last_good_at

    @property
    def max_sample_age_s(self) -> float:
        """Beyond this age the last reading must be treated as lost."""
        return self.period_s + self.bus.settings.timeout_s * (self.bus.settings.retries + 1)

    @property
    def requests_per_poll(self) -> int:
        return len(self._blocks)

    async def poll_once(self) -> MeterReading | None:
        """One poll: publish and return the reading, or record the failure and return None."""
        try:
            registers = await self.bus.read_blocks(self.meter.unit_id, self._blocks)
            values = decode_sample(self._blocks, registers, self._last_energy_wh)
        except (ModbusReadError, CodecError, Garbage) as exc:
            self._failed(str(exc))
            return None
        now = self._clock.now()
        reading = MeterReading(
            current_a=Phases(values["i1"], values["i2"], values["i3"]),
            sampled_at=now,
            power_w=values.get("p_total"),
            energy_wh=values.get("energy"),
        )
        if reading.energy_wh is not None:
            self._last_energy_wh = reading.energy_wh
        previous = self._tracker.health
        if self._tracker.success(now) == RECOVERED:
            down_s = (now - previous.failing_since).total_seconds() if previous.failing_since else None
            log.info(RECOVERED, meter_id=self.meter.id, down_s=down_s)
        self.last_reading = reading
        self._publish(self.meter.id, reading)
        return reading

    def _failed(self, error: str) -> None:
        if self._tracker.failure(self._clock.now(), error) == LOST:
            log.warning(LOST, meter_id=self.meter.id, error=error)
        if self._on_failure is not None:
            # Tell the consumer at once: a failing meter must degrade its zone
            # within one timeout, not only once the last sample has aged out.
            self._on_failure(self.meter.id, error)

    async def run(self) -> None:
        """Poll at the period until cancelled; a slow poll delays the next, it never stacks."""
        while True:
            started = self._clock.monotonic()
            await self.poll_once()
            _honour_cancellation()
            elapsed = self._clock.monotonic() - started
            await self._clock.sleep(max(0.0, self.period_s - elapsed))


def _honour_cancellation() -> None:
    """pymodbus waits with asyncio.wait_for, which on Python 3.11 can swallow a
    cancellation that lands as its request completes; the task still records
    the request, so a poller stopped at shutdown does not poll on forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def create_pollers(
    meters: Iterable[Meter],
    clock: Clock,
    publish: Publish,
    custom_models: Mapping[str, MeterModel] | None = None,
    bus_settings: BusSettings | None = None,
    period_s: float = DEFAULT_PERIOD_S,
    on_failure: Failed | None = None,
) -> tuple[BusRegistry, list[MeterPoller]]:
    """One poller per meter, meters on the same bus sharing one `ModbusBus`."""
    registry = BusRegistry(clock, bus_settings)
    pollers = [
        MeterPoller(m, get_model(m.model, custom_models), registry.bus_for(m), clock, publish, period_s, on_failure)
        for m in meters
    ]
    return registry, pollers


async def run_pollers(pollers: Iterable[MeterPoller]) -> None:
    """Run every poller in one TaskGroup (named tasks) until cancelled."""
    async with asyncio.TaskGroup() as group:
        for p in pollers:
            group.create_task(p.run(), name=f"meter-poller:{p.meter.id}")
