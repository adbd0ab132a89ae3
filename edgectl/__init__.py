"""edgectl: on-site EV-charging load management (OCPP 1.6J central system)."""

__version__ = "0.1.0"
