"""`edgectl cdr export [--from DATE] [--to DATE]`: the transactions CSV (SPEC §6) on stdout.

The same CSV as `GET /api/v1/sessions/export` (edgectl.adapters.web.cdr),
streamed: a million sessions in constant memory. DATE is an ISO 8601 date
(taken at midnight in the site's time zone) or date-time with an offset;
`--from` is inclusive, `--to` exclusive, both on the session's start.
Exit codes: 0 ok, 1 store failure, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from edgectl.settings import ConfigError, DaemonConfig, load_config


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cdr_command", required=True, metavar="ACTION")
    exp = sub.add_parser("export", help="print the transactions CSV on stdout")
    exp.add_argument("--from", dest="start", default=None, help="sessions started at/after (date or date-time)")
    exp.add_argument("--to", dest="end", default=None, help="sessions started before (date or date-time)")


def parse_bound(raw: str | None, timezone: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 date or date-time") from None
    if value.tzinfo is None:
        if len(raw) == 10:  # a plain date: midnight on the site's clock
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), ZoneInfo(timezone))
        raise ValueError(f"{raw!r}: a date-time needs an offset (e.g. +01:00)")
    return value


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        return asyncio.run(export(config, args.start, args.end))
    except ValueError as exc:
        print(f"edgectl cdr export: {exc}", file=sys.stderr)
        return 2


async def export(config: DaemonConfig, start: str | None, end: str | None) -> int:
    from edgectl.adapters.store import open_store
    from edgectl.adapters.web.cdr import write_csv
    from edgectl.clock import SystemClock
    from edgectl.core.site import Site

    if not config.db_path.exists():
        print(f"edgectl cdr export: no store at {config.db_path}", file=sys.stderr)
        return 1
    async with open_store(config.db_path) as store:
        site = await store.site.load() or Site()
        lo = parse_bound(start, site.settings.timezone)
        hi = parse_bound(end, site.settings.timezone)
        out = sys.stdout

        async def write(text: str) -> None:
            out.write(text)

        await write_csv(write, store, site, lo, hi, SystemClock().now())
        out.flush()
    return 0
