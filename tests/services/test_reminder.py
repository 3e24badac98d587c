"""Reminders: each due one tells its owner once, in their time zone, and only when it is due."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text
from sqlmodel import Session, select

from crm_app.models import Activity, EmailMessage, Notification, User, utcnow
from crm_app.services.reminder import fire_due_reminders
from tests.factories import make_activity, make_contact, make_deal, make_user

NOW = datetime(2025, 3, 12, 13, 0, tzinfo=UTC)


def reminders_of(session, user) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == "reminder")
            .order_by(Notification.id)
        )
    )


def due_call(session, owner, **fields) -> Activity:
    fields.setdefault("reminder_at", NOW - timedelta(minutes=1))
    return make_activity(session, owner=owner, kind="task", **fields)


def test_a_due_reminder_tells_its_owner_once(db, people):
    task = due_call(db, people.bob, subject="Call Ada", due_at=NOW + timedelta(minutes=30))
    assert fire_due_reminders(db, now=NOW) == 1
    assert fire_due_reminders(db, now=NOW + timedelta(minutes=5)) == 0
    [sent] = reminders_of(db, people.bob)
    assert sent.title == "Reminder: Call Ada — due 13:30"
    assert sent.link == "/activities"
    assert sent.read_at is None
    db.refresh(task)
    assert task.reminder_sent_at is not None


def test_a_due_reminder_is_e_mailed_to_its_owner_once_with_a_link(db, people):
    from crm_app.models import EmailMessage

    deal = make_deal(db, owner=people.bob, name="Atlas")
    due_call(db, people.bob, subject="Call Ada", deal_id=deal.id, due_at=NOW + timedelta(hours=1))
    fire_due_reminders(db, now=NOW)
    fire_due_reminders(db, now=NOW + timedelta(minutes=5))

    [mail] = db.exec(select(EmailMessage).where(EmailMessage.to_address == "bob@example.com"))
    assert mail.subject == "Reminder: Call Ada — due 14:00"
    assert f"/deals/{deal.id}>" in mail.text and mail.text.startswith("Hello Bob")


def test_a_reminder_waits_until_its_time(db, people):
    due_call(db, people.bob, reminder_at=NOW + timedelta(seconds=1))
    due_call(db, people.bob, reminder_at=None, due_at=NOW)
    assert fire_due_reminders(db, now=NOW) == 0
    assert fire_due_reminders(db, now=NOW + timedelta(seconds=1)) == 1
    assert len(reminders_of(db, people.bob)) == 1


def test_done_and_deleted_activities_do_not_remind(db, people):
    done = due_call(db, people.bob, done_at=NOW - timedelta(hours=1))
    deleted = due_call(db, people.bob, deleted_at=NOW - timedelta(hours=1))
    assert fire_due_reminders(db, now=NOW) == 0
    assert reminders_of(db, people.bob) == []
    db.refresh(done)
    db.refresh(deleted)
    assert done.reminder_sent_at is None and deleted.reminder_sent_at is None


def test_the_time_is_shown_in_the_owners_time_zone(db, people):
    people.bob.timezone = "Europe/Berlin"  # UTC+1 in March
    people.carol.timezone = "America/New_York"  # UTC-4 after 9 March
    due_call(db, people.bob, subject="Call Ada", due_at=datetime(2025, 3, 12, 13, 30, tzinfo=UTC))
    due_call(db, people.carol, subject="Send quote", due_at=datetime(2025, 3, 13, 8, tzinfo=UTC))
    due_call(db, people.carol, subject="Renewal", due_at=datetime(2025, 3, 18, 15, tzinfo=UTC))
    fire_due_reminders(db, now=NOW)
    assert [n.title for n in reminders_of(db, people.bob)] == ["Reminder: Call Ada — due 14:30"]
    assert [n.title for n in reminders_of(db, people.carol)] == [
        "Reminder: Send quote — due tomorrow 04:00",
        "Reminder: Renewal — due Tue 18 Mar 11:00",
    ]


def test_a_meeting_says_when_it_starts_and_where(db, people):
    make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Demo",
        starts_at=NOW + timedelta(minutes=15),
        location="Room 4",
        reminder_at=NOW,
    )
    fire_due_reminders(db, now=NOW)
    [sent] = reminders_of(db, people.bob)
    assert (sent.title, sent.body) == ("Reminder: Demo — starts 13:15", "At Room 4")


def test_a_reminder_without_a_subject_or_due_time_names_its_kind(db, people):
    due_call(db, people.bob, subject="")
    fire_due_reminders(db, now=NOW)
    assert [n.title for n in reminders_of(db, people.bob)] == ["Reminder: Task"]


def test_the_reminder_links_to_what_the_activity_is_about(db, people):
    ada = make_contact(db, owner=people.bob, first_name="Ada")
    deal = make_deal(db, owner=people.bob)
    due_call(db, people.bob, contact_id=ada.id)
    due_call(db, people.bob, contact_id=ada.id, deal_id=deal.id)
    fire_due_reminders(db, now=NOW)
    assert [n.link for n in reminders_of(db, people.bob)] == [
        f"/contacts/{ada.id}",
        f"/deals/{deal.id}",
    ]


def test_an_ownerless_or_inactive_owners_reminder_is_dropped_not_retried(db, people):
    people.dave.is_active = False
    ownerless = due_call(db, people.bob)
    ownerless.owner_id = None
    due_call(db, people.dave)
    assert fire_due_reminders(db, now=NOW) == 2
    assert fire_due_reminders(db, now=NOW) == 0
    assert reminders_of(db, people.dave) == []


def test_a_batch_fires_at_most_limit_reminders_oldest_first(db, people):
    late = due_call(db, people.bob, subject="Late", reminder_at=NOW - timedelta(hours=2))
    due_call(db, people.bob, subject="Later", reminder_at=NOW - timedelta(hours=1))
    assert fire_due_reminders(db, now=NOW, limit=1) == 1
    assert [n.title for n in reminders_of(db, people.bob)] == [f"Reminder: {late.subject}"]
    assert fire_due_reminders(db, now=NOW, limit=1) == 1


def test_the_reminder_job_is_registered_to_run_every_15_seconds():
    import procrastinate
    from procrastinate.testing import InMemoryConnector

    from crm_app.jobs import tasks

    app = procrastinate.App(connector=InMemoryConnector())
    tasks.register(app)
    [periodic] = [
        p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == "fire_reminders"
    ]
    start = datetime(2025, 3, 12, 13, 0, 1).timestamp()
    assert periodic.croniter.get_next(float, start) - start == 14


# ---- two workers at once: real transactions on separate connections -------------------------


def _committed_owner_with_due_tasks(engine, count: int) -> int:
    with Session(engine) as session:
        owner = make_user(session, email=f"reminded-{uuid.uuid4().hex[:8]}@example.com")
        for _ in range(count):
            due_call(session, owner, reminder_at=utcnow() - timedelta(minutes=1))
        session.commit()
        return owner.id


def _remove_owner(engine, owner_id: int) -> None:
    with Session(engine) as session:
        # the reminder e-mails and their send jobs too: other tests count messages and jobs
        mails = select(EmailMessage.id).join(User, User.email == EmailMessage.to_address)
        mail_ids = list(session.exec(mails.where(User.id == owner_id)))
        session.execute(
            text(
                "DELETE FROM procrastinate_jobs WHERE task_name = 'send_email'"
                " AND (args->>'message_id')::bigint = ANY(:ids)"
            ),
            {"ids": mail_ids},
        )
        session.execute(delete(EmailMessage).where(EmailMessage.id.in_(mail_ids)))
        session.execute(delete(Activity).where(Activity.owner_id == owner_id))
        session.execute(delete(User).where(User.id == owner_id))  # notifications cascade
        session.commit()


def test_a_worker_skips_the_reminders_another_worker_holds(engine):
    owner_id = _committed_owner_with_due_tasks(engine, 3)
    try:
        with Session(engine) as first, Session(engine) as second:
            assert fire_due_reminders(first, limit=2) == 2  # holds 2 rows, not committed yet
            second.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting would be a bug
            assert fire_due_reminders(second) == 1  # takes the third, without waiting
            second.commit()
            first.commit()
            assert fire_due_reminders(second) == 0
        with Session(engine) as session:
            sent = session.exec(select(Notification.id).where(Notification.user_id == owner_id))
            assert len(sent.all()) == 3
    finally:
        _remove_owner(engine, owner_id)


def test_two_workers_at_once_notify_each_reminder_exactly_once(engine):
    owner_id = _committed_owner_with_due_tasks(engine, 60)
    start = threading.Barrier(2)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            while True:
                with Session(engine) as session:
                    count = fire_due_reminders(session, limit=7)
                    session.commit()
                claimed.append(count)
                if count == 0:
                    return
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(claimed) == 60
        with Session(engine) as session:
            titles = session.exec(
                select(Notification.title).where(Notification.user_id == owner_id)
            ).all()
            assert len(titles) == len(set(titles)) == 60  # each task's subject differs
            unsent = session.exec(
                select(Activity.id).where(
                    Activity.owner_id == owner_id, Activity.reminder_sent_at.is_(None)
                )
            ).all()
            assert unsent == []
    finally:
        _remove_owner(engine, owner_id)
