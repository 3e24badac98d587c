"""Settings -> Jobs: the background-job queue by status and queue, keyset-paged, with retry."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import job_queue
from crm_app.state.audit import local_time
from crm_app.state.base import AppState
from crm_app.state.record_list import int_arg

ANY = "any"  # the "no filter" choice: a select item's value cannot be empty
PAGE_SIZE = 25
EVENT_WORDS = {
    "deferred": "queued",
    "started": "started",
    "deferred_for_retry": "waiting to retry",
    "failed": "failed",
    "succeeded": "succeeded",
    "cancelled": "cancelled",
    "abort_requested": "asked to stop",
    "aborted": "stopped",
    "retried": "retried",
}


def job_row(row: job_queue.JobRow, tz: str) -> dict[str, str]:
    """A job as the table shows it."""
    event = EVENT_WORDS.get(row.last_event or "", row.last_event or "")
    return {
        "id": str(row.id),
        "task": row.task,
        "queue": row.queue,
        "status": row.status,
        "status_label": job_queue.STATUSES.get(row.status, row.status),
        "attempts": str(row.attempts),
        "last": f"{event} {local_time(row.last_event_at, tz)}".strip() if event else "",
        "scheduled": local_time(row.scheduled_at, tz),
        "args": row.args,
        "error": row.error or "",
    }


class JobsState(AppState):
    """One page of jobs, the filters, the counts, and the retry being confirmed."""

    jobs: list[dict[str, str]] = []
    counts: list[dict[str, str]] = []  # status, label, count
    queues: list[str] = []
    status_filter: str = ANY
    queue_filter: str = ANY
    has_older: bool = False
    page_number: int = 1
    confirm_job: str = ""  # the id of the failed job whose retry is being confirmed
    confirm_task: str = ""
    # before_id of each page shown so far (None: the newest); the last one is on screen
    _cursors: list[int | None] = [None]

    def _show(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        counts = job_queue.count_by_status(session, actor=actor)
        self.counts = [
            {"status": s, "label": label, "count": str(counts[s])}
            for s, label in job_queue.STATUSES.items()
        ]
        self.queues = job_queue.list_queues(session, actor=actor)
        rows = job_queue.list_jobs(
            session,
            actor=actor,
            status=None if self.status_filter == ANY else self.status_filter,
            queue=None if self.queue_filter == ANY else self.queue_filter,
            before_id=self._cursors[-1],
            limit=PAGE_SIZE + 1,
        )
        self.has_older = len(rows) > PAGE_SIZE
        self.jobs = [job_row(r, actor.timezone) for r in rows[:PAGE_SIZE]]
        self.page_number = len(self._cursors)

    @rx.event
    def load(self):
        """on_load: the newest jobs of every status and queue (admins)."""
        self.status_filter = self.queue_filter = ANY
        self._cursors = [None]
        self.confirm_job = ""
        return self._load_page(self._show)

    @rx.event
    def refresh(self):
        """Read the queue again (jobs move on their own)."""
        return self._act_then(None, self._show)

    @rx.event
    def choose_status(self, value: str):
        """Show jobs of one status (or all)."""
        value = str(value)
        self.status_filter = value if value in job_queue.STATUSES else ANY
        self._cursors = [None]
        return self._act_then(None, self._show)

    @rx.event
    def choose_queue(self, value: str):
        """Show jobs of one queue (or all)."""
        self.queue_filter = str(value)[:128] or ANY
        self._cursors = [None]
        return self._act_then(None, self._show)

    @rx.event
    def older(self):
        """The next page back in time."""
        if not self.has_older or not self.jobs:
            return None
        self._cursors = [*self._cursors, int_arg(self.jobs[-1]["id"])]
        return self._act_then(None, self._show)

    @rx.event
    def newer(self):
        """The page before this one."""
        if len(self._cursors) > 1:
            self._cursors = self._cursors[:-1]
        return self._act_then(None, self._show)

    @rx.event
    def ask_retry(self, job_id: str):
        """Open the confirmation for retrying one failed job."""
        found = next((j for j in self.jobs if j["id"] == str(job_id)), None)
        if found is not None and found["status"] == "failed":
            self.confirm_job, self.confirm_task = found["id"], found["task"]

    @rx.event
    def close_retry(self, open_: bool = False):
        """Close the confirmation."""
        if not open_:
            self.confirm_job = ""

    @rx.event
    def retry(self):
        """Queue the confirmed failed job again, to run now."""
        job_id = int_arg(self.confirm_job)
        self.confirm_job = ""
        return self._act_then(
            lambda session, actor: job_queue.retry_job(session, actor=actor, job_id=job_id),
            self._show,
            f"Job {job_id} queued again.",
        )
