"""Backups of the whole database (the CRM's tables and procrastinate's job queue) with
pg_dump's custom format, and their restore with pg_restore.

The client tools are taken from the embedded pgserver's install first, then from PATH; the
first one at least as new as the server is used, because pg_dump refuses a newer server and
pg_restore cannot read an archive written by a newer pg_dump.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Tables outside PostgreSQL's own schemas mean the database holds data a restore would overwrite.
COUNT_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
"""


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Tool:
    """One PostgreSQL client program and its major version."""

    path: Path
    major: int


def _candidate_dirs() -> list[Path]:
    """Where to look for pg_dump and pg_restore, in order of preference."""
    dirs = []
    try:
        import pgserver

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return dirs


def _major(program: Path) -> int:
    """The major version of a client program, from `--version` ("pg_dump (PostgreSQL) 16.2")."""
    output = subprocess.run(  # noqa: S603 - a PostgreSQL client found on disk
        [str(program), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", output.rsplit(")", 1)[-1])
    return int(found.group(1)) if found else 0


def find_tools(name: str) -> list[Tool]:
    """Every `name` program (pg_dump or pg_restore) found, in order of preference."""
    tools, seen = [], set()
    for folder in _candidate_dirs():
        program = folder / name
        if not (program.is_file() and os.access(program, os.X_OK)):
            continue
        real = program.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            tools.append(Tool(program, _major(program)))
        except (OSError, subprocess.CalledProcessError):
            continue
    return tools


def pick_tool(name: str, at_least: int) -> Tool:
    """The first `name` program whose major version is at least `at_least`."""
    tools = find_tools(name)
    for tool in tools:
        if tool.major >= at_least:
            return tool
    found = ", ".join(f"{t.path} ({t.major})" for t in tools) or "none"
    raise BackupError(
        f"{name} {at_least} or newer is needed (found: {found}); install the PostgreSQL "
        f"client tools (e.g. the postgresql-client-{at_least} package) or put them on PATH."
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the client tools, and the environment carrying the
    password (kept off the command line, where other users could read it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _scalar(url: str, sql: str):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def server_major(url: str) -> int:
    """The major version of the server behind `url` (15 for 15.4)."""
    return int(_scalar(url, "SHOW server_version_num")) // 10000


def table_count(url: str) -> int:
    """How many tables the database holds outside PostgreSQL's own schemas."""
    return int(_scalar(url, COUNT_TABLES))


def _run(args: list[str], env: dict[str, str], action: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{action} failed: {done.stderr.strip() or done.stdout.strip()}")


def backup(url: str, file: Path) -> Tool:
    """Write the whole database behind `url` to `file` (pg_dump's custom format)."""
    tool = pick_tool("pg_dump", server_major(url))
    uri, env = _libpq(url)
    file = Path(file)
    partial = file.with_name(file.name + ".partial")
    # Written beside the target and renamed at the end: a failed dump never replaces a backup.
    _run(
        [
            str(tool.path),
            "--format=custom",
            "--no-password",
            f"--file={partial}",
            f"--dbname={uri}",
        ],
        env,
        "pg_dump",
    )
    partial.replace(file)
    return tool


def dumped_by(file: Path) -> int:
    """The major version of the pg_dump that wrote `file` (0 when the header does not say)."""
    tools = find_tools("pg_restore")
    if not tools:
        raise BackupError("pg_restore was not found; install the PostgreSQL client tools.")
    newest = max(tools, key=lambda t: t.major)
    done = subprocess.run(  # noqa: S603
        [str(newest.path), "--list", str(file)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{file} is not a backup pg_restore can read: {done.stderr.strip()}")
    found = re.search(r"Dumped by pg_dump version: (\d+)", done.stdout)
    return int(found.group(1)) if found else 0


def restore(url: str, file: Path, *, force: bool = False) -> Tool:
    """Restore `file` into the database behind `url`, in one transaction.

    Refuses a database that already has tables unless `force`, when the archive's objects
    replace theirs (tables the archive does not know are left alone).
    """
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"No backup file {file}.")
    existing = table_count(url)
    if existing and not force:
        database = make_url(url).database
        raise BackupError(
            f"The database {database!r} is not empty ({existing} tables). Restore into an "
            "empty database, or pass --force to replace its contents with the backup's."
        )
    tool = pick_tool("pg_restore", max(server_major(url), dumped_by(file)))
    uri, env = _libpq(url)
    # --no-owner/--no-acl: the archive's roles need not exist here; the restoring user owns all.
    _run(
        [
            str(tool.path),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={uri}",
            str(file),
        ],
        env,
        "pg_restore",
    )
    return tool
