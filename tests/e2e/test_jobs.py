"""Settings -> Jobs: an admin finds a failed job and retries it; the worker then runs it."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import text

from crm_app.models import JobError
from crm_app.services import job_queue
from tests.e2e.conftest import sign_in


def _a_failed_job(app_server) -> int:
    """A failed run of a harmless periodic task (it succeeds when run again)."""
    with app_server.session() as session:
        job_id = session.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
                " VALUES ('default', 'purge_stale_uploads', '{\"timestamp\": 0}', 'failed', 1)"
                " RETURNING id"
            )
        ).scalar_one()
        session.execute(
            text("INSERT INTO procrastinate_events (job_id, type) VALUES (:id, 'failed')"),
            {"id": job_id},
        )
        # what the worker keeps of the failed attempt
        job_queue.note_failure(
            session, job_id=job_id, attempt=1, error=PermissionError("uploads/ is read-only")
        )
        session.commit()
        return job_id


def _status(app_server, job_id: int) -> str | None:
    with app_server.session() as session:
        return session.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one_or_none()


def test_an_admin_retries_a_failed_job(new_page, app_server):
    job_id = _a_failed_job(app_server)
    page = new_page(width=1400, height=900)
    sign_in(page, app_server.admin_email)
    # the first page after the server starts can be slow on a busy machine
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(timeout=20_000)
    page.goto("/settings/jobs")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Failed", exact=True).click()
    jobs = page.get_by_role("table", name="Jobs")
    row = jobs.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(job_id)))
    expect(row).to_contain_text("purge_stale_uploads")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("PermissionError: uploads/ is read-only")
    expect(page.get_by_role("status", name="Jobs by status")).to_contain_text("Failed: ")

    row.get_by_role("button", name=f"Retry job {job_id}").click()
    confirm = page.get_by_role("alertdialog", name=f"Retry job {job_id}?")
    confirm.get_by_role("button", name="Retry job").click()
    expect(page.get_by_text(f"Job {job_id} queued again.")).to_be_visible()
    expect(jobs.get_by_role("rowheader", name=str(job_id))).to_have_count(0)

    # The in-process worker runs it; a job that succeeds leaves the queue.
    deadline = time.monotonic() + 30
    while _status(app_server, job_id) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _status(app_server, job_id) is None
    with app_server.session() as session:  # and the old error went with it
        assert session.get(JobError, job_id) is None


def test_reps_get_no_job_queue(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/jobs")
    expect(page.get_by_text("You don't have access to the job queue.")).to_be_visible()
