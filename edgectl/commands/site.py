"""`edgectl site check FILE | import FILE | export`: the installer's site file.

Rules:
- `check` only reads the file: exit 0 and a one-line summary, or exit 2 with
  every problem on stderr (one line each, naming file, entry and field);
- `import` validates first and replaces the whole site (cards included) in
  one store transaction: a file with any problem changes nothing;
- `export` prints the stored site as a site file on stdout, byte-stable
  (export -> import -> export gives the same bytes);
- stdout carries only the command's output (the TOML of `export`); logs and
  problems go to stderr.
Exit codes (edgectl.cli): 0 ok, 1 runtime failure (store), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from edgectl.core.site import Site
from edgectl.settings import ConfigError, DaemonConfig, load_config
from edgectl.sitefile import SiteFileError, export_site, load_site_file


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate a site file (nothing is written)")
    check.add_argument("file", type=Path, help="site file (TOML)")
    imp = sub.add_parser("import", help="validate a site file and replace the stored site with it")
    imp.add_argument("file", type=Path, help="site file (TOML)")
    sub.add_parser("export", help="print the stored site as a site file (TOML) on stdout")


def main(args: argparse.Namespace) -> int:
    action = args.site_command
    if action == "export":
        return _export(args)
    try:
        site = load_site_file(args.file)
    except SiteFileError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        noun = "problem" if len(exc.issues) == 1 else "problems"
        print(f"{exc.source}: {len(exc.issues)} {noun}; nothing was imported", file=sys.stderr)
        return 2
    if action == "check":
        print(f"{args.file}: OK: {summary(site)}")
        return 0
    return _import(args, site)


def summary(site: Site) -> str:
    connectors = sum(len(s.connectors) for s in site.stations)
    reporting = sum(1 for m in site.meters if m.reporting)
    return (
        f"{_count(len(site.zones), 'zone')}, {_count(len(site.stations), 'station')}, "
        f"{_count(connectors, 'connector')}, {_count(len(site.meters), 'meter')} ({reporting} reporting), "
        f"{_count(len(site.cards), 'card')}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _config(args: argparse.Namespace) -> DaemonConfig | None:
    try:
        return load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _import(args: argparse.Namespace, site: Site) -> int:
    config = _config(args)
    if config is None:
        return 2
    try:
        asyncio.run(_replace(config, site))
    except Exception as exc:  # the store's failures, reported without a traceback
        print(f"edgectl site import: cannot write the store {config.db_path}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.file}: imported into {config.db_path}: {summary(site)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        return 2
    try:
        site = asyncio.run(_load(config))
    except Exception as exc:
        print(f"edgectl site export: cannot read the store {config.db_path}: {exc}", file=sys.stderr)
        return 1
    if site is None:
        print(f"edgectl site export: no site in {config.db_path} yet (edgectl site import FILE)", file=sys.stderr)
        return 1
    sys.stdout.write(export_site(site))
    return 0


async def _replace(config: DaemonConfig, site: Site) -> None:
    from edgectl.adapters.store import open_store

    async with open_store(config.db_path) as store:
        await store.site.replace(site)


async def _load(config: DaemonConfig) -> Site | None:
    from edgectl.adapters.store import open_store

    async with open_store(config.db_path) as store:
        return await store.site.load()
