"""Errors as RFC 9457 `application/problem+json`, one shape for every failure.

Handlers raise `Problem`; the middleware (in `app`) turns it, and aiohttp's
own HTTP errors (404, 405, bad JSON), into a problem document with a clear
`detail`. Unexpected exceptions become a 500 problem and are logged with
their traceback, never shown to the client.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PROBLEM_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    423: "Locked",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def problem_response(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_TYPE)


def from_problem(p: Problem, instance: str) -> web.Response:
    resp = problem_response(p.status, p.detail, instance=instance, errors=p.errors, **p.extra)
    resp.headers.update(p.headers)
    return resp
