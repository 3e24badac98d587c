"""The background-job queue as admins see it (Settings -> Jobs): procrastinate's own tables,
read in SQL with paging, and retrying a failed job through procrastinate's retry procedure.

Workers delete jobs that succeed (`jobs.app.worker_options`), so the queue holds what is
waiting (todo), running (doing), failed or cancelled. Each row's latest event (queued,
started, failed...) comes from `procrastinate_events`, and the error a failed attempt raised
from `job_errors`, which the worker writes (`note_failure`) since procrastinate keeps none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procrastinate import sql as procrastinate_sql
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from crm_app.models import JobError, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.permission import require

PAGE = 25
# The statuses the page shows, in its order, with their words.
STATUSES: dict[str, str] = {"todo": "Queued", "doing": "Running", "failed": "Failed"}
ARGS_SHOWN = 200  # characters of a job's arguments in the list
ERROR_KEPT = 1000  # characters of a failed attempt's error


@dataclass(frozen=True)
class JobRow:
    """One job as the list shows it."""

    id: int
    queue: str
    task: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    args: str
    last_event: str | None
    last_event_at: datetime | None
    error: str | None = None  # what the last failed attempt raised


def _admin(session: Session, actor: User) -> None:
    require(session, actor, "setting", "manage")


def count_by_status(session: Session, *, actor: User) -> dict[str, int]:
    """How many jobs are queued, running and failed (every status the page shows, 0 if none)."""
    _admin(session, actor)
    rows = session.execute(
        text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
    )
    found = dict(rows.all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def list_queues(session: Session, *, actor: User) -> list[str]:
    """The queue names jobs are waiting or failed in, sorted (a handful)."""
    _admin(session, actor)
    rows = session.execute(
        text("SELECT DISTINCT queue_name FROM procrastinate_jobs ORDER BY queue_name LIMIT 100")
    )
    return list(rows.scalars())


def _args(raw: Any) -> str:
    shown = json.dumps(raw, sort_keys=True, default=str)
    return shown if len(shown) <= ARGS_SHOWN else shown[: ARGS_SHOWN - 1] + "…"


def list_jobs(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    queue: str | None = None,
    before_id: int | None = None,
    limit: int = PAGE,
) -> list[JobRow]:
    """Jobs newest first, optionally of one status (of STATUSES) and queue, with an id below
    `before_id` (the next page); a page of `limit` rows."""
    _admin(session, actor)
    if status and status not in STATUSES:
        raise ValidationFailed.for_field("status", "Pick queued, running or failed.")
    rows = session.execute(
        text(
            """
            SELECT j.id, j.queue_name, j.task_name, j.status::text AS status, j.attempts,
                   j.scheduled_at, j.args, e.type::text AS last_event, e.at AS last_event_at,
                   f.error
              FROM procrastinate_jobs j
              LEFT JOIN job_errors f ON f.job_id = j.id
              LEFT JOIN LATERAL (
                    SELECT type, at FROM procrastinate_events
                     WHERE job_id = j.id ORDER BY id DESC LIMIT 1
              ) e ON true
             WHERE j.status::text IN ('todo', 'doing', 'failed')
               AND (CAST(:status AS text) IS NULL OR j.status::text = :status)
               AND (CAST(:queue AS text) IS NULL OR j.queue_name = :queue)
               AND (CAST(:before AS bigint) IS NULL OR j.id < :before)
             ORDER BY j.id DESC
             LIMIT :limit
            """
        ),
        {
            "status": status or None,
            "queue": queue or None,
            "before": int(before_id) if before_id else None,
            "limit": max(1, min(int(limit), 100)),
        },
    )
    return [
        JobRow(
            id=r.id,
            queue=r.queue_name,
            task=r.task_name,
            status=r.status,
            attempts=r.attempts,
            scheduled_at=r.scheduled_at,
            args=_args(r.args),
            last_event=r.last_event,
            last_event_at=r.last_event_at,
            error=r.error,
        )
        for r in rows
    ]


def retry_job(session: Session, *, actor: User, job_id: int) -> None:
    """Queue a failed job again, to run now, in the caller's transaction (audited)."""
    _admin(session, actor)
    found = session.execute(
        text("SELECT status::text, task_name FROM procrastinate_jobs WHERE id = :id FOR UPDATE"),
        {"id": int(job_id)},
    ).first()
    if found is None:
        raise NotFound("No such job.")
    if found.status != "failed":
        raise ValidationFailed.for_field("job_id", "Only a failed job can be retried.")
    # procrastinate's own retry (its `retry_job` query, the procedure JobManager.retry_job
    # calls), run on our connection so the retry and its audit entry commit together.
    raw = session.connection().connection.driver_connection
    SyncPsycopgConnector().execute_query_one_with_connection(
        raw,
        query=procrastinate_sql.queries["retry_job"],
        job_id=int(job_id),
        retry_at=utcnow(),
        new_priority=None,
        new_queue_name=None,
        new_lock=None,
    )
    audit.record(
        session,
        actor=actor,
        action="retry",
        entity="job",
        entity_id=int(job_id),
        changes={"task": [None, found.task_name], "status": ["failed", "todo"]},
    )


# ---- why jobs failed (written by the worker) --------------------------------------------------


def note_failure(session: Session, *, job_id: int, attempt: int, error: BaseException) -> None:
    """Keep what an attempt of a job raised (the last one wins), for the Jobs page."""
    shown = f"{type(error).__name__}: {error}".strip().removesuffix(":")
    if len(shown) > ERROR_KEPT:
        shown = shown[: ERROR_KEPT - 1] + "…"
    values = {"attempt": attempt, "error": shown, "failed_at": utcnow()}
    session.execute(
        insert(JobError)
        .values(job_id=job_id, **values)
        .on_conflict_do_update(index_elements=["job_id"], set_=values)
    )


def forget_failure(session: Session, *, job_id: int) -> None:
    """A job that failed before has now succeeded: its old error goes."""
    session.execute(delete(JobError).where(JobError.job_id == job_id))


def purge_orphan_errors(session: Session) -> int:
    """Delete the errors of jobs no longer in the queue; returns how many."""
    result = session.execute(
        text(
            "DELETE FROM job_errors f WHERE NOT EXISTS "
            "(SELECT 1 FROM procrastinate_jobs j WHERE j.id = f.job_id)"
        )
    )
    return result.rowcount or 0
