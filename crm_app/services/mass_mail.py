"""Mass mail: a template sent to the people of a saved view of contacts or leads.

Starting a campaign snapshots its recipients in SQL (one row per address, people without an
e-mail left out, suppressed addresses marked `suppressed` at once) and queues the
`send_campaign` job. Each run of the job sends one batch, as many as the rate
(`CRM_MAIL_RATE_PER_MINUTE`) leaves for the last minute (`next_batch`), committing each
recipient as it goes, then queues itself for when the next batch is due. A run that is killed
starts over with the recipients still pending; a recipient whose message was already sent is
only marked, never sent again.

Every message carries a one-click unsubscribe link in its body and the RFC 8058 headers
`List-Unsubscribe` and `List-Unsubscribe-Post`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlmodel import Session, select

from crm_app.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    EmailMessage,
    EmailTemplate,
    MessageStatus,
    RecipientStatus,
    User,
)
from crm_app.models.base import utcnow
from crm_app.services import audit, email, email_template, saved_view, suppression
from crm_app.services.email_template import Rendered
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import require
from crm_app.settings import get_settings

RESOURCE = "mass_mail"
ENTITIES = ("contact", "lead")
WINDOW = timedelta(minutes=1)
PAGE_SIZE = 50
RETRY_AFTER = timedelta(minutes=1)  # after a temporary SMTP failure, the batch waits this long
_DONE = {MessageStatus.sent: RecipientStatus.sent, MessageStatus.kept: RecipientStatus.sent}


@dataclass
class Audience:
    """Who a saved view would reach: people with an address, minus suppressed ones."""

    view_id: int
    entity: str
    with_email: int
    suppressed: int

    @property
    def sendable(self) -> int:
        """How many messages a campaign would send."""
        return self.with_email - self.suppressed


@dataclass
class Progress:
    """A campaign's counts by recipient status."""

    total: int
    pending: int
    sent: int
    failed: int
    suppressed: int

    @property
    def finished(self) -> bool:
        """Nothing left to send."""
        return self.pending == 0


# ---- the audience ------------------------------------------------------------------------------


def _view(session: Session, actor: User, view_id: int) -> Any:
    require(session, actor, RESOURCE, "send")
    view = saved_view.get_view(session, actor=actor, view_id=view_id)
    if view.entity not in ENTITIES:
        raise ValidationFailed.for_field("view_id", "Pick a saved view of contacts or leads.")
    return view


def _people(session: Session, actor: User, view: Any) -> Any:
    """A subquery of (record_id, email, name) of the view's people with an address, one row
    per address (the first record by id)."""
    spec = saved_view.entity_list(view.entity)
    base = spec.service.list_query(session, actor, ListQuery(filters=dict(view.filters or {})))
    model = email.record_model(view.entity)
    people = base.where(model.email.is_not(None), model.email != "").subquery()
    address = func.lower(people.c.email)
    name = func.trim(func.concat(people.c.first_name, " ", people.c.last_name))
    return (
        select(
            people.c.id.label("record_id"),
            address.label("email"),
            func.left(name, 200).label("name"),
        )
        .ext(distinct_on(address))
        .order_by(address, people.c.id)
        .subquery()
    )


def audience(session: Session, *, actor: User, view_id: int) -> Audience:
    """How many people of a saved view a campaign would reach, and how many are suppressed."""
    view = _view(session, actor, view_id)
    people = _people(session, actor, view)
    with_email, suppressed = session.execute(
        select(
            func.count(),
            func.count().filter(suppression.suppressed_clause(people.c.email)),
        ).select_from(people)
    ).one()
    return Audience(view.id, view.entity, with_email, suppressed)


def _template(session: Session, actor: User, template_id: int, entity: str) -> EmailTemplate:
    template = email_template.get_template(session, actor=actor, template_id=template_id)
    if template.entity != entity:
        raise ValidationFailed.for_field(
            "template_id", f"Pick a template for {entity}s: this one is for {template.entity}s."
        )
    return template


def _first(session: Session, actor: User, view: Any) -> Any:
    people = _people(session, actor, view)
    row = session.execute(
        select(people.c.record_id)
        .where(~suppression.suppressed_clause(people.c.email))
        .order_by(people.c.record_id)
        .limit(1)
    ).first()
    if row is None:
        raise ValidationFailed.for_field("view_id", "No one in this view has an e-mail address.")
    return session.get(email.record_model(view.entity), row.record_id)


def render_for(
    session: Session, *, template: EmailTemplate, entity: str, record: Any, sender: User | None
) -> Rendered:
    """A campaign's template rendered about one of its people."""
    context = email_template.merge_context(session, entity=entity, record=record, sender=sender)
    return email_template.render(template.subject, template.body, entity=entity, context=context)


def preview(session: Session, *, actor: User, view_id: int, template_id: int) -> Rendered:
    """The message the view's first (unsuppressed) person would get."""
    view = _view(session, actor, view_id)
    template = _template(session, actor, template_id, view.entity)
    record = _first(session, actor, view)
    return render_for(session, template=template, entity=view.entity, record=record, sender=actor)


