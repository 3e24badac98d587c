"""`python -m bench.run` (`make bench`): time each scenario on the production server.

The scale data set is generated once per database and reused (see bench.dataset for where the
database is and BENCH_SCALE for its size). BENCH_PORT picks the server's port (default 3210,
or any free port when that one is taken); BENCH_ONLY=word,word runs only the scenarios whose
names contain one of the words. Prints the median and p95 of each scenario.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy.engine import make_url

from bench.dataset import (
    bench_database_url,
    bench_scale,
    prepare_dataset,
    use_database,
    vacuum_analyze,
)
from bench.harness import format_table, run_scenario
from bench.scenarios import SCENARIOS, BenchContext

BENCH_USER = "admin@scale.example"  # sees every record: the heaviest dashboard
DEFAULT_PORT = 3210


def main() -> int:
    """Prepare the data set, start the server, run every scenario and print the table."""
    from crm_app.services.errors import Conflict

    scale = bench_scale()
    url = bench_database_url()
    use_database(url)
    print(f"Database: {make_url(url).render_as_string(hide_password=True)}", flush=True)
    try:
        report = prepare_dataset(scale)
    except Conflict as error:
        hint = "set BENCH_SCALE to its size, or drop it (embedded: delete data/bench-pg)"
        print(
            f"error: {error}\nThe bench keeps one data set per database: {hint}.", file=sys.stderr
        )
        return 1
    print(report or f"Reusing the scale data set (n={scale}) already in the database.", flush=True)
    with ExitStack() as stack:
        base_url = stack.enter_context(_server(url))
        print(f"Server: {base_url}", flush=True)
        api_key = stack.enter_context(_api_key(BENCH_USER))
        ctx = BenchContext(base_url, BENCH_USER, _password(), api_key, stack)
        results = []
        for scenario in _chosen(SCENARIOS):
            vacuum_analyze()
            started = time.perf_counter()
            results.append(run_scenario(scenario, ctx))
            print(f"  {scenario.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print()
    print(format_table(results))
    return 1 if any(r.failed for r in results) else 0


def _chosen(scenarios: list) -> list:
    """The scenarios BENCH_ONLY names (all when unset)."""
    words = [w.strip().lower() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()]
    return [s for s in scenarios if not words or any(w in s.name.lower() for w in words)]


def _password() -> str:
    from crm_app.seeding.scale import SCALE_PASSWORD

    return SCALE_PASSWORD


def _free_port() -> int:
    """BENCH_PORT, else 3210 when free, else any free port."""
    if port := os.environ.get("BENCH_PORT"):
        return int(port)
    for candidate in (DEFAULT_PORT, 0):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


@contextmanager
def _server(database_url: str) -> Iterator[str]:
    """The production server over the bench database, with a frontend build of its own."""
    from crm_app.server import running_server
    from crm_app.settings import PROJECT_ROOT

    data_dir = PROJECT_ROOT / "data" / "bench"
    print("Starting the production server (it builds the frontend first) ...", flush=True)
    with running_server(database_url=database_url, port=_free_port(), data_dir=data_dir,
                        log_path=data_dir / "server.log",
                        web_dir=PROJECT_ROOT / ".web-bench",
                        # the webhook scenarios deliver to a receiver on 127.0.0.1
                        extra_env={"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"}) as base_url:  # fmt: skip
        yield base_url


@contextmanager
def _api_key(email: str) -> Iterator[str]:
    """A fresh API key for the user, revoked when the benchmark ends."""
    from crm_app.db import session_scope
    from crm_app.services import api_key
    from crm_app.services.auth import find_user_by_email

    with session_scope() as session:
        user = find_user_by_email(session, email)
        created = api_key.create_key(session, actor=user, name="bench")
    try:
        yield created.plaintext
    finally:
        with session_scope() as session:
            user = find_user_by_email(session, email)
            api_key.revoke_key(session, actor=user, key_id=created.key.id)


if __name__ == "__main__":
    sys.exit(main())
