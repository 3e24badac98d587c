"""Settings -> Jobs: the queue by status and queue, newest first, and a failed job retried."""

from __future__ import annotations

import json

import procrastinate
import pytest
from sqlalchemy import text
from sqlmodel import select

from crm_app.db import session_scope
from crm_app.jobs import app as jobs_app
from crm_app.models import JobError
from crm_app.models.base import utcnow
from crm_app.services import audit, job_queue
from crm_app.services.errors import Forbidden, ValidationFailed
from tests.loop import run_in_own_loop


def add_job(db, *, task: str, status: str, queue: str = "default", **args) -> int:
    job_id = db.execute(
        text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
            " VALUES (:queue, :task, CAST(:args AS jsonb),"
            " CAST(:status AS procrastinate_job_status), :attempts) RETURNING id"
        ),
        {
            "queue": queue,
            "task": task,
            "args": json.dumps(args),
            "status": status,
            "attempts": 3 if status == "failed" else 0,
        },
    ).scalar_one()
    if status == "failed":
        db.execute(
            text("INSERT INTO procrastinate_events (job_id, type) VALUES (:id, 'failed')"),
            {"id": job_id},
        )
    return job_id


@pytest.fixture
def queue(db):
    """A queue with a waiting, a running and two failed jobs (and nothing else)."""
    db.execute(text("DELETE FROM procrastinate_jobs"))
    return {
        "waiting": add_job(db, task="run_workflow", status="todo", queue="workflows", run_id=1),
        "running": add_job(db, task="import_csv", status="doing", queue="imports", job_id=7),
        "failed": add_job(db, task="send_webhook", status="failed", queue="webhooks", x=1),
        "failed_too": add_job(db, task="run_workflow", status="failed", queue="workflows", y=2),
    }


def test_jobs_are_counted_and_listed_newest_first(db, people, queue):
    assert job_queue.count_by_status(db, actor=people.alice) == {"todo": 1, "doing": 1, "failed": 2}
    rows = job_queue.list_jobs(db, actor=people.alice)
    assert [r.id for r in rows] == sorted(queue.values(), reverse=True)
    failed = next(r for r in rows if r.id == queue["failed"])
    assert (failed.task, failed.queue, failed.status, failed.attempts) == (
        "send_webhook",
        "webhooks",
        "failed",
        3,
    )
    assert failed.args == '{"x": 1}' and failed.last_event == "failed"
    assert job_queue.list_queues(db, actor=people.alice) == ["imports", "webhooks", "workflows"]


def test_jobs_filter_by_status_and_queue_and_page(db, people, queue):
    failed = job_queue.list_jobs(db, actor=people.alice, status="failed")
    assert [r.id for r in failed] == [queue["failed_too"], queue["failed"]]
    in_workflows = job_queue.list_jobs(db, actor=people.alice, queue="workflows")
    assert {r.id for r in in_workflows} == {queue["waiting"], queue["failed_too"]}
    first = job_queue.list_jobs(db, actor=people.alice, limit=2)
    second = job_queue.list_jobs(db, actor=people.alice, limit=2, before_id=first[-1].id)
    assert [r.id for r in first + second] == sorted(queue.values(), reverse=True)
    with pytest.raises(ValidationFailed):
        job_queue.list_jobs(db, actor=people.alice, status="succeeded")


def test_a_failed_job_is_retried_now_and_audited(db, people, queue):
    job_queue.retry_job(db, actor=people.alice, job_id=queue["failed"])
    row = db.execute(
        text("SELECT status::text, attempts, scheduled_at FROM procrastinate_jobs WHERE id = :i"),
        {"i": queue["failed"]},
    ).one()
    assert row.status == "todo" and row.attempts == 4 and row.scheduled_at is not None
    assert job_queue.count_by_status(db, actor=people.alice) == {"todo": 2, "doing": 1, "failed": 1}
    [event] = audit.list_events(db, actor=people.alice, entity="job").rows
    assert (event.action, event.entity_id) == ("retry", queue["failed"])


def test_only_failed_jobs_are_retried(db, people, queue):
    with pytest.raises(ValidationFailed) as caught:
        job_queue.retry_job(db, actor=people.alice, job_id=queue["running"])
    assert caught.value.message == "Only a failed job can be retried."


def test_only_admins_see_or_retry_jobs(db, people, queue):
    for who in (people.mona, people.bob, people.vic):
        with pytest.raises(Forbidden):
            job_queue.list_jobs(db, actor=who)
        with pytest.raises(Forbidden):
            job_queue.retry_job(db, actor=who, job_id=queue["failed"])


def test_the_list_shows_what_a_failed_attempt_raised_and_keeps_the_last(db, people, queue):
    failed = queue["failed"]
    job_queue.note_failure(db, job_id=failed, attempt=1, error=TimeoutError("timed out"))
    job_queue.note_failure(db, job_id=failed, attempt=2, error=ValueError("x" * 2000))
    rows = {r.id: r for r in job_queue.list_jobs(db, actor=people.alice)}
    assert rows[failed].error.startswith("ValueError: xxx") and len(rows[failed].error) == 1000
    assert rows[queue["failed_too"]].error is None
    job_queue.forget_failure(db, job_id=failed)
    assert job_queue.list_jobs(db, actor=people.alice, status="failed")[-1].error is None


def test_errors_of_jobs_gone_from_the_queue_are_purged(db, people, queue):
    job_queue.note_failure(db, job_id=queue["failed"], attempt=3, error=OSError("refused"))
    job_queue.note_failure(db, job_id=queue["failed_too"], attempt=3, error=OSError("refused"))
    db.execute(text("DELETE FROM procrastinate_jobs WHERE id = :id"), {"id": queue["failed"]})
    assert job_queue.purge_orphan_errors(db) == 1
    [row] = db.exec(select(JobError)).all()
    assert row.job_id == queue["failed_too"] and row.error == "OSError: refused"


def test_a_worker_keeps_what_a_job_raised_and_forgets_it_once_a_retry_succeeds(engine):
    """A real worker over the test database, with the app's worker options."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=jobs_app.conninfo()))
    outcomes = [RuntimeError("SMTP said 550: no such user"), None]

    @app.task(name="flaky_for_test", queue="test_flaky")
    def flaky() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    options = jobs_app.worker_options(
        queues=["test_flaky"], wait=False, install_signal_handlers=False
    )

    async def first_then_retry() -> tuple[int, list[str]]:
        async with app.open_async():
            job_id = await flaky.defer_async()
            await app.run_worker_async(**options)  # fails, and stays failed (no retry)
            with session_scope() as session:
                seen = [r.error for r in session.exec(select(JobError)).all()]
            await app.job_manager.retry_job_by_id_async(job_id, retry_at=utcnow())
            await app.run_worker_async(**options)  # succeeds: the job and its error go
            return job_id, seen

    try:
        job_id, seen = run_in_own_loop(first_then_retry())
        assert seen == ["RuntimeError: SMTP said 550: no such user"]
        with session_scope() as session:
            assert session.get(JobError, job_id) is None
            assert (
                session.execute(
                    text("SELECT count(*) FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
                ).scalar_one()
                == 0
            )
    finally:
        with session_scope() as session:
            session.execute(text("DELETE FROM job_errors"))
            session.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name = 'test_flaky'"))