def send_test(session: Session, *, actor: User, view_id: int, template_id: int) -> EmailMessage:
    """Send the first person's message to the actor, subject marked [Test]."""
    rendered = preview(session, actor=actor, view_id=view_id, template_id=template_id)
    return email.queue_message(
        session,
        to=actor.email,
        subject=f"[Test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        created_by=actor.id,
        template_id=template_id,
    )


# ---- a campaign --------------------------------------------------------------------------------


def start_campaign(
    session: Session, *, actor: User, view_id: int, template_id: int, ip: str | None = None
) -> Campaign:
    """Snapshot the view's people and start sending in the background."""
    view = _view(session, actor, view_id)
    template = _template(session, actor, template_id, view.entity)
    email_template.check_syntax(template.subject, template.body, entity=view.entity)
    campaign = Campaign(
        name=f"{template.name} → {view.name}"[:200],
        entity=view.entity,
        saved_view_id=view.id,
        template_id=template.id,
        subject=template.subject,
        body=template.body,
        created_by=actor.id,
    )
    session.add(campaign)
    session.flush()
    people = _people(session, actor, view)
    status = case(
        (suppression.suppressed_clause(people.c.email), RecipientStatus.suppressed.value),
        else_=RecipientStatus.pending.value,
    )
    insert_rows = insert(CampaignRecipient).from_select(
        ["campaign_id", "record_id", "email", "name", "status", "attempts"],
        select(
            literal(campaign.id),
            people.c.record_id,
            people.c.email,
            func.coalesce(people.c.name, ""),
            status,
            literal(0),
        ),
    )
    session.execute(insert_rows)
    campaign.total = session.exec(
        select(func.count()).where(CampaignRecipient.campaign_id == campaign.id)
    ).one()
    if campaign.total == 0:
        raise ValidationFailed.for_field("view_id", "No one in this view has an e-mail address.")
    session.add(campaign)
    audit.record(
        session,
        actor=actor,
        action="send",
        entity="email_campaign",
        entity_id=campaign.id,
        changes={"view": [None, view.name], "template": [None, template.name]},
        ip=ip,
    )
    _queue_batch(session, campaign.id, at=None)
    return campaign


def _queue_batch(session: Session, campaign_id: int, *, at: datetime | None) -> None:
    from crm_app.jobs.app import defer
    from crm_app.jobs.tasks import MAIL_QUEUE, SEND_CAMPAIGN

    defer(
        session,
        SEND_CAMPAIGN,
        queue=MAIL_QUEUE,
        lock=f"campaign-{campaign_id}",
        schedule_at=at,
        campaign_id=campaign_id,
    )


def next_batch(now: datetime, recent: list[datetime], rate_per_minute: int) -> tuple[int, datetime]:
    """How many messages may go now, given the send times of the last minute, and when the
    batch after this one is due: at most `rate_per_minute` in any minute."""
    in_window = sorted(t for t in recent if now - WINDOW < t <= now)
    allowance = max(0, rate_per_minute - len(in_window))
    if allowance > 0:
        return allowance, now
    # The oldest of the last `rate` sends leaves the window first.
    return 0, in_window[len(in_window) - rate_per_minute] + WINDOW


def _recent_sends(session: Session, now: datetime) -> list[datetime]:
    return list(
        session.exec(
            select(EmailMessage.sent_at).where(
                EmailMessage.campaign_id.is_not(None),
                EmailMessage.sent_at > now - WINDOW,
                EmailMessage.sent_at <= now,
            )
        )
    )


