"""The OCPP 1.6J central system for the site's charging stations.

`OcppServer(config, store, observer, clock, site)` serves stations over
WebSocket, answers what they send (persisting sessions before answering),
configures them after boot and implements `edgectl.ports.StationCalls` for
the control loop. See docs/ocpp.md.
"""

from edgectl.adapters.ocpp.server import OcppServer, identity_from_path

__all__ = ["OcppServer", "identity_from_path"]
