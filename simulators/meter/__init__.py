"""Simulated Modbus power meters built from edgectl's meter model files.

Product, not test junk: `edgectl demo` and the tests use them.
`python -m simulators.meter --help` for the command line.
"""

from simulators.meter.physics import BaseLoadProfile, MeterPhysics, PhysicalSample
from simulators.meter.pty import PtyPair
from simulators.meter.server import Fault, MeterServer, RequestRecord, SimMeter

__all__ = [
    "BaseLoadProfile",
    "Fault",
    "MeterPhysics",
    "MeterServer",
    "PhysicalSample",
    "PtyPair",
    "RequestRecord",
    "SimMeter",
]