def _headers(recipient: CampaignRecipient) -> tuple[dict[str, str], str]:
    token = suppression.make_token(recipient.email, recipient.campaign_id)
    url = suppression.unsubscribe_url(token)
    mailto = f"mailto:{get_settings().mail_from_address}?subject=unsubscribe"
    headers = {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return headers, url


def _message_for(
    session: Session, campaign: Campaign, recipient: CampaignRecipient, sender: User | None
) -> EmailMessage | None:
    """The recipient's message: the one a stopped run left, or a new one (None when the
    record is gone)."""
    existing = session.exec(
        select(EmailMessage).where(EmailMessage.recipient_id == recipient.id).with_for_update()
    ).first()
    if existing is not None:
        return existing
    record = session.get(email.record_model(campaign.entity), recipient.record_id)
    if record is None or record.deleted_at is not None:
        return None
    template = EmailTemplate(entity=campaign.entity, subject=campaign.subject, body=campaign.body)
    rendered = render_for(
        session, template=template, entity=campaign.entity, record=record, sender=sender
    )
    headers, url = _headers(recipient)
    footer_html = f'<p><a href="{url}">Unsubscribe</a> from these e-mails.</p>'
    return email.queue_message(
        session,
        to=recipient.email,
        subject=rendered.subject,
        html=rendered.html + footer_html,
        text=f"{rendered.text}\n\n--\nUnsubscribe: {url}\n",
        headers=headers,
        created_by=campaign.created_by,
        entity=campaign.entity,
        record_id=recipient.record_id,
        template_id=campaign.template_id,
        campaign_id=campaign.id,
        recipient_id=recipient.id,
        respect_suppression=True,
        defer_job=False,
    )


def _send_one(
    session: Session,
    campaign: Campaign,
    recipient: CampaignRecipient,
    sender: User | None,
    send: email.Sender | None,
) -> email.Outcome:
    message = _message_for(session, campaign, recipient, sender)
    if message is None:
        recipient.status = RecipientStatus.failed.value
        recipient.error = f"The {campaign.entity} was deleted."
        session.add(recipient)
        return email.Outcome.done
    outcome = email.attempt(session, message, send=send)
    recipient.attempts = message.attempts
    recipient.error = message.error
    if outcome is email.Outcome.done:
        status = MessageStatus(message.status)
        recipient.status = (_DONE.get(status) or RecipientStatus(status.value)).value
        recipient.sent_at = message.sent_at
    session.add(recipient)
    return outcome


def run_batch(
    session: Session,
    campaign_id: int,
    *,
    now: datetime | None = None,
    send: email.Sender | None = None,
) -> int:
    """The `send_campaign` job's work: send the next batch, then queue the next run (or mark
    the campaign done). Returns how many recipients it settled."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.sending:
        return 0
    now = now or utcnow()
    allowance, due = next_batch(now, _recent_sends(session, now), _rate())
    sender = session.get(User, campaign.created_by) if campaign.created_by else None
    settled = 0
    retry_at: datetime | None = None
    if allowance:
        pending = session.exec(
            select(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.status == RecipientStatus.pending.value,
            )
            .order_by(CampaignRecipient.id)
            .limit(allowance)
            .with_for_update(skip_locked=True)
        ).all()
        for recipient in pending:
            outcome = _send_one(session, campaign, recipient, sender, send)
            session.commit()  # each recipient's result stands even if the run is killed next
            if outcome is email.Outcome.retry:
                retry_at = utcnow() + RETRY_AFTER
                break
            settled += 1
        due = retry_at or next_batch(utcnow(), _recent_sends(session, utcnow()), _rate())[1]
    if _pending(session, campaign_id):
        _queue_batch(session, campaign_id, at=due)
    else:
        campaign.status, campaign.finished_at = CampaignStatus.done.value, utcnow()
        session.add(campaign)
    return settled


def _rate() -> int:
    return get_settings().mail_rate_per_minute


def _pending(session: Session, campaign_id: int) -> bool:
    found = session.exec(
        select(CampaignRecipient.id).where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status == RecipientStatus.pending.value,
        )
    ).first()
    return found is not None


def cancel_campaign(session: Session, *, actor: User, campaign_id: int) -> Campaign:
    """Stop sending; who has had the message keeps it."""
    campaign = get_campaign(session, actor=actor, campaign_id=campaign_id)
    if campaign.status == CampaignStatus.sending:
        campaign.status, campaign.finished_at = CampaignStatus.cancelled.value, utcnow()
        session.add(campaign)
    return campaign


# ---- reading -----------------------------------------------------------------------------------


def get_campaign(session: Session, *, actor: User, campaign_id: int) -> Campaign:
    """A campaign (anyone who may send mass mail sees them all)."""
    require(session, actor, RESOURCE, "send")
    campaign = session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def list_campaigns(session: Session, *, actor: User, limit: int = 20) -> list[Campaign]:
    """The latest campaigns."""
    require(session, actor, RESOURCE, "send")
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    return list(session.exec(query))


def progress(session: Session, *, actor: User, campaign_id: int) -> Progress:
    """Counts of a campaign's recipients by status (one grouped query)."""
    campaign = get_campaign(session, actor=actor, campaign_id=campaign_id)
    rows = session.execute(
        select(CampaignRecipient.status, func.count())
        .where(CampaignRecipient.campaign_id == campaign.id)
        .group_by(CampaignRecipient.status)
    ).all()
    counts = {status: n for status, n in rows}
    return Progress(
        total=sum(counts.values()),
        pending=counts.get(RecipientStatus.pending, 0),
        sent=counts.get(RecipientStatus.sent, 0),
        failed=counts.get(RecipientStatus.failed, 0),
        suppressed=counts.get(RecipientStatus.suppressed, 0),
    )


def list_recipients(
    session: Session, *, actor: User, campaign_id: int, offset: int = 0
) -> list[CampaignRecipient]:
    """A page of a campaign's recipients, in send order."""
    campaign = get_campaign(session, actor=actor, campaign_id=campaign_id)
    query = (
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id)
        .order_by(CampaignRecipient.id)
        .offset(max(0, offset))
        .limit(PAGE_SIZE)
    )
    return list(session.exec(query))
