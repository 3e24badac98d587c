"""The deals board's state: a refused move puts the card back and says why."""

from __future__ import annotations

from sqlmodel import select

from crm_app.models import Deal, Stage
from crm_app.state.deal_board import DealBoardState
from tests.factories import make_deal
from tests.state.test_record_pages import state_of


def board_of(db, actor) -> DealBoardState:
    state = state_of(DealBoardState, db, actor, "/deals")
    with state._actor_session() as (session, user):
        state._show_user(session, user)
        state._first_board(session, user)
    return state


def test_a_move_shows_on_the_board_and_a_refused_one_is_put_back(db, people):
    mine = make_deal(db, owner=people.bob, name="Mine")
    theirs = make_deal(db, owner=people.dave, name="Dave's")
    discovery = db.exec(select(Stage).where(Stage.name == "Discovery")).one()
    board = board_of(db, people.bob)
    assert {c["name"] for c in board.columns[0]["cards"]} == {"Mine", "Dave's"}  # reps read all

    board.move(str(mine.id), str(discovery.id), "", "")
    column = next(c for c in board.columns if c["id"] == str(discovery.id))
    assert [c["name"] for c in column["cards"]] == ["Mine"] and column["count"] == 1

    before = board.version
    events = board.move(str(theirs.id), str(discovery.id), "", "")
    assert board.version == before + 1  # the browser puts the card back
    assert events and db.get(Deal, theirs.id).stage_id != discovery.id


def test_a_lost_drop_waits_for_a_reason(db, people):
    deal = make_deal(db, owner=people.bob, name="Vega")
    lost = db.exec(select(Stage).where(Stage.kind == "lost")).first()
    board = board_of(db, people.bob)
    board.move(str(deal.id), str(lost.id), "", "")
    assert board.closing_kind == "lost" and board.closing_deal_name == "Vega"
    board.confirm_lost({"lost_reason": ""})
    assert board.lost_reason_error == "Pick why the deal was lost."
    board.confirm_lost({"lost_reason": "Price"})
    assert board.closing_kind == "" and db.get(Deal, deal.id).lost_reason == "Price"
