"""HTTP file endpoints for stations: firmware downloads and diagnostics uploads.

`FileServer(FileEndpoints(firmware_dir, diagnostics_dir), host, port)`; see
server.py for the rules and docs/operations.md for the URLs.
"""

from edgectl.adapters.files.server import DEFAULT_MAX_UPLOAD_BYTES, FileEndpoints, FileServer, safe_name

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "FileEndpoints", "FileServer", "safe_name"]
