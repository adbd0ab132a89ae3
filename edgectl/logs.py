"""Logging: structlog for our events, the stdlib's loggers bridged into it.

One renderer for everything (ours and library records from aiosqlite,
websockets, aiohttp …): human-readable console lines, or one JSON object per
line for journald/shipping. Output goes to stderr, which systemd sends to the
journal; stdout stays free for commands that print data.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import structlog

from edgectl.settings import LogConfig

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def level_number(name: str) -> int:
    try:
        return _LEVELS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r} (one of {', '.join(_LEVELS)})") from None


def configure_logging(config: LogConfig, stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger; safe to call again."""
    level = level_number(config.level)
    if config.format not in ("console", "json"):
        raise ValueError(f"unknown log format {config.format!r} (console or json)")
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any
    if config.format == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,  # reconfiguring (tests, reload) must take effect
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiosqlite logs every statement at DEBUG: useless even when we debug.
    logging.getLogger("aiosqlite").setLevel(max(level, logging.INFO))
    # The ocpp library logs every frame at INFO: only worth it when debugging.
    logging.getLogger("ocpp").setLevel(level if level <= logging.DEBUG else logging.WARNING)


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Send structlog events to stderr while a CLI command runs.

    stdout carries data (site export, plan, cdr export), so logs must never
    land there, whatever was configured before in this process (tests run
    commands in-process after daemons). The previous configuration is put
    back afterwards. The daemon configures its own logging inside `run`.
    """
    previous = structlog.get_config()

    def to_stderr(*_args: Any) -> Any:
        return structlog.PrintLogger(sys.stderr)  # resolved late: sys.stderr may be swapped

    structlog.reset_defaults()
    structlog.configure(logger_factory=to_stderr)
    try:
        yield
    finally:
        structlog.configure(**previous)
