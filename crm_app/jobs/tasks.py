"""Every background task, by name, and `register`, which puts them all on the app.

Tasks stay small: they call one service function, which does the work and keeps its own
progress in the database, so a job that is interrupted and run again picks up where it was.

Retries (procrastinate.RetryStrategy, per task): work that talks to the outside world or can
lose its database connection mid-way retries with exponential backoff (e-mail: SEND_EMAIL_RETRY;
workflow rule runs: RUN_WORKFLOW_RETRY, 2 s doubling up to ~8 min); an interrupted import
resumes after a constant 5 s (IMPORT_RETRY: it is paused, not failing); webhook deliveries keep
their own backoff schedule on the delivery row (the job only retries a lost connection).
Periodic tasks (reminders, date rules, purges, daily rescoring) have no retry: the next tick
does the same work. A job that runs out of retries stays failed in the queue, listed on
Settings -> Jobs, where an admin can retry it; every task is safe to run more than once.
"""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.exceptions import JobAborted
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

IMPORTS_QUEUE = "imports"
IMPORT_CSV = "import_csv"
RETRY_STALLED_JOBS = "retry_stalled_jobs"
PURGE_STALE_UPLOADS = "purge_stale_uploads"
PURGE_TRASH = "purge_trash"
FIRE_REMINDERS = "fire_reminders"
PURGE_RATE_LIMITS = "purge_rate_limits"
PURGE_JOB_ERRORS = "purge_job_errors"

# An import interrupted by a shutdown, or by a lost database connection, runs again and
# resumes from its last committed chunk.
IMPORT_RETRY = procrastinate.RetryStrategy(
    max_attempts=20, wait=5, retry_exceptions={JobAborted, OperationalError}
)
STALLED_AFTER_SECONDS = 60


def import_csv(context: procrastinate.JobContext, job_id: int) -> None:
    """Import (or go on importing) the CSV file of ImportJob `job_id`."""
    from crm_app.services import importer

    finished = importer.run_import(job_id, should_stop=context.should_abort)
    if not finished:
        raise JobAborted(f"import {job_id} paused; it resumes when a worker picks it up again")


