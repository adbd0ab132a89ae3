"""`edgectl user add LOGIN --role ROLE [--zone ZONE]` / `edgectl user passwd LOGIN`.

Writes the store directly (the daemon may be running: SQLite serialises the
writes). The password is read from the terminal without echo, or from stdin
when it is not a terminal (one line; for scripts), and must pass the policy
of SPEC §6 (>= 8 characters, upper, lower, digit, special; login not
`admin`) - weak passwords are refused with the reason. Each change is a
security event in the event log. Exit codes: 0 ok, 1 store failure, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from edgectl.settings import ConfigError, DaemonConfig, load_config

ROLES = ("admin", "user", "webservices", "factory")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="create a web user")
    add.add_argument("login")
    add.add_argument("--role", choices=ROLES, default="user")
    add.add_argument("--zone", default=None, help="limit the user to this zone's subtree (operator domain)")
    pw = sub.add_parser("passwd", help="set a web user's password (also unlocks it)")
    pw.add_argument("login")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(args: argparse.Namespace) -> int:
    from edgectl.adapters.web.passwords import PolicyError, check_login, check_password

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        if args.user_command == "add" and args.role != "factory":
            check_login(args.login)
        password = _read_password()
        check_password(password, args.login)
    except (PolicyError, ValueError) as exc:
        print(f"edgectl user {args.user_command}: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_write(config, args, password))
    except Exception as exc:  # the store's failures, without a traceback
        print(f"edgectl user {args.user_command}: cannot write the store {config.db_path}: {exc}", file=sys.stderr)
        return 1


async def _write(config: DaemonConfig, args: argparse.Namespace, password: str) -> int:
    from edgectl.adapters.store import AlreadyExistsError, Event, EventType, Role, User, open_store
    from edgectl.adapters.web.passwords import hash_password

    password_hash = await asyncio.to_thread(hash_password, password)
    async with open_store(config.db_path) as store:
        if args.user_command == "add":
            if args.zone is not None:
                site = await store.site.load()
                if site is None or all(z.id != args.zone for z in site.zones):
                    print(f"edgectl user add: zone {args.zone!r} does not exist", file=sys.stderr)
                    return 2
            try:
                await store.users.create(User(args.login, password_hash, Role(args.role), args.zone))
            except AlreadyExistsError:
                print(f"edgectl user add: login {args.login!r} already exists", file=sys.stderr)
                return 2
            message = "user created (cli)"
        else:
            user = await store.users.get(args.login)
            if user is None:
                print(f"edgectl user passwd: no user {args.login!r}", file=sys.stderr)
                return 2
            await store.users.update(User(user.username, password_hash, user.role, user.zone_scope, 0, None))
            message = "password changed (cli)"
        await store.events.append(Event(EventType.SECURITY, message, source="cli", details={"user": args.login}))
    print(f"{message.split(' (')[0]}: {args.login}")
    return 0
