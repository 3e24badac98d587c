"""Scenarios for activities (issue 5): a record's timeline, My work and the calendar feed.

The bars, on the 100k data set with its 300k activities: a timeline page under 15 ms and
My work for a user with 5,000 open tasks under 25 ms, server-side; a calendar feed under
100 ms. The seed gives rep1 those tasks and one deal its long timeline (crm_app.seeding.scale).
"""

from __future__ import annotations

import httpx

from bench.harness import Measure, Skip, timed

BUSY_USER = "rep1@scale.example"  # the seed's user with a full My work
TYPICAL_USER = "rep2@scale.example"  # about 2,000 open tasks, like the other reps


def _user(session, email: str):
    from sqlmodel import select

    from crm_app.models import User

    return session.exec(select(User).where(User.email == email)).one()


def _busiest_deal(session) -> int:
    """The deal with the most activities: the seed's long timeline."""
    from sqlalchemy import func
    from sqlmodel import select

    from crm_app.models import Activity

    return session.exec(
        select(Activity.deal_id)
        .where(Activity.deal_id.is_not(None), Activity.deleted_at.is_(None))
        .group_by(Activity.deal_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()


def _timeline_page(ctx, page: int) -> Measure:
    """Page `page` (20 entries) of the busiest deal's timeline in-process, as the admin; the
    earlier pages' cursors are followed once, before timing."""
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.services import timeline

    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        actor = _user(session, ctx.email)
        deal_id = _busiest_deal(session)
        before = None
        for _ in range(page - 1):
            before = timeline.timeline(
                session, actor=actor, entity="deal", record_id=deal_id, before=before
            ).next_before
            if before is None:
                raise Skip(f"deal {deal_id} has fewer than {page} timeline pages")

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            found = timeline.timeline(
                session, actor=actor, entity="deal", record_id=deal_id, before=before
            )
            session.rollback()
        if len(found.items) != 20:
            raise AssertionError(f"a timeline page had {len(found.items)} entries, not 20")

    return timed(once)


def timeline_first_page(ctx) -> Measure:
    """The first page of the busiest deal's timeline (250 activities, 80 audited changes)."""
    return _timeline_page(ctx, 1)


def timeline_page_6(ctx) -> Measure:
    """The sixth page of the same timeline, by the fifth page's cursor."""
    return _timeline_page(ctx, 6)


def my_work_busy_rep(ctx) -> Measure:
    """rep1's My work (open tasks overdue, today and upcoming, and the latest done) on the
    data set's day, in-process, as rep1."""
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.seeding.scale import REFERENCE
    from crm_app.services.activity_list import my_work

    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        rep = _user(session, BUSY_USER)

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            my_work(session, actor=rep, now=REFERENCE)
            session.rollback()

    return timed(once)


def _feed_token(email: str) -> str:
    """A new calendar feed token for the user (it replaces theirs: harmless on bench data)."""
    from crm_app.db import session_scope
    from crm_app.services import calendar_feed

    with session_scope() as session:
        return calendar_feed.create_feed(session, actor=_user(session, email))


def calendar_feed_server_side(ctx) -> Measure:
    """rep1's calendar feed built in-process from its token: their open tasks and the
    meetings they own or attend, from 90 days before the data set's day to a year after."""
    return _feed(BUSY_USER)


def calendar_feed_typical_rep(ctx) -> Measure:
    """The same for rep2, whose work is the data set's usual mix."""
    return _feed(TYPICAL_USER)


def _feed(email: str) -> Measure:
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.seeding.scale import REFERENCE
    from crm_app.services import calendar_feed

    engine = get_engine()
    token = _feed_token(email)

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            calendar_feed.feed_for_token(session, token, now=REFERENCE)
            session.rollback()

    return timed(once)


def calendar_feed_http(ctx) -> Measure:
    """GET rep1's feed URL from the running server, over one kept-alive connection (around
    today: a URL has no other day)."""
    client = ctx.stack.enter_context(httpx.Client(base_url=ctx.base_url, timeout=30))
    path = f"/api/v1/calendar/{_feed_token(BUSY_USER)}.ics"

    def once() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise AssertionError(f"the feed answered {response.status_code}: {response.text}")

    return timed(once)
