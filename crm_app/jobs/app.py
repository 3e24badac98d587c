"""The procrastinate app over the CRM's database, deferring jobs, and running workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

import procrastinate
from procrastinate.exceptions import JobAborted
from procrastinate.manager import JobManager
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from procrastinate.tasks import configure_task
from sqlalchemy.engine import make_url
from sqlmodel import Session

from crm_app.db import database_url
from crm_app.settings import get_settings

log = logging.getLogger(__name__)

# A worker asked to stop lets running jobs finish their chunk for this long, then asks them to
# stop; Reflex gives lifespan tasks 5 s to clean up.
SHUTDOWN_GRACE_SECONDS = 2.0


def conninfo() -> str:
    """The libpq URL of the app's database (SQLAlchemy's `+psycopg` driver part removed)."""
    url = make_url(database_url()).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@lru_cache
def get_app() -> procrastinate.App:
    """The process-wide procrastinate app with every task registered (not yet opened)."""
    from crm_app.jobs import tasks

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(), min_size=1, max_size=4)
    )
    tasks.register(app)
    return app


def defer(
    session: Session,
    task_name: str,
    *,
    queue: str,
    lock: str | None = None,
    queueing_lock: str | None = None,
    schedule_at: datetime | None = None,
    **task_kwargs: Any,
) -> int:
    """Queue a job on the session's own connection, so it exists only if the caller's
    transaction commits (no job for a rolled-back import, no import without its job).
    `schedule_at` holds the job back until then. Returns the procrastinate job id."""
    raw = session.connection().connection.driver_connection
    # A connector that is never opened: deferring with `connection=` runs on ours.
    manager = JobManager(connector=SyncPsycopgConnector())
    deferrer = configure_task(
        name=task_name,
        job_manager=manager,
        queue=queue,
        lock=lock,
        queueing_lock=queueing_lock,
        schedule_at=schedule_at,
        connection=raw,
    )
    return deferrer.defer(**task_kwargs)


def worker_options(concurrency: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Options shared by the in-process worker and `crm worker`."""
    return {
        "concurrency": concurrency or get_settings().worker_concurrency,
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        # finished jobs live on in import_jobs; failed ones stay in the queue to look into
        "delete_jobs": "successful",
        "worker_middleware": [note_failures],
        **overrides,
    }


async def note_failures(
    call_next: Callable[[], Awaitable[Any]], context: procrastinate.JobContext, worker: Any
) -> Any:
    """Worker middleware: keep what a job raised (procrastinate keeps only that it failed),
    and forget it when a later attempt succeeds. An import paused by a shutdown is not a
    failure."""
    from crm_app.services import job_queue

    job = context.job
    try:
        result = await call_next()
    except JobAborted:
        raise
    except Exception as error:
        note = partial(job_queue.note_failure, job_id=job.id, attempt=job.attempts + 1, error=error)
        await asyncio.to_thread(_on_the_side, job.id, note)
        raise
    if job.attempts:  # a retry: an earlier attempt may have left an error
        forget = partial(job_queue.forget_failure, job_id=job.id)
        await asyncio.to_thread(_on_the_side, job.id, forget)
    return result


def _on_the_side(job_id: int | None, write: Callable[[Session], None]) -> None:
    """Write about a job in a transaction of its own; a failure here is logged, never put in
    place of the job's own outcome."""
    from crm_app.db import session_scope

    if job_id is None:
        return
    try:
        with session_scope() as session:
            write(session)
    except Exception:
        log.exception("Could not keep the outcome of job %s", job_id)


async def _work(app: procrastinate.App, options: dict[str, Any]) -> None:
    from crm_app.jobs.tasks import retry_stalled

    await retry_stalled(app)  # what a killed worker left behind resumes at once
    await app.run_worker_async(**options)


def run_worker(*, concurrency: int | None = None, queues: list[str] | None = None) -> None:
    """Run a worker in the foreground until SIGINT/SIGTERM (`crm worker`)."""
    options = worker_options(concurrency, name="crm-worker")
    if queues:
        options["queues"] = queues
    app = get_app()

    async def main() -> None:
        async with app.open_async():
            await _work(app, options)

    asyncio.run(main())


@contextlib.asynccontextmanager
async def in_process_worker() -> AsyncIterator[None]:
    """Reflex lifespan task: a worker inside the backend process for as long as it runs.

    Switched off with CRM_WORKER_IN_PROCESS=false when `crm worker` processes do the work.
    """
    if not get_settings().worker_in_process:
        yield
        return
    app = get_app()
    async with app.open_async():
        options = worker_options(name="backend", install_signal_handlers=False)
        worker = asyncio.create_task(_work(app, options), name="procrastinate")
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
