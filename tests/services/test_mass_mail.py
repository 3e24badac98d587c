"""Mass mail: a saved view's people snapshotted, sent in throttled batches with unsubscribe
links, the suppression list honoured, and nothing sent twice when a batch runs again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from crm_app.models import CampaignRecipient, EmailMessage
from crm_app.models.base import utcnow
from crm_app.services import email_template, mass_mail, saved_view, suppression
from crm_app.services.errors import Forbidden, NotFound
from tests.factories import make_contact

pytest_plugins = ["tests.smtp_server"]  # the smtp_server fixture

T0 = utcnow().replace(microsecond=0)


def test_the_schedule_allows_at_most_the_rate_in_any_minute():
    assert mass_mail.next_batch(T0, [], 3) == (3, T0)
    recent = [T0 - timedelta(seconds=50), T0 - timedelta(seconds=10)]
    assert mass_mail.next_batch(T0, recent, 3) == (1, T0)
    full = [T0 - timedelta(seconds=s) for s in (50, 30, 10)]
    # Full: the next send is due when the oldest of them leaves the minute.
    assert mass_mail.next_batch(T0, full, 3) == (0, T0 + timedelta(seconds=10))
    old = [T0 - timedelta(seconds=61)] * 5
    assert mass_mail.next_batch(T0, old, 3) == (3, T0)


@pytest.fixture
def newsletter(db, people):
    """A shared view of the contacts tagged 'news', a template, and five such contacts: two
    sharing an address, one suppressed, one without an address; plus one untagged."""
    for first, address in [
        ("Ann", "ann@example.com"),
        ("Ben", "ben@example.com"),
        ("Ben twin", "BEN@example.com"),
        ("Cy", "cy@example.com"),
        ("Dot", None),
    ]:
        make_contact(db, owner=people.bob, first_name=first, email=address, tags=["news"])
    make_contact(db, owner=people.bob, first_name="Eve", email="eve@example.com")
    suppression.add_suppression(db, actor=people.alice, email="cy@example.com")
    view = saved_view.create_view(
        db, actor=people.mona, entity="contact", name="Newsletter", filters={"tag": "news"}
    )
    template = email_template.create_template(
        db,
        actor=people.mona,
        data={
            "name": "November news",
            "entity": "contact",
            "subject": "News for {{ contact.first_name }}",
            "body": "Hello {{ contact.first_name }}",
        },
    )
    return view, template


def _campaign_jobs(db):
    rows = db.execute(
        text(
            "SELECT args, scheduled_at FROM procrastinate_jobs "
            "WHERE task_name = 'send_campaign' ORDER BY id"
        )
    )
    return rows.all()


def test_the_audience_leaves_out_people_without_an_address_and_counts_suppressed_ones(
    db, people, newsletter
):
    view, template = newsletter
    audience = mass_mail.audience(db, actor=people.mona, view_id=view.id)
    assert (audience.with_email, audience.suppressed, audience.sendable) == (3, 1, 2)
    rendered = mass_mail.preview(db, actor=people.mona, view_id=view.id, template_id=template.id)
    assert rendered.subject == "News for Ann"


def test_reps_may_not_send_mass_mail(db, people, newsletter):
    view, _ = newsletter
    with pytest.raises(Forbidden):
        mass_mail.audience(db, actor=people.bob, view_id=view.id)


def test_a_test_message_goes_to_the_sender(db, people, newsletter):
    view, template = newsletter
    message = mass_mail.send_test(db, actor=people.mona, view_id=view.id, template_id=template.id)
    assert (message.to_address, message.subject) == ("mona@example.com", "[Test] News for Ann")


def test_a_campaign_is_sent_in_throttled_batches_with_unsubscribe_headers(
    db, people, newsletter, smtp_server, monkeypatch
):
    monkeypatch.setenv("CRM_MAIL_RATE_PER_MINUTE", "1")
    from crm_app.settings import get_settings

    get_settings.cache_clear()
    view, template = newsletter
    campaign = mass_mail.start_campaign(
        db, actor=people.mona, view_id=view.id, template_id=template.id
    )
    assert campaign.total == 3
    assert _campaign_jobs(db)[-1].args == {"campaign_id": campaign.id}
    progress = mass_mail.progress(db, actor=people.mona, campaign_id=campaign.id)
    assert (progress.pending, progress.suppressed) == (2, 1)

    assert mass_mail.run_batch(db, campaign.id) == 1  # the rate allows one a minute
    assert len(smtp_server.messages) == 1
    next_run = _campaign_jobs(db)[-1]
    assert next_run.scheduled_at > utcnow() + timedelta(seconds=50)
    assert mass_mail.run_batch(db, campaign.id) == 0  # too early: nothing sent
    assert len(smtp_server.messages) == 1

    later = utcnow() + timedelta(seconds=61)
    assert mass_mail.run_batch(db, campaign.id, now=later) == 1
    progress = mass_mail.progress(db, actor=people.mona, campaign_id=campaign.id)
    assert (progress.sent, progress.suppressed, progress.pending) == (2, 1, 0)
    assert mass_mail.get_campaign(db, actor=people.mona, campaign_id=campaign.id).status == "done"

    received = {m["To"]: m for m in smtp_server.messages}
    assert set(received) == {"ann@example.com", "ben@example.com"}
    ann = received["ann@example.com"]
    assert ann["Subject"] == "News for Ann"
    assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link, mailto = (part.strip(" <>") for part in ann["List-Unsubscribe"].split(","))
    assert link.startswith("http://testserver/unsubscribe/")
    assert mailto.startswith("mailto:crm@example.com")
    stored = db.exec(select(EmailMessage).where(EmailMessage.to_address == "ann@example.com"))
    assert ann["Message-ID"] == stored.one().message_id
    html = ann.get_body(("html",)).get_content()
    assert link in html

    # Ann unsubscribes with one click; the next campaign skips her.
    token = link.rsplit("/", 1)[1]
    assert suppression.unsubscribe(db, token=token) == "ann@example.com"
    again = mass_mail.start_campaign(
        db, actor=people.mona, view_id=view.id, template_id=template.id
    )
    statuses = dict(
        db.exec(
            select(CampaignRecipient.email, CampaignRecipient.status).where(
                CampaignRecipient.campaign_id == again.id
            )
        ).all()
    )
    assert statuses == {
        "ann@example.com": "suppressed",
        "ben@example.com": "pending",
        "cy@example.com": "suppressed",
    }


def test_a_batch_that_runs_again_does_not_send_twice(db, people, newsletter, smtp_server):
    view, template = newsletter
    campaign = mass_mail.start_campaign(
        db, actor=people.mona, view_id=view.id, template_id=template.id
    )
    assert mass_mail.run_batch(db, campaign.id) == 2
    # A run killed after sending but before it recorded the recipients.
    db.execute(
        text(
            "UPDATE email_campaign_recipients SET status = 'pending', sent_at = NULL "
            "WHERE campaign_id = :c AND status = 'sent'"
        ),
        {"c": campaign.id},
    )
    db.execute(
        text("UPDATE email_campaigns SET status = 'sending' WHERE id = :c"), {"c": campaign.id}
    )
    db.expire_all()
    assert mass_mail.run_batch(db, campaign.id) == 2
    assert len(smtp_server.messages) == 2
    assert mass_mail.progress(db, actor=people.mona, campaign_id=campaign.id).sent == 2


def test_without_smtp_a_campaign_is_kept_in_the_outbox_and_counts_as_sent(db, people, newsletter):
    view, template = newsletter
    campaign = mass_mail.start_campaign(
        db, actor=people.mona, view_id=view.id, template_id=template.id
    )
    assert mass_mail.run_batch(db, campaign.id) == 2
    progress = mass_mail.progress(db, actor=people.mona, campaign_id=campaign.id)
    assert (progress.sent, progress.suppressed, progress.pending) == (2, 1, 0)
    kept = db.exec(select(EmailMessage.status).where(EmailMessage.campaign_id == campaign.id))
    assert kept.all() == ["kept", "kept"]


def test_forged_and_expired_unsubscribe_tokens_are_refused(db):
    token = suppression.make_token("ann@example.com", None)
    payload, signature = token.split(".")
    forged = suppression.make_token("bob@example.com", None).split(".")[0] + "." + signature
    with pytest.raises(NotFound):
        suppression.unsubscribe(db, token=forged)
    with pytest.raises(NotFound):
        suppression.unsubscribe(db, token=payload + "." + signature[:-2] + "AA")
    old = suppression.make_token("ann@example.com", None, now=utcnow() - timedelta(days=400))
    with pytest.raises(NotFound):
        suppression.unsubscribe(db, token=old)
    assert not suppression.is_suppressed(db, "ann@example.com")
    assert suppression.unsubscribe(db, token=token) == "ann@example.com"
    assert suppression.unsubscribe(db, token=token) == "ann@example.com"  # twice is fine
    assert suppression.is_suppressed(db, "ANN@example.com")


def test_admins_see_and_remove_suppressed_addresses(db, people):
    suppression.add_suppression(db, actor=people.alice, email="Gone@Example.com")
    rows, total = suppression.list_suppressions(db, actor=people.alice, q="gone")
    assert total == 1 and rows[0].email == "gone@example.com"
    with pytest.raises(Forbidden):
        suppression.remove_suppression(db, actor=people.mona, suppression_id=rows[0].id)
    suppression.remove_suppression(db, actor=people.alice, suppression_id=rows[0].id)
    assert not suppression.is_suppressed(db, "gone@example.com")
