"""The `edgectl` command line. Each sub-command lives in edgectl/commands/<name>.py
and exposes `configure(parser)` and `main(args) -> int` (exit code).

Exit codes: 0 ok, 1 runtime failure, 2 bad input (named in the message).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("edgectl.commands.run", "run the daemon"),
    "demo": ("edgectl.commands.demo", "run the daemon plus a simulated site on loopback"),
    "site": ("edgectl.commands.site", "check, import or export the installer's site file"),
    "plan": ("edgectl.commands.plan", "dry-run the allocation for a site and a state file"),
    "cdr": ("edgectl.commands.cdr", "export charging data records (CSV)"),
    "user": ("edgectl.commands.user", "manage web users"),
    "backup": ("edgectl.commands.backup", "write an encrypted backup"),
    "restore": ("edgectl.commands.restore", "restore an encrypted backup"),
    "di": ("edgectl.commands.di", "drive the simulated digital inputs (test/demo)"),
}


def default_config_path() -> Path:
    env = os.environ.get("EDGECTL_CONFIG")
    if env:
        return Path(env)
    local = Path("config/edgectl.toml")
    if local.exists():
        return local
    return Path("/etc/edgectl/edgectl.toml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgectl", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, default=None, help="daemon configuration (default: $EDGECTL_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # not built yet
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="daemon configuration")
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.config is None:
        args.config = default_config_path()
    from edgectl.logs import logs_to_stderr

    try:
        # stdout carries data (site export, plan, cdr export): logs go to stderr.
        with logs_to_stderr():
            return int(args._module.main(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
