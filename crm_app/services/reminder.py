"""Reminders: when an activity's reminder time comes, its owner is told once, in the app and
by e-mail.

The worker calls `fire_due_reminders` every few seconds. Each call claims the due rows with
`FOR UPDATE SKIP LOCKED` and marks them sent in the same transaction as the notifications, so
workers running at the same time share the rows out instead of notifying twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Activity, ActivityKind, Notification, User
from crm_app.models.base import utcnow
from crm_app.settings import get_settings

KIND = "reminder"
BATCH = 500
TITLE_MAX = 200  # Notification.title
SUBJECT_MAX = 120  # leaves room in the title for "Reminder: " and the time


def activity_link(
    *,
    deal_id: int | None = None,
    lead_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> str:
    """The page of the record an activity belongs to, the most specific first; the activities
    page when it belongs to none."""
    if deal_id:
        return routes.deal_detail(deal_id)
    if lead_id:
        return routes.lead_detail(lead_id)
    if contact_id:
        return routes.contact_detail(contact_id)
    if account_id:
        return routes.account_detail(account_id)
    return routes.ACTIVITIES


def zone_of(name: str | None) -> ZoneInfo:
    """A user's time zone, UTC when it is unset or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when_label(moment: datetime, *, zone: ZoneInfo, now: datetime) -> str:
    """A moment as its owner reads it: "14:30" today, "tomorrow 09:00", else "Tue 12 Mar 14:30"
    (the year too when it is another year)."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return clock
    if local.date() == today + timedelta(days=1):
        return f"tomorrow {clock}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    day = f"{local:%a} {local.day} {local:%b}"
    if local.year != today.year:
        day += f" {local.year}"
    return f"{day} {clock}"


def reminder_title(row: Any, *, zone: ZoneInfo, now: datetime) -> str:
    """E.g. "Reminder: Call Ada — due 14:30"; a meeting says when it starts."""
    subject = " ".join((row.subject or "").split()) or ActivityKind(row.kind).value.capitalize()
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    title = f"Reminder: {subject}"
    if row.kind == ActivityKind.meeting and row.starts_at:
        title += f" — starts {when_label(row.starts_at, zone=zone, now=now)}"
    elif row.due_at:
        title += f" — due {when_label(row.due_at, zone=zone, now=now)}"
    return title[:TITLE_MAX]


def _claim_due(session: Session, now: datetime, limit: int) -> list[Any]:
    """Lock the due reminders no other worker holds, with what their notification needs."""
    return list(
        session.execute(
            select(
                Activity.id,
                Activity.kind,
                Activity.subject,
                Activity.due_at,
                Activity.starts_at,
                Activity.location,
                Activity.owner_id,
                Activity.deal_id,
                Activity.lead_id,
                Activity.contact_id,
                Activity.account_id,
                User.timezone,
                User.is_active,
                User.email,
                User.name,
            )
            .outerjoin(User, User.id == Activity.owner_id)
            # the partial index ix_activities_reminder_due serves these first two conditions
            .where(
                Activity.reminder_sent_at.is_(None),
                Activity.reminder_at <= now,
                Activity.done_at.is_(None),
                Activity.deleted_at.is_(None),
            )
            .order_by(Activity.reminder_at, Activity.id)
            .limit(limit)
            .with_for_update(of=Activity, skip_locked=True)
        )
    )


def _mail_reminder(session: Session, row: Any, *, title: str, body: str, link: str) -> None:
    """The owner's reminder by e-mail too (kept in Settings -> Outbox without SMTP)."""
    from crm_app.services import email  # imported here: e-mail builds on activities

    url = get_settings().base_url.rstrip("/") + link
    lines = [f"Hello {row.name},", "", title + ".", *([body] if body else [])]
    lines += ["", f"Open it: <{url}>"]
    email.send_system(session, to=row.email, subject=title, text="\n".join(lines) + "\n")


def fire_due_reminders(session: Session, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Notify the owner of every live, open activity whose reminder is due and not yet sent
    (at most `limit` of them), and mark them sent; returns how many were marked. Done and
    deleted activities are skipped and stay unsent: reopened or restored, they remind then.

    Runs in the caller's transaction, which must commit for the reminders to count as sent."""
    now = now or utcnow()
    rows = _claim_due(session, now, max(1, int(limit)))
    if not rows:
        return 0
    for row in rows:
        if row.owner_id is None or not row.is_active:
            continue  # no one to tell: it is marked sent all the same, not retried forever
        title = reminder_title(row, zone=zone_of(row.timezone), now=now)
        body = f"At {row.location}"[:300] if row.location else ""
        link = activity_link(
            deal_id=row.deal_id,
            lead_id=row.lead_id,
            contact_id=row.contact_id,
            account_id=row.account_id,
        )
        notice = Notification(user_id=row.owner_id, kind=KIND, title=title, body=body, link=link)
        session.add(notice)
        # the e-mail is queued in this same transaction: it goes out exactly when the in-app
        # notification appears, and never twice
        _mail_reminder(session, row, title=title, body=body, link=link)
    session.execute(
        update(Activity)
        .where(Activity.id.in_([row.id for row in rows]))
        # not an edit: updated_at (a calendar's LAST-MODIFIED) stays as it was
        .values(reminder_sent_at=utcnow(), updated_at=Activity.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return len(rows)
