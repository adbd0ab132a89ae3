"""Simulated site equipment: OCPP stations, Modbus meters, digital inputs, a CPO.

Product, not test junk: `edgectl demo` and the benchmarks use them.
"""
