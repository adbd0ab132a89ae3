"""A faithful OCPP 1.6J charging-station simulator (see docs/simulators.md).

`SimStation` is one station (asyncio); `Car`/`Ev` the vehicle model;
`profiles` the pure smart-charging logic; `Fleet` many stations in one process.
"""

from simulators.station.clock import SimClock
from simulators.station.connector import Connector
from simulators.station.ev import Car, Ev, EvState
from simulators.station.fleet import Fleet
from simulators.station.station import SimStation

__all__ = ["Car", "Connector", "Ev", "EvState", "Fleet", "SimClock", "SimStation"]