async def retry_stalled(app: procrastinate.App) -> int:
    """Put back in the queue the jobs of workers that died (killed, crashed, power lost);
    returns how many. Workers call it when they start, and every minute."""
    manager = app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    for job in stalled:
        log.warning("Retrying job %s (%s) of a worker that stopped", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    """The periodic task behind `retry_stalled`."""
    await retry_stalled(context.app)


def purge_stale_uploads(timestamp: int) -> None:
    """Delete CSV uploads left behind by imports that were never started."""
    from crm_app.db import session_scope
    from crm_app.services.importer import storage

    with session_scope() as session:
        removed = storage.purge_stale(session)
    if removed:
        log.info("Deleted %s stale uploads", removed)


def purge_trash(timestamp: int) -> None:
    """Delete for good what has been in the trash for more than 30 days."""
    from crm_app.db import session_scope
    from crm_app.services import trash

    with session_scope() as session:
        purged = trash.purge_expired(session)
    if purged:
        log.info("Purged %s records from the trash", purged)


def fire_reminders(timestamp: int) -> None:
    """Tell owners about the activities whose reminder time has come, a batch per transaction
    until none is left."""
    from crm_app.db import session_scope
    from crm_app.services import reminder

    while True:
        with session_scope() as session:
            claimed = reminder.fire_due_reminders(session, limit=reminder.BATCH)
        if claimed < reminder.BATCH:
            return


def purge_rate_limits(timestamp: int) -> None:
    """Delete rate-limit counters of windows that no longer count."""
    from crm_app.db import session_scope
    from crm_app.services import rate_limit

    with session_scope() as session:
        rate_limit.purge_expired(session)


def purge_job_errors(timestamp: int) -> None:
    """Delete the kept errors of jobs that have left the queue."""
    from crm_app.db import session_scope
    from crm_app.services import job_queue

    with session_scope() as session:
        job_queue.purge_orphan_errors(session)


def register(app: procrastinate.App) -> None:
    """Register every task on `app` (called once, when the app is built)."""
    app.task(name=IMPORT_CSV, queue=IMPORTS_QUEUE, pass_context=True, retry=IMPORT_RETRY)(
        import_csv
    )
    stalled = app.task(name=RETRY_STALLED_JOBS, pass_context=True)(retry_stalled_jobs)
    app.periodic(cron="* * * * *", periodic_id=RETRY_STALLED_JOBS)(stalled)
    purge = app.task(name=PURGE_STALE_UPLOADS)(purge_stale_uploads)
    app.periodic(cron="17 * * * *", periodic_id=PURGE_STALE_UPLOADS)(purge)
    trash = app.task(name=PURGE_TRASH)(purge_trash)
    app.periodic(cron="43 3 * * *", periodic_id=PURGE_TRASH)(trash)
    # The queueing lock keeps at most one waiting behind a long job (one worker, one import).
    reminders = app.task(name=FIRE_REMINDERS, queueing_lock=FIRE_REMINDERS)(fire_reminders)
    app.periodic(cron="* * * * * */15", periodic_id=FIRE_REMINDERS)(reminders)  # 6th: seconds
    limits = app.task(name=PURGE_RATE_LIMITS)(purge_rate_limits)
    app.periodic(cron="*/10 * * * *", periodic_id=PURGE_RATE_LIMITS)(limits)
    errors = app.task(name=PURGE_JOB_ERRORS)(purge_job_errors)
    app.periodic(cron="29 4 * * *", periodic_id=PURGE_JOB_ERRORS)(errors)
    register_lead_tasks(app)
    register_mail_tasks(app)
    register_workflow_tasks(app)
    register_webhook_tasks(app)


# ---- leads -----------------------------------------------------------------------------------

LEADS_QUEUE = "leads"
RESCORE_LEADS = "rescore_leads"
RESCORE_LEADS_DAILY = "rescore_leads_daily"
PURGE_FORM_SUBMISSIONS = "purge_form_submissions"


def rescore_leads(context: procrastinate.JobContext) -> None:
    """Rescore every lead after the scoring rules changed (queued by the rule services)."""
    from crm_app.services import lead_scoring

    if not lead_scoring.run_rescore(should_stop=context.should_abort):
        raise JobAborted("rescoring stopped; the next rule change or the daily run redoes it")


def rescore_leads_daily(timestamp: int) -> None:
    """Rescore every lead when a rule counts recent activities: those scores age by the day."""
    from crm_app.services import lead_scoring

    lead_scoring.run_rescore(only_if_time_based=True)


def purge_form_submissions(timestamp: int) -> None:
    """Forget web-form submissions older than the rate limit's window."""
    from crm_app.db import session_scope
    from crm_app.services import lead_form

    with session_scope() as session:
        lead_form.purge_submissions(session)


def register_lead_tasks(app: procrastinate.App) -> None:
    """Register the lead tasks on `app` (part of `register`)."""
    app.task(name=RESCORE_LEADS, queue=LEADS_QUEUE, pass_context=True)(rescore_leads)
    daily = app.task(name=RESCORE_LEADS_DAILY, queue=LEADS_QUEUE)(rescore_leads_daily)
    app.periodic(cron="7 2 * * *", periodic_id=RESCORE_LEADS_DAILY)(daily)
    purge = app.task(name=PURGE_FORM_SUBMISSIONS, queue=LEADS_QUEUE)(purge_form_submissions)
    app.periodic(cron="29 * * * *", periodic_id=PURGE_FORM_SUBMISSIONS)(purge)


# ---- webhooks --------------------------------------------------------------------------------

WEBHOOKS_QUEUE = "webhooks"
SEND_WEBHOOK = "send_webhook"
DRAIN_WEBHOOK = "drain_webhook"
# A lost database connection runs the job again; the delivery row decides what it then does.
SEND_WEBHOOK_RETRY = procrastinate.RetryStrategy(
    max_attempts=10, wait=5, retry_exceptions={OperationalError}
)


def send_webhook(delivery_id: int, manual: bool = False) -> None:
    """Attempt one webhook delivery (an admin's redelivery when `manual`); the service logs
    it and queues the next attempt when it fails."""
    from crm_app.db import session_scope
    from crm_app.services import webhook_delivery

    with session_scope() as session:
        webhook_delivery.send_delivery(session, delivery_id=delivery_id, manual=manual)


def drain_webhook(webhook_id: int) -> None:
    """Send a webhook's due deliveries, one transaction each (queued once per webhook by
    each transaction that has events for it)."""
    from crm_app.db import session_scope
    from crm_app.services import webhook_delivery

    webhook_delivery.drain(webhook_id, session_scope)


def register_webhook_tasks(app: procrastinate.App) -> None:
    """Register the webhook tasks on `app` (part of `register`)."""
    app.task(name=SEND_WEBHOOK, queue=WEBHOOKS_QUEUE, retry=SEND_WEBHOOK_RETRY)(send_webhook)
    app.task(name=DRAIN_WEBHOOK, queue=WEBHOOKS_QUEUE, retry=SEND_WEBHOOK_RETRY)(drain_webhook)


# ---- workflow rules --------------------------------------------------------------------------

WORKFLOWS_QUEUE = "workflows"
RUN_WORKFLOW = "run_workflow"
FIRE_DATE_TRIGGERS = "fire_date_triggers"
# A run's actions and its logged outcome commit together, so running it again is safe. A
# refusal by a service (validation, permission) is logged as a failed run, not retried; other
# errors (a lost connection, a deadlock) retry after 2, 4, 8, ... 512 seconds, then the job
# stays failed on Settings -> Jobs, where an admin can retry it.
RUN_WORKFLOW_RETRY = procrastinate.RetryStrategy(max_attempts=9, exponential_wait=2)


def run_workflow(run_id: int) -> None:
    """Check the conditions of one queued rule run and run its actions."""
    from crm_app.db import session_scope
    from crm_app.services import workflow_actions

    with session_scope() as session:
        workflow_actions.execute_run(session, run_id)


def fire_date_triggers(timestamp: int) -> None:
    """Queue the runs of date rules whose day has come (each once per record and date)."""
    from crm_app.db import session_scope
    from crm_app.services import workflow_actions

    with session_scope() as session:
        queued = workflow_actions.fire_date_triggers(session)
    if queued:
        log.info("Date rules fired %s times", queued)


def register_workflow_tasks(app: procrastinate.App) -> None:
    """Register the workflow tasks on `app` (part of `register`)."""
    app.task(name=RUN_WORKFLOW, queue=WORKFLOWS_QUEUE, retry=RUN_WORKFLOW_RETRY)(run_workflow)
    dates = app.task(
        name=FIRE_DATE_TRIGGERS, queue=WORKFLOWS_QUEUE, queueing_lock=FIRE_DATE_TRIGGERS
    )(fire_date_triggers)
    app.periodic(cron="*/5 * * * *", periodic_id=FIRE_DATE_TRIGGERS)(dates)


# ---- e-mail ----------------------------------------------------------------------------------

MAIL_QUEUE = "mail"
SEND_EMAIL = "send_email"
SEND_CAMPAIGN = "send_campaign"
# A temporary SMTP failure is retried after 5 s, 25 s, 2 min, 10 min, 52 min (the message row
# counts attempts too, and marks itself failed after the last).
SEND_EMAIL_RETRY = procrastinate.RetryStrategy(
    max_attempts=6, exponential_wait=5, retry_exceptions={OperationalError, RuntimeError}
)


def send_email(message_id: int) -> None:
    """Send one queued message (once: a message already sent is left alone)."""
    from crm_app.db import session_scope
    from crm_app.services import email

    with session_scope() as session:
        outcome = email.deliver(session, message_id)
    if outcome is email.Outcome.retry:
        raise RuntimeError(f"e-mail {message_id}: temporary failure, retrying later")


def send_campaign(campaign_id: int) -> None:
    """Send a campaign's next batch (as many as CRM_MAIL_RATE_PER_MINUTE allows now), then
    queue itself again for when the next batch is due."""
    from crm_app.db import session_scope
    from crm_app.services import mass_mail

    with session_scope() as session:
        mass_mail.run_batch(session, campaign_id)


def register_mail_tasks(app: procrastinate.App) -> None:
    """Register the e-mail tasks on `app` (part of `register`)."""
    app.task(name=SEND_EMAIL, queue=MAIL_QUEUE, retry=SEND_EMAIL_RETRY)(send_email)
    # One batch of a campaign at a time; the job queues its successor itself.
    app.task(name=SEND_CAMPAIGN, queue=MAIL_QUEUE, retry=SEND_EMAIL_RETRY)(send_campaign)
