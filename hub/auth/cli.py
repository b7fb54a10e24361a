"""`bms-hub user add NAME --role ROLE` and `bms-hub user list`: manage users from the hub's machine.

The password is read from a prompt (or from stdin when it is not a terminal), never from the
command line, where `ps` and shell history would keep it. Works whether the hub runs or not:
SQLite lets this process write between the hub's batches.
"""

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from hub.auth.audit import AuditLog, AuthEvent
from hub.auth.passwords import Passwords, password_problem
from hub.auth.roles import Role
from hub.auth.users import USER_NAME, UserExists, UserStore
from hub.config import ConfigError, HubConfig, default_config, load_config
from hub.store_db import open_database

EXIT_USAGE = 2


def add_user_parser(commands: argparse._SubParsersAction) -> None:
    """Register `user add` and `user list` with the main parser."""
    user = commands.add_parser("user", help="manage the hub's users (web UI, REST API and broker)")
    user.add_argument("--config", type=Path, help="YAML configuration file (for data_dir)")
    user.add_argument("--data-dir", type=Path, help="where the hub keeps its data (overrides data_dir)")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user; the password is asked for (or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=[role.value for role in Role], default=Role.VIEWER.value)
    actions.add_parser("list", help="list the users and their roles")


def run_user_command(args: argparse.Namespace) -> int:
    """Run `bms-hub user ...`; the exit status."""
    try:
        config = load_config(args.config) if args.config else default_config()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    data_dir = args.data_dir or config.data_dir
    if args.user_command == "list":
        return asyncio.run(_list(config, data_dir))
    if not USER_NAME.fullmatch(args.name):
        print(f"{args.name!r}: use 1 to 64 letters, digits, '_', '.', '@' or '-'", file=sys.stderr)
        return EXIT_USAGE
    password = _read_password()
    problem = password_problem(password)
    if problem:
        print(f"password: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_add(config, data_dir, args.name, Role(args.role), password))


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            return ""
        return first
    return sys.stdin.readline().rstrip("\r\n")


class _Database:
    """One connection as both the writer and the reader (a short-lived command needs no more)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.reader = db

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        await self.reader.execute("BEGIN IMMEDIATE")
        try:
            yield self.reader
        except BaseException:
            await self.reader.execute("ROLLBACK")
            raise
        await self.reader.execute("COMMIT")


@contextlib.asynccontextmanager
async def _opened(data_dir: Path) -> AsyncIterator[_Database]:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    db = await open_database(data_dir / "hub.db")
    await db.execute("PRAGMA busy_timeout = 10000")  # wait for the running hub's commit, if any
    try:
        yield _Database(db)
    finally:
        await db.close()


async def _add(config: HubConfig, data_dir: Path, name: str, role: Role, password: str) -> int:
    async with _opened(data_dir) as db:
        try:
            await UserStore(db, Passwords(config.auth)).add(name, role, password)
        except UserExists:
            print(f"a user {name!r} exists already", file=sys.stderr)
            return EXIT_USAGE
        await AuditLog(db).record(AuthEvent.USER_ADDED, name, "cli", None, role=str(role))
    print(f"added {name} ({role})")
    return 0


async def _list(config: HubConfig, data_dir: Path) -> int:
    async with _opened(data_dir) as db:
        for user in await UserStore(db, Passwords(config.auth)).all():
            print(f"{user.name}\t{user.role}")
    return 0
