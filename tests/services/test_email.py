"""Sending e-mail: a message row and its job, delivered to a real local SMTP server (aiosmtpd),
kept in the outbox without one, sent once however often the job runs, logged on the record."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text
from sqlmodel import select

from crm_app.models import Activity, EmailMessage
from crm_app.services import email, email_template, suppression
from crm_app.services.errors import ValidationFailed
from crm_app.settings import get_settings
from tests.factories import make_contact, make_deal

pytest_plugins = ["tests.smtp_server"]  # the smtp_server fixture


def _closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _jobs(db, task: str) -> list[dict]:
    rows = db.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"), {"t": task}
    )
    return [row.args for row in rows]


def _draft(to: str, **fields) -> email.Draft:
    values = {"subject": "Hello {{ contact.first_name }}", "body": "Hi **there**"} | fields
    return email.Draft(to=to, **values)


def test_a_message_from_a_contact_is_queued_with_its_job_and_logged_on_the_timeline(db, people):
    contact = make_contact(db, owner=people.bob, first_name="Jo", email="jo@acme.example.com")
    message = email.send_from_record(
        db,
        actor=people.bob,
        entity="contact",
        record_id=contact.id,
        draft=_draft("jo@acme.example.com"),
    )
    assert message.status == "queued" and message.subject == "Hello Jo"
    assert _jobs(db, "send_email")[-1] == {"message_id": message.id}
    logged = db.exec(select(Activity).where(Activity.contact_id == contact.id)).one()
    assert (logged.kind, logged.subject) == ("email", "Hello Jo")
    assert "<strong>there</strong>" in logged.body


def test_only_the_records_own_addresses_may_be_written_to(db, people):
    contact = make_contact(db, owner=people.bob, email="jo@acme.example.com")
    with pytest.raises(ValidationFailed) as caught:
        email.send_from_record(
            db,
            actor=people.bob,
            entity="contact",
            record_id=contact.id,
            draft=_draft("someone@else.example.com"),
        )
    assert caught.value.errors[0].field == "to"


def test_a_deal_writes_to_its_contacts(db, people):
    contact = make_contact(db, owner=people.bob, email="buyer@acme.example.com")
    deal = make_deal(db, owner=people.bob)
    deal.primary_contact_id = contact.id
    db.add(deal)
    db.flush()
    assert email.addresses_of(db, entity="deal", record=deal) == [
        ("buyer@acme.example.com", contact.first_name + " " + contact.last_name)
    ]
    message = email.send_from_record(
        db,
        actor=people.bob,
        entity="deal",
        record_id=deal.id,
        draft=_draft("buyer@acme.example.com", subject="About {{ deal.name }}"),
    )
    assert message.subject == f"About {deal.name}"
    assert db.exec(select(Activity).where(Activity.deal_id == deal.id)).one().kind == "email"


def test_smtp_delivery_is_multipart_with_the_rows_message_id_and_happens_once(
    db, people, smtp_server
):
    contact = make_contact(db, owner=people.bob, first_name="Jo", email="jo@acme.example.com")
    message = email.send_from_record(
        db,
        actor=people.bob,
        entity="contact",
        record_id=contact.id,
        draft=_draft("jo@acme.example.com"),
    )
    assert email.deliver(db, message.id) is email.Outcome.done
    assert email.deliver(db, message.id) is email.Outcome.done  # the job ran again
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["Message-ID"] == message.message_id
    assert received["Subject"] == "Hello Jo"
    assert received["Reply-To"] == "bob@example.com"
    assert received.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in received.iter_parts()}
    assert "<strong>there</strong>" in parts["text/html"]
    assert parts["text/plain"].strip() == "Hi **there**"
    assert smtp_server.envelopes[0] == ("crm@example.com", ["jo@acme.example.com"])
    db.refresh(message)
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.sent_at is not None


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails(db, people, smtp_server):
    contact = make_contact(db, owner=people.bob, email="jo@acme.example.com")
    message = email.send_from_record(
        db,
        actor=people.bob,
        entity="contact",
        record_id=contact.id,
        draft=_draft("jo@acme.example.com"),
    )
    smtp_server.refuse = "451 Try again later"
    assert email.deliver(db, message.id) is email.Outcome.retry
    assert (message.status, message.attempts) == ("queued", 1)
    assert "451" in message.error
    smtp_server.refuse = "554 No thanks"
    assert email.deliver(db, message.id) is email.Outcome.done
    assert (message.status, message.attempts) == ("failed", 2)
    smtp_server.refuse = None
    assert email.deliver(db, message.id) is email.Outcome.done
    assert smtp_server.messages == []


def test_an_unreachable_server_is_a_temporary_failure_until_the_last_attempt(
    db, people, monkeypatch
):
    monkeypatch.setenv("CRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRM_SMTP_PORT", str(_closed_port()))  # nothing listens
    monkeypatch.setenv("CRM_SMTP_TLS", "none")
    get_settings.cache_clear()
    try:
        message = email.queue_message(
            db, to="x@example.com", subject="s", html="<p>h</p>", text="h"
        )
        outcomes = [email.deliver(db, message.id) for _ in range(email.MAX_ATTEMPTS)]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert outcomes[:-1] == [email.Outcome.retry] * (email.MAX_ATTEMPTS - 1)
    assert outcomes[-1] is email.Outcome.done
    assert message.status == "failed"


def test_without_an_smtp_host_messages_are_kept_for_the_outbox(db, people):
    assert not get_settings().sends_mail
    message = email.queue_message(db, to="x@example.com", subject="s", html="<p>h</p>", text="h")
    email.deliver(db, message.id)
    assert message.status == "kept"
    rows, total = email.list_messages(db, actor=people.alice)
    assert total >= 1 and rows[0].id == message.id


def test_send_templated_renders_the_template_and_respects_the_suppression_list(
    db, people, smtp_server
):
    template = email_template.create_template(
        db,
        actor=people.alice,
        data={
            "name": "Follow-up",
            "entity": "contact",
            "subject": "For {{ contact.first_name }}",
            "body": "Hello {{ contact.first_name }}",
        },
    )
    jo = make_contact(db, owner=people.bob, first_name="Jo", email="jo@acme.example.com")
    gone = make_contact(db, owner=people.bob, first_name="Gone", email="Gone@Acme.example.com")
    suppression.add_suppression(db, actor=people.alice, email="gone@acme.example.com")
    sent = email.send_templated(
        db, actor=people.bob, template_id=template.id, entity="contact", record_id=jo.id
    )
    skipped = email.send_templated(
        db, actor=people.bob, template_id=template.id, entity="contact", record_id=gone.id
    )
    assert (sent.status, sent.subject, sent.to_address) == (
        "queued",
        "For Jo",
        "jo@acme.example.com",
    )
    assert skipped.status == "suppressed"
    assert [a["message_id"] for a in _jobs(db, "send_email")][-1] == sent.id  # none for skipped
    assert db.exec(select(Activity).where(Activity.contact_id == gone.id)).all() == []
    # An address suppressed after the message was queued is still skipped when it is sent.
    suppression.add_suppression(db, actor=people.alice, email="jo@acme.example.com")
    email.deliver(db, sent.id)
    assert sent.status == "suppressed" and smtp_server.messages == []


def test_send_templated_refuses_a_template_of_another_kind(db, people):
    template = email_template.create_template(
        db,
        actor=people.alice,
        data={"name": "Deal note", "entity": "deal", "subject": "{{ deal.name }}", "body": ""},
    )
    contact = make_contact(db, owner=people.bob, email="jo@acme.example.com")
    with pytest.raises(ValidationFailed):
        email.send_templated(
            db, actor=people.bob, template_id=template.id, entity="contact", record_id=contact.id
        )


def test_the_outbox_is_for_admins(db, people):
    from crm_app.services.errors import Forbidden

    with pytest.raises(Forbidden):
        email.list_messages(db, actor=people.bob)
    assert isinstance(email.list_messages(db, actor=people.alice)[0], list)
    assert EmailMessage.__tablename__ == "email_messages"


def test_an_invitation_link_is_e_mailed_to_the_invitee(db, people):
    from crm_app.services import invitation

    issued = invitation.invite_user(
        db, actor=people.alice, email="newbie@example.com", name="New Bie", role="rep"
    )
    message = db.exec(
        select(EmailMessage).where(EmailMessage.to_address == "newbie@example.com")
    ).one()
    assert message.subject == "You are invited to the CRM"
    assert issued.url in message.text
    assert f'href="{issued.url}"' in message.html
    assert _jobs(db, "send_email")[-1] == {"message_id": message.id}
