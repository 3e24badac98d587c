"""Scenarios for the deals board (issue 4): its data, a persisted move, a drop in Chromium."""

from __future__ import annotations

from bench.harness import Measure, timed


def _busiest_pipeline(session) -> int:
    """The pipeline with the most open deals (the heaviest board of the data set)."""
    from sqlalchemy import func
    from sqlmodel import select

    from crm_app.models import Deal, Stage, StageKind

    return session.exec(
        select(Deal.pipeline_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == StageKind.open, Deal.deleted_at.is_(None))
        .group_by(Deal.pipeline_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()


def _actor(session, email: str):
    from sqlmodel import select

    from crm_app.models import User

    return session.exec(select(User).where(User.email == email)).one()


def board_server_side(ctx) -> Measure:
    """The board of the busiest pipeline in-process, as its page reads it: per open stage the
    count, amount and weighted amount of all its deals and its first 50 cards."""
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.services import deal_board

    engine = get_engine()
    with Session(engine) as session:
        actor = _actor(session, ctx.email)
        pipeline_id = _busiest_pipeline(session)

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            deal_board.board(session, actor=actor, pipeline_id=pipeline_id)
            session.rollback()

    return timed(once)


def move_persisted(ctx) -> Measure:
    """Moving a deal to the top of the next stage, committed (it alternates between the two
    first open stages of the busiest pipeline)."""
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.services import deal as deals
    from crm_app.services import deal_board, pipeline

    engine = get_engine()
    with Session(engine) as session:
        actor = _actor(session, ctx.email)
        pipeline_id = _busiest_pipeline(session)
        first, second = [s.id for s in pipeline.live_stages(session, pipeline_id)][:2]
        board = deal_board.board(session, actor=actor, pipeline_id=pipeline_id, per_column=2)
        deal_id = board.columns[0].cards[0].id
    where = {"stage": first}

    def measure() -> float:
        import time

        target = second if where["stage"] == first else first
        with Session(engine, expire_on_commit=False) as session:
            top = deal_board.board(session, actor=actor, pipeline_id=pipeline_id, per_column=1)
        column = next(c for c in top.columns if c.stage.id == target)
        before = column.cards[0].id if column.cards else None
        started = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            deals.move_deal(
                session, actor=actor, deal_id=deal_id, stage_id=target, before_id=before
            )
            session.commit()
        where["stage"] = target
        return time.perf_counter() - started

    return measure


# The drop happens inside the Space keydown's dispatch: the board library's listener on
# `window` (capture) runs first and moves the card, then this page's listener sees the event.
# So each side notes its moment, and the frame after the later of the two resolves: the time
# from the key's timestamp to the frame that paints the card in its new column.
_DROP_SETTLED = """(dealId) => {
    window.__dropSettled = new Promise((resolve) => {
        let droppedAt = null;
        let moved = false;
        let resolved = false;
        const from = document.querySelector(`[data-deal-id="${dealId}"]`).closest('section');
        const settle = () => {
            if (resolved || droppedAt === null || !moved) return;
            resolved = true;
            requestAnimationFrame(() => resolve(performance.now() - droppedAt));
        };
        const onKey = (e) => {
            if (e.code === 'Space' && droppedAt === null && window.__lifted) {
                droppedAt = e.timeStamp;
                document.removeEventListener('keydown', onKey, { capture: true });
                settle();
            }
        };
        document.addEventListener('keydown', onKey, { capture: true });
        const observer = new MutationObserver(() => {
            const card = document.querySelector(`[data-deal-id="${dealId}"]`);
            if (!window.__lifted || !card || card.closest('section') === from) return;
            observer.disconnect();
            moved = true;
            settle();
        });
        observer.observe(document.body, { subtree: true, childList: true });
    });
}"""


def drop_settles_chromium(ctx) -> Measure:
    """Chromium, keyboard: from the Space that drops a card one column over to the frame that
    shows it in that column (timed in the page; the save to the server follows)."""
    from bench.contacts import _signed_in_context

    context = _signed_in_context(ctx)
    page = context.new_page()
    ctx.stack.callback(page.close)
    page.goto(f"{ctx.base_url}/deals")
    card = page.locator("[data-deal-id]").first
    card.wait_for(state="visible")
    deal_id = card.get_attribute("data-deal-id")
    moves = {"key": "ArrowRight"}

    def measure() -> float:
        page.evaluate(_DROP_SETTLED, deal_id)
        page.evaluate("() => { window.__lifted = false; }")
        mine = page.locator(f'[data-deal-id="{deal_id}"]')
        mine.focus()
        page.keyboard.press("Space")
        page.wait_for_timeout(250)  # the lift animation
        page.keyboard.press(moves["key"])
        page.wait_for_timeout(250)  # the move animation
        page.evaluate("() => { window.__lifted = true; }")
        page.keyboard.press("Space")
        settled = page.evaluate("() => window.__dropSettled")
        moves["key"] = "ArrowLeft" if moves["key"] == "ArrowRight" else "ArrowRight"
        page.wait_for_timeout(500)  # the save and the board's refresh
        return settled / 1000

    return measure
