"""The web adapter: REST API (`/api/v1`), OpenAPI document, live feed, auth.

Depends on the store and on the Protocols of `edgectl.ports` only; the
supervisor injects the running controller (`LiveStatus`) and the remote
commands (`StationCommands`). See docs/api.md and docs/security.md.
"""

from edgectl.adapters.web.app import all_routes, create_app
from edgectl.adapters.web.deps import DEPS, SecurityPolicy, WebDeps
from edgectl.adapters.web.server import WebServer

__all__ = ["DEPS", "SecurityPolicy", "WebDeps", "WebServer", "all_routes", "create_app"]
