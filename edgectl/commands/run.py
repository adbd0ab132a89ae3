"""`edgectl run --config FILE`: the daemon (what the systemd unit starts).

Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 1 when start-up or a
service fails (systemd restarts it), 2 for a bad configuration file (a
restart would not help, the message names the problem).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import structlog

from edgectl.adapters.store import SchemaTooNewError
from edgectl.logs import configure_logging
from edgectl.settings import ConfigError, load_config
from edgectl.supervisor import run_daemon

log = structlog.get_logger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "Run the daemon until SIGTERM/SIGINT."


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        configure_logging(config.log)
    except (ConfigError, ValueError) as exc:
        print(f"edgectl run: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run_daemon(config))
    except SchemaTooNewError as exc:
        log.error("daemon.failed", error=str(exc))
        return 1
    except Exception as exc:
        # One line with the cause, the traceback below it; systemd restarts us.
        log.exception("daemon.failed", error=repr(exc))
        return 1
