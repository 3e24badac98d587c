"""Deals: validation, stage moves and the won/lost rules, positions, permissions, the list and
its totals, the board, stage history, the forecast, and the contacts involved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlmodel import select

from crm_app.models import AppSetting, Deal, DealStageChange, LostReason
from crm_app.services import account as accounts
from crm_app.services import deal as deals
from crm_app.services import deal_board as boards
from crm_app.services import deal_contact, deal_list
from crm_app.services import deal_report as reports
from crm_app.services.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from crm_app.services.listing import ListQuery
from tests.factories import (
    make_account,
    make_contact,
    make_second_pipeline,
    stages_of_default_pipeline,
)


def new(db, actor, **data) -> Deal:
    return deals.create_deal(db, actor=actor, data={"name": "A deal", **data})


def move(db, actor, deal, stage, **kw) -> Deal:
    return deals.move_deal(db, actor=actor, deal_id=deal.id, stage_id=stage.id, **kw)


@pytest.fixture
def stages(db, people):
    return stages_of_default_pipeline(db)


@pytest.fixture
def clock(monkeypatch):
    """A settable "now" for the deal services."""

    class Clock:
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

        def advance(self, **delta) -> None:
            self.now += timedelta(**delta)

    clock = Clock()
    for module in (deals, boards, reports):
        monkeypatch.setattr(module, "utcnow", lambda: clock.now)
    return clock


def column(db, stage) -> list[int]:
    """The ids of a stage's live deals in board order."""
    rows = db.exec(
        select(Deal.id)
        .where(Deal.stage_id == stage.id, Deal.deleted_at.is_(None))
        .order_by(Deal.position, Deal.id)
    )
    return list(rows)


# --- create ------------------------------------------------------------------------------------


def test_a_new_deal_lands_in_the_default_pipelines_first_open_stage(db, people, stages):
    deal = new(db, people.bob, name=" Big  one ", amount="1200.5")
    assert deal.stage_id == stages["Qualification"].id
    assert deal.pipeline_id == stages["Qualification"].pipeline_id
    assert (deal.name, deal.amount, deal.currency) == ("Big one", Decimal("1200.50"), "USD")
    assert deal.owner_id == people.bob.id and deal.created_by == people.bob.id
    assert deal.version == 1 and deal.probability is None and deal.closed_at is None


def test_a_new_deal_starts_its_stage_history(db, people, stages):
    deal = new(db, people.bob)
    history = db.exec(select(DealStageChange).where(DealStageChange.deal_id == deal.id)).all()
    assert [(h.from_stage_id, h.to_stage_id) for h in history] == [
        (None, stages["Qualification"].id)
    ]


def test_naming_a_pipeline_starts_in_its_first_open_stage_and_a_stage_names_its_pipeline(
    db, people, stages
):
    other = make_second_pipeline(db)
    first_open = other.stages[1]  # the pipeline starts with a won stage in these tests
    assert new(db, people.bob, pipeline_id=other.pipeline.id).stage_id == first_open.id
    by_stage = new(db, people.bob, stage_id=other.stages[2].id)
    assert by_stage.pipeline_id == other.pipeline.id
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, pipeline_id=other.pipeline.id, stage_id=stages["Discovery"].id)
    assert [e.field for e in caught.value.errors] == ["stage_id"]


def test_unknown_pipelines_and_stages_are_field_errors(db, people, stages):
    for data, field in (
        ({"pipeline_id": 10**9}, "pipeline_id"),
        ({"stage_id": 10**9}, "stage_id"),
        ({"stage_id": 2**40}, "stage_id"),
        ({"pipeline_id": None}, "pipeline_id"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            new(db, people.bob, **data)
        assert [e.field for e in caught.value.errors] == [field]


def test_bad_fields_are_reported_together(db, people, stages):
    with pytest.raises(ValidationFailed) as caught:
        deals.create_deal(
            db,
            actor=people.bob,
            data={
                "amount": "-1",
                "recurring_monthly_value": "1.005",
                "currency": "dollars",
                "probability": 120,
                "expected_close_date": "soon",
                "id": 3,
                "position": "top",
            },
        )
    assert {e.field for e in caught.value.errors} == {
        "name",
        "amount",
        "recurring_monthly_value",
        "currency",
        "probability",
        "expected_close_date",
        "id",
        "position",
    }


@pytest.mark.parametrize(
    ("given", "stored"),
    [(0.1, Decimal("0.10")), ("25", Decimal("25.00")), (19.99, Decimal("19.99")), (None, None)],
)
def test_amounts_are_decimals_with_cents(db, people, stages, given, stored):
    assert new(db, people.bob, amount=given).amount == stored


def test_currency_is_upper_cased_and_defaults_to_the_workspace_setting(db, people, stages):
    assert new(db, people.bob, currency="eur").currency == "EUR"
    db.add(AppSetting(key="default_currency", value="GBP"))
    db.flush()
    assert new(db, people.bob).currency == "GBP"


def test_company_and_contact_must_exist_and_be_live(db, people, stages):
    acme = make_account(db, owner=people.bob, name="Acme")
    ann = make_contact(db, owner=people.bob)
    deal = new(db, people.bob, account_id=acme.id, primary_contact_id=ann.id)
    assert (deal.account_id, deal.primary_contact_id) == (acme.id, ann.id)
    accounts.delete_account(db, actor=people.bob, account_id=acme.id)
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, account_id=acme.id, primary_contact_id=10**12)
    assert {e.field for e in caught.value.errors} == {"account_id", "primary_contact_id"}


def test_rep_cannot_give_a_deal_to_someone_else_but_a_manager_can_within_the_team(
    db, people, stages
):
    with pytest.raises(Forbidden):
        new(db, people.bob, owner_id=people.carol.id)
    assert new(db, people.mona, owner_id=people.carol.id).owner_id == people.carol.id
    with pytest.raises(Forbidden):
        new(db, people.mona, owner_id=people.dave.id)


def test_viewer_cannot_create_a_deal(db, people, stages):
    with pytest.raises(Forbidden):
        new(db, people.vic)


def test_a_deal_created_lost_needs_a_reason_and_is_closed(db, people, stages, clock):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, stage_id=stages["Lost"].id)
    assert [e.field for e in caught.value.errors] == ["lost_reason"]
    lost = new(db, people.bob, stage_id=stages["Lost"].id, lost_reason="price")
    assert (lost.lost_reason, lost.closed_at, lost.won_at) == ("Price", clock.now, None)


# --- changes -----------------------------------------------------------------------------------


def test_rep_edits_own_deals_only_and_viewer_none(db, people, stages):
    own, other = new(db, people.bob), new(db, people.dave)
    deals.update_deal(db, actor=people.bob, deal_id=own.id, data={"amount": "10"})
    assert own.amount == Decimal("10.00") and own.version == 2
    for actor, deal in ((people.bob, other), (people.vic, own)):
        with pytest.raises(Forbidden):
            deals.update_deal(db, actor=actor, deal_id=deal.id, data={"amount": "1"})


def test_stale_version_is_refused(db, people, stages):
    deal = new(db, people.bob)
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"amount": 1}, version=1)
    with pytest.raises(StaleVersion):
        deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"amount": 2}, version=1)
    with pytest.raises(StaleVersion):
        move(db, people.bob, deal, stages["Discovery"], version=1)


def test_update_is_audited_with_before_and_after(db, people, stages):
    from crm_app.services.audit import list_events

    deal = new(db, people.bob, amount="5")
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"amount": "7.5"})
    event = list_events(db, actor=people.alice, entity="deal", entity_id=deal.id).rows[0]
    assert event.action == "update" and event.changes == {"amount": ["5.00", "7.50"]}


def test_trashed_deal_is_hidden_and_restorable_in_its_place(db, people, stages):
    deal = new(db, people.bob, name="Gone")
    deals.delete_deal(db, actor=people.bob, deal_id=deal.id)
    with pytest.raises(NotFound):
        deals.get_deal(db, actor=people.bob, deal_id=deal.id)
    assert deal_list.count_deals(db, actor=people.alice, listq=ListQuery(q="gone")) == 0
    with pytest.raises(Forbidden):
        deals.restore_deal(db, actor=people.dave, deal_id=deal.id)
    deals.restore_deal(db, actor=people.bob, deal_id=deal.id)
    assert deals.get_deal(db, actor=people.bob, deal_id=deal.id).stage_id == deal.stage_id


# --- moves and the won/lost rules --------------------------------------------------------------


def test_moving_records_the_change_and_restarts_the_time_in_stage(db, people, stages, clock):
    deal = new(db, people.bob)
    clock.advance(days=3)
    move(db, people.bob, deal, stages["Discovery"])
    assert deal.stage_id == stages["Discovery"].id and deal.stage_entered_at == clock.now
    last = db.exec(
        select(DealStageChange)
        .where(DealStageChange.deal_id == deal.id)
        .order_by(DealStageChange.id.desc())
    ).first()
    assert (last.from_stage_id, last.to_stage_id, last.changed_by) == (
        stages["Qualification"].id,
        stages["Discovery"].id,
        people.bob.id,
    )
    assert last.changed_at == clock.now


def test_editing_other_fields_leaves_the_stage_and_its_clock_alone(db, people, stages, clock):
    deal = new(db, people.bob)
    entered = deal.stage_entered_at
    clock.advance(days=1)
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"name": "Renamed"})
    assert deal.stage_entered_at == entered
    assert db.exec(select(DealStageChange).where(DealStageChange.deal_id == deal.id)).all()[-1:]
    moves = db.exec(select(DealStageChange).where(DealStageChange.deal_id == deal.id)).all()
    assert len(moves) == 1


def test_winning_sets_closing_dates_and_reopening_clears_them(db, people, stages, clock):
    deal = new(db, people.bob)
    clock.advance(hours=5)
    move(db, people.bob, deal, stages["Won"])
    assert deal.closed_at == deal.won_at == clock.now and deal.lost_reason is None
    move(db, people.bob, deal, stages["Proposal"])
    assert (deal.closed_at, deal.won_at, deal.lost_reason) == (None, None, None)


def test_losing_needs_an_active_lost_reason(db, people, stages, clock):
    deal = new(db, people.bob)
    with pytest.raises(ValidationFailed) as caught:
        move(db, people.bob, deal, stages["Lost"])
    assert [e.field for e in caught.value.errors] == ["lost_reason"]
    assert "why" in caught.value.errors[0].message
    with pytest.raises(ValidationFailed) as caught:
        move(db, people.bob, deal, stages["Lost"], lost_reason="Bad vibes")
    assert [e.field for e in caught.value.errors] == ["lost_reason"]
    assert "Chose a competitor" in caught.value.errors[0].message
    db.refresh(deal)
    assert deal.stage_id == stages["Qualification"].id
    move(db, people.bob, deal, stages["Lost"], lost_reason="  chose a COMPETITOR ")
    assert (deal.lost_reason, deal.closed_at, deal.won_at) == (
        "Chose a competitor",
        clock.now,
        None,
    )


def test_a_deactivated_reason_cannot_be_picked_but_stays_on_deals(db, people, stages):
    deal = new(db, people.bob)
    move(db, people.bob, deal, stages["Lost"], lost_reason="Timing")
    timing = db.exec(select(LostReason).where(LostReason.name == "Timing")).one()
    timing.is_active = False
    db.flush()
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"amount": "3"})
    assert deal.lost_reason == "Timing"
    other = new(db, people.bob)
    with pytest.raises(ValidationFailed):
        move(db, people.bob, other, stages["Lost"], lost_reason="Timing")


def test_a_lost_deal_keeps_its_reason_unless_changed_and_cannot_clear_it(db, people, stages):
    deal = new(db, people.bob)
    move(db, people.bob, deal, stages["Lost"], lost_reason="Price")
    closed = deal.closed_at
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"lost_reason": "Timing"})
    assert deal.lost_reason == "Timing" and deal.closed_at == closed
    with pytest.raises(ValidationFailed) as caught:
        deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"lost_reason": None})
    assert [e.field for e in caught.value.errors] == ["lost_reason"]


def test_only_a_lost_deal_has_a_lost_reason(db, people, stages):
    deal = new(db, people.bob)
    for data in ({"lost_reason": "Price"}, {"stage_id": stages["Won"].id, "lost_reason": "Price"}):
        with pytest.raises(ValidationFailed) as caught:
            deals.update_deal(db, actor=people.bob, deal_id=deal.id, data=data)
        assert [e.field for e in caught.value.errors] == ["lost_reason"]


def test_won_to_lost_closes_again_as_lost(db, people, stages, clock):
    deal = new(db, people.bob)
    move(db, people.bob, deal, stages["Won"])
    clock.advance(days=2)
    move(db, people.bob, deal, stages["Lost"], lost_reason="Price")
    assert (deal.closed_at, deal.won_at) == (clock.now, None)


def test_patching_the_pipeline_moves_to_its_first_open_stage(db, people, stages):
    other = make_second_pipeline(db)
    deal = new(db, people.bob)
    deals.update_deal(
        db, actor=people.bob, deal_id=deal.id, data={"pipeline_id": other.pipeline.id}
    )
    assert (deal.pipeline_id, deal.stage_id) == (other.pipeline.id, other.stages[1].id)


def test_rep_moves_only_own_deals_manager_the_teams_viewer_none(db, people, stages):
    bobs, daves = new(db, people.bob), new(db, people.dave)
    move(db, people.bob, bobs, stages["Discovery"])
    move(db, people.mona, bobs, stages["Proposal"])
    for actor, deal in ((people.bob, daves), (people.mona, daves), (people.vic, bobs)):
        with pytest.raises(Forbidden):
            move(db, actor, deal, stages["Proposal"])
    db.refresh(daves)
    assert daves.stage_id == stages["Qualification"].id


# --- positions ---------------------------------------------------------------------------------


def test_a_deal_entering_a_column_goes_last_and_keeps_its_place_on_other_edits(db, people, stages):
    a, b, c = (new(db, people.bob) for _ in range(3))
    assert column(db, stages["Qualification"]) == [a.id, b.id, c.id]
    assert [a.position, b.position, c.position] == [Decimal(1), Decimal(2), Decimal(3)]
    move(db, people.bob, a, stages["Discovery"])
    move(db, people.bob, a, stages["Qualification"])
    assert column(db, stages["Qualification"]) == [b.id, c.id, a.id]
    deals.update_deal(db, actor=people.bob, deal_id=b.id, data={"name": "Still second"})
    assert column(db, stages["Qualification"]) == [b.id, c.id, a.id]


def test_a_dropped_card_takes_the_midpoint_of_its_neighbours(db, people, stages):
    a, b, c = (new(db, people.bob) for _ in range(3))
    move(db, people.bob, c, stages["Qualification"], before_id=b.id)
    assert c.position == Decimal("1.5") and column(db, stages["Qualification"]) == [
        a.id,
        c.id,
        b.id,
    ]
    move(db, people.bob, a, stages["Qualification"], after_id=b.id)
    assert a.position == Decimal(3) and column(db, stages["Qualification"]) == [c.id, b.id, a.id]
    move(db, people.bob, a, stages["Qualification"], before_id=c.id)
    assert a.position == Decimal("0.5") and column(db, stages["Qualification"]) == [
        a.id,
        c.id,
        b.id,
    ]


def test_a_card_dropped_into_another_column_goes_between_the_cards_named(db, people, stages):
    x, y = new(db, people.bob), new(db, people.bob)
    move(db, people.bob, x, stages["Discovery"])
    move(db, people.bob, y, stages["Discovery"])
    mover = new(db, people.bob)
    move(db, people.bob, mover, stages["Discovery"], after_id=x.id)
    assert column(db, stages["Discovery"]) == [x.id, mover.id, y.id]


def test_the_column_is_renumbered_when_neighbours_get_too_close(db, people, stages):
    a, b, c = (new(db, people.bob) for _ in range(3))
    version_of_c = c.version
    for _ in range(25):  # each drop halves the gap before `b`: 2**-20 < 1e-6
        mover = new(db, people.bob)
        move(db, people.bob, mover, stages["Qualification"], before_id=b.id)
    order = column(db, stages["Qualification"])
    assert order[0] == a.id and order[-2:] == [b.id, c.id] and len(order) == 28
    positions = db.exec(
        select(Deal.position).where(Deal.stage_id == stages["Qualification"].id)
    ).all()
    ordered = sorted(positions)
    gaps = [high - low for low, high in pairwise(ordered)]
    assert min(gaps) >= Decimal("1e-6")
    db.refresh(c)
    assert c.version == version_of_c  # renumbering is no edit


def test_an_anchor_must_be_another_deal_of_the_target_column(db, people, stages):
    a, b = new(db, people.bob), new(db, people.bob)
    for anchor in (a.id, 10**9):
        with pytest.raises(ValidationFailed) as caught:
            move(db, people.bob, a, stages["Discovery"], before_id=anchor)
        assert [e.field for e in caught.value.errors] == ["before_id"]
    with pytest.raises(ValidationFailed):
        move(db, people.bob, a, stages["Qualification"], after_id=a.id)
    with pytest.raises(ValidationFailed):
        move(db, people.bob, a, stages["Qualification"], before_id=b.id, after_id=b.id)


def test_an_explicit_position_is_kept_or_goes_before_the_card_holding_it(db, people, stages):
    a, b, c = (new(db, people.bob) for _ in range(3))  # positions 1, 2, 3
    here = stages["Qualification"]
    deals.update_deal(db, actor=people.bob, deal_id=c.id, data={"position": "0.25"})
    assert c.position == Decimal("0.25") and column(db, here) == [c.id, a.id, b.id]
    deals.update_deal(db, actor=people.bob, deal_id=a.id, data={"position": 2})  # b's
    assert a.position == Decimal("1.125") and column(db, here) == [c.id, a.id, b.id]


# --- the list and its totals -------------------------------------------------------------------


def test_list_filters_in_sql(db, people, stages):
    acme = make_account(db, owner=people.bob, name="Acme")
    ann = make_contact(db, owner=people.bob)
    a = new(db, people.bob, amount="100", expected_close_date="2027-01-10", account_id=acme.id)
    b = new(db, people.dave, amount="900", expected_close_date="2027-03-01", tags=["vip"])
    c = new(db, people.bob, amount="500", primary_contact_id=ann.id)
    move(db, people.bob, c, stages["Won"])
    d = new(db, people.bob)
    deal_contact.add_deal_contact(
        db, actor=people.bob, deal_id=d.id, contact_id=ann.id, role="Buyer"
    )

    def ids(**filters) -> set[int]:
        listq = ListQuery(filters={k: str(v) for k, v in filters.items()})
        return {r.deal.id for r in deal_list.list_deals(db, actor=people.vic, listq=listq).rows}

    assert ids(status="open") == {a.id, b.id, d.id} and ids(status="won") == {c.id}
    assert ids(stage_id=stages["Won"].id) == {c.id}
    assert ids(pipeline_id=stages["Won"].pipeline_id) == {a.id, b.id, c.id, d.id}
    assert ids(amount_min="500") == {b.id, c.id} and ids(amount_max="100") == {a.id}
    assert ids(expected_close_from="2027-01-10", expected_close_to="2027-02-28") == {a.id}
    assert ids(owner_id=people.dave.id) == {b.id} and ids(tag="vip") == {b.id}
    assert ids(account_id=acme.id) == {a.id} and ids(contact_id=ann.id) == {c.id, d.id}
    with pytest.raises(ValidationFailed) as caught:
        ids(status="pending", amount_min="lots", nope="1", expected_close_to="")
    assert {e.field for e in caught.value.errors} == {"status", "amount_min", "nope"}


def test_list_searches_names_by_prefix_and_shows_related_names(db, people, stages):
    acme = make_account(db, owner=people.bob, name="Acme")
    deal = new(db, people.bob, name="Renewal widgets", account_id=acme.id, amount="200")
    new(db, people.bob, name="Gadgets")
    rows = deal_list.list_deals(db, actor=people.vic, listq=ListQuery(q="wid")).rows
    assert [r.deal.id for r in rows] == [deal.id]
    row = rows[0]
    assert (row.company, row.owner, row.stage, row.stage_kind) == (
        "Acme",
        "Bob Rep",
        "Qualification",
        "open",
    )
    assert (row.probability, row.weighted) == (10, Decimal("20.00"))


@pytest.mark.parametrize(
    "sort", ["", "name", "-amount", "company,-created_at", "owner", "stage", "-weighted"]
)
def test_paging_by_cursor_visits_every_deal_once_in_order(db, people, stages, sort):
    acme = make_account(db, owner=people.bob, name="Acme")
    made = set()
    for i in range(7):
        deal = new(
            db,
            people.bob if i % 2 else people.carol,
            name=f"D{i % 3}",
            amount=None if i % 3 == 0 else str(100 * i),
            account_id=acme.id if i % 2 else None,
        )
        if i % 4 == 0:
            move(db, people.alice, deal, stages["Proposal"])
        made.add(deal.id)
    full = deal_list.list_deals(db, actor=people.alice, listq=ListQuery(sort=sort, limit=200))
    expected = [r.deal.id for r in full.rows]
    seen, cursor = [], None
    while True:
        page = deal_list.list_deals(
            db, actor=people.alice, listq=ListQuery(sort=sort, limit=2, cursor=cursor)
        )
        seen += [r.deal.id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected and set(seen) == made


def test_sort_by_amount_and_weighted_amount(db, people, stages):
    small = new(db, people.bob, amount="100", probability=90)  # weighted 90
    big = new(db, people.bob, amount="1000")  # 10 % in Qualification: 100
    none = new(db, people.bob)
    ids = lambda sort: [  # noqa: E731
        r.deal.id
        for r in deal_list.list_deals(db, actor=people.bob, listq=ListQuery(sort=sort)).rows
    ]
    assert ids("amount") == [small.id, big.id, none.id]
    assert ids("-weighted") == [none.id, big.id, small.id]  # NULL sorts as the largest


def test_totals_count_sum_and_weigh_every_matching_deal_by_currency(db, people, stages):
    new(db, people.bob, amount="1000")  # 10 %: 100
    new(db, people.bob, amount="2000", probability=40)  # 800
    p = new(db, people.bob, amount="300", currency="EUR")
    move(db, people.bob, p, stages["Proposal"])  # 50 %: 150 EUR
    new(db, people.bob)  # no amount: counted, adds nothing
    w = new(db, people.dave, amount="70")
    move(db, people.dave, w, stages["Won"])  # 100 %
    totals = deal_list.deal_totals(db, actor=people.vic, listq=ListQuery())
    assert totals.count == 5
    assert totals.amount == {"USD": Decimal("3070.00"), "EUR": Decimal("300.00")}
    assert totals.weighted == {"USD": Decimal("970.00"), "EUR": Decimal("150.00")}
    mine = deal_list.deal_totals(db, actor=people.vic, listq=ListQuery(filters={"status": "won"}))
    assert (mine.count, mine.amount, mine.weighted) == (
        1,
        {"USD": Decimal("70.00")},
        {"USD": Decimal("70.00")},
    )


def test_weighted_sums_are_rounded_once_not_per_deal(db, people, stages):
    for _ in range(2):
        new(db, people.bob, amount="0.02", probability=25)  # 0.005 each
    assert deal_list.deal_totals(db, actor=people.bob, listq=ListQuery()).weighted == {
        "USD": Decimal("0.01")
    }


# --- the board ---------------------------------------------------------------------------------


def test_board_columns_have_counts_amounts_and_weighted_amounts(db, people, stages):
    a = new(db, people.bob, amount="1000")  # Qualification 10 %: 100
    b = new(db, people.carol, amount="2000", probability=40)  # 800
    c = new(db, people.bob, amount="400")
    move(db, people.bob, c, stages["Discovery"])  # 25 %: 100
    d = new(db, people.bob, amount="300", currency="EUR")
    move(db, people.bob, d, stages["Discovery"])  # 75 EUR
    e = new(db, people.bob)
    move(db, people.bob, e, stages["Proposal"])  # no amount
    won, lost = new(db, people.bob, amount="5000"), new(db, people.bob, amount="50")
    move(db, people.bob, won, stages["Won"])
    move(db, people.bob, lost, stages["Lost"], lost_reason="Price")

    result = boards.board(db, actor=people.vic, pipeline_id=stages["Won"].pipeline_id)
    by_name = {col.stage.name: col for col in result.columns}
    assert list(by_name) == ["Qualification", "Discovery", "Proposal", "Negotiation"]
    q, di, p, n = by_name.values()
    assert (q.totals.count, q.totals.amount, q.totals.weighted) == (
        2,
        {"USD": Decimal("3000.00")},
        {"USD": Decimal("900.00")},
    )
    assert (di.totals.count, di.totals.amount, di.totals.weighted) == (
        2,
        {"USD": Decimal("400.00"), "EUR": Decimal("300.00")},
        {"USD": Decimal("100.00"), "EUR": Decimal("75.00")},
    )
    assert (p.totals.count, p.totals.amount, n.totals.count, n.cards) == (1, {}, 0, [])
    assert [card.id for card in q.cards] == [a.id, b.id]
    assert [card.id for card in di.cards] == [c.id, d.id]
    card = q.cards[1]
    assert (card.name, card.owner, card.amount, card.currency) == (
        "A deal",
        "Carol Rep",
        Decimal("2000.00"),
        "USD",
    )


def test_cards_show_days_in_stage_and_rot_past_the_stage_limit(db, people, stages):
    fresh, idle = new(db, people.bob), new(db, people.bob)
    acme = make_account(db, owner=people.bob, name="Acme")
    deals.update_deal(
        db,
        actor=people.bob,
        deal_id=idle.id,
        data={"account_id": acme.id, "expected_close_date": "2027-05-01"},
    )
    idle.stage_entered_at = idle.stage_entered_at - timedelta(days=14, hours=1)
    db.flush()  # Qualification rots after 14 days
    cards = boards.board(db, actor=people.bob, pipeline_id=fresh.pipeline_id).columns[0].cards
    by_id = {card.id: card for card in cards}
    assert (by_id[fresh.id].days_in_stage, by_id[fresh.id].rotting) == (0, False)
    assert (by_id[idle.id].days_in_stage, by_id[idle.id].rotting) == (14, True)
    assert (by_id[idle.id].company, by_id[idle.id].expected_close_date) == (
        "Acme",
        date(2027, 5, 1),
    )


def test_columns_show_their_first_cards_and_load_more_by_cursor(db, people, stages):
    made = [new(db, people.bob).id for _ in range(7)]
    first = boards.board(db, actor=people.bob, pipeline_id=stages["Won"].pipeline_id, per_column=3)
    column_ = first.columns[0]
    assert [c.id for c in column_.cards] == made[:3] and column_.totals.count == 7
    seen, cursor = [c.id for c in column_.cards], column_.next_cursor
    while cursor:
        page = boards.column_page(
            db, actor=people.bob, stage_id=column_.stage.id, cursor=cursor, limit=3
        )
        seen += [c.id for c in page.cards]
        cursor = page.next_cursor
    assert seen == made
    with pytest.raises(ValidationFailed):
        boards.column_page(db, actor=people.bob, stage_id=column_.stage.id, cursor="nonsense")


def test_board_filters_narrow_cards_and_totals(db, people, stages):
    new(db, people.bob, amount="100", expected_close_date="2027-01-05")
    mine = new(db, people.bob, amount="900", expected_close_date="2027-02-05")
    new(db, people.dave, amount="900", expected_close_date="2027-02-05")
    listq = ListQuery(
        filters={"owner_id": "me", "amount_min": "500", "expected_close_from": "2027-02-01"}
    )
    column_ = boards.board(db, actor=people.bob, pipeline_id=mine.pipeline_id, listq=listq).columns[
        0
    ]
    assert [c.id for c in column_.cards] == [mine.id]
    assert (column_.totals.count, column_.totals.amount) == (1, {"USD": Decimal("900.00")})


def test_a_board_needs_a_live_pipeline_and_deal_read_permission(db, people, stages):
    with pytest.raises(NotFound):
        boards.board(db, actor=people.bob, pipeline_id=10**9)
    from crm_app.services.permission import set_scope

    set_scope(db, actor=people.alice, role="viewer", resource="deal", action="read", scope="none")
    with pytest.raises(Forbidden):
        boards.board(db, actor=people.vic, pipeline_id=stages["Won"].pipeline_id)


# --- stage history -----------------------------------------------------------------------------


def test_stage_history_lists_each_stage_with_the_time_spent_in_it(db, people, stages, clock):
    deal = new(db, people.bob)
    start = clock.now
    clock.advance(days=2)
    move(db, people.bob, deal, stages["Discovery"])
    clock.advance(days=3, hours=6)
    move(db, people.bob, deal, stages["Qualification"])
    clock.advance(hours=1)
    move(db, people.bob, deal, stages["Won"])
    clock.advance(days=10)
    visits = reports.stage_history(db, actor=people.vic, deal_id=deal.id)
    assert [(v.stage, v.duration) for v in visits] == [
        ("Qualification", timedelta(days=2)),
        ("Discovery", timedelta(days=3, hours=6)),
        ("Qualification", timedelta(hours=1)),
        ("Won", timedelta(days=10)),
    ]
    assert visits[0].entered_at == start and visits[-1].left_at is None
    assert visits[-1].kind == "won"


def test_history_of_a_deal_made_without_its_first_move_starts_at_its_creation(
    db, people, stages, clock
):
    from tests.factories import make_deal

    deal = make_deal(db, owner=people.bob)
    deal.created_at = clock.now - timedelta(days=4)
    db.flush()
    move(db, people.bob, deal, stages["Discovery"])
    visits = reports.stage_history(db, actor=people.bob, deal_id=deal.id)
    assert [(v.stage, v.duration) for v in visits] == [
        ("Qualification", timedelta(days=4)),
        ("Discovery", timedelta(0)),
    ]


# --- the forecast ------------------------------------------------------------------------------


def test_forecast_weighs_open_deals_by_close_month_per_owner_and_in_total(db, people, stages):
    def deal(owner, amount, close, stage="Qualification", **data):
        made = new(db, owner, amount=amount, expected_close_date=close, **data)
        if stage != "Qualification":
            kw = {"lost_reason": "Price"} if stage == "Lost" else {}
            move(db, people.alice, made, stages[stage], **kw)
        return made

    deal(people.bob, "1000", "2027-01-15")  # 10 %: 100
    deal(people.bob, "2000", "2027-01-31", "Discovery")  # 25 %: 500
    deal(people.bob, "1000", "2027-02-10", "Proposal")  # 50 %: 500
    deal(people.carol, "4000", "2027-02-01", "Negotiation")  # 75 %: 3000
    deal(people.carol, "500", None, probability=10)  # no date: 50
    deal(people.bob, "9999", "2027-01-20", "Won")  # closed: left out
    deal(people.carol, "9999", "2027-01-20", "Lost")  # closed: left out

    result = reports.forecast(db, actor=people.vic)
    jan, feb = date(2027, 1, 1), date(2027, 2, 1)
    usd = lambda amount: {"USD": Decimal(amount)}  # noqa: E731
    assert result.months == [jan, feb, None]
    bob, carol = result.owners
    assert (bob.owner, carol.owner) == ("Bob Rep", "Carol Rep")
    assert bob.months == {jan: usd("600.00"), feb: usd("500.00")} and bob.total == usd("1100.00")
    assert carol.months == {feb: usd("3000.00"), None: usd("50.00")}
    assert carol.total == usd("3050.00")
    assert result.total.months == {jan: usd("600.00"), feb: usd("3500.00"), None: usd("50.00")}
    assert result.total.total == usd("4150.00")
    only_bob = reports.forecast(
        db, actor=people.vic, listq=ListQuery(filters={"owner_id": str(people.bob.id)})
    )
    assert [line.owner for line in only_bob.owners] == ["Bob Rep"]
    assert only_bob.total.total == usd("1100.00")


# --- contacts involved -------------------------------------------------------------------------


def test_contacts_are_involved_with_a_role_changed_and_removed(db, people, stages):
    deal = new(db, people.bob)
    ann = make_contact(db, owner=people.dave, first_name="Ann", last_name="Lee", title="CFO")
    deal_contact.add_deal_contact(
        db, actor=people.bob, deal_id=deal.id, contact_id=ann.id, role="Buyer"
    )
    deal_contact.add_deal_contact(
        db, actor=people.bob, deal_id=deal.id, contact_id=ann.id, role="Decision maker"
    )
    involved = deal_contact.list_deal_contacts(db, actor=people.vic, deal_id=deal.id)
    assert [(c.contact_id, c.name, c.title, c.role) for c in involved] == [
        (ann.id, "Ann Lee", "CFO", "Decision maker")
    ]
    with pytest.raises(Forbidden):
        deal_contact.remove_deal_contact(db, actor=people.dave, deal_id=deal.id, contact_id=ann.id)
    deal_contact.remove_deal_contact(db, actor=people.bob, deal_id=deal.id, contact_id=ann.id)
    assert deal_contact.list_deal_contacts(db, actor=people.bob, deal_id=deal.id) == []
    with pytest.raises(NotFound):
        deal_contact.remove_deal_contact(db, actor=people.bob, deal_id=deal.id, contact_id=ann.id)


def test_only_live_contacts_can_be_involved(db, people, stages):
    deal = new(db, people.bob)
    with pytest.raises(ValidationFailed) as caught:
        deal_contact.add_deal_contact(
            db, actor=people.bob, deal_id=deal.id, contact_id=10**12, role="x" * 101
        )
    assert {e.field for e in caught.value.errors} == {"contact_id", "role"}


def test_the_board_stamp_changes_when_what_the_board_shows_may_have(db, people, stages):
    sales = stages["Won"].pipeline_id
    other = make_second_pipeline(db)
    stamp = lambda: boards.board_stamp(db, actor=people.vic, pipeline_id=sales)  # noqa: E731
    before = stamp()
    assert stamp() == before
    deal = new(db, people.bob)
    seen = {before, stamp()}
    move(db, people.bob, deal, stages["Discovery"])
    seen.add(stamp())
    deals.update_deal(db, actor=people.bob, deal_id=deal.id, data={"stage_id": other.stages[1].id})
    seen.add(stamp())
    elsewhere = boards.board_stamp(db, actor=people.vic, pipeline_id=other.pipeline.id)
    new(db, people.bob, stage_id=other.stages[2].id)
    assert stamp() in seen  # a deal added to another pipeline changes nothing here
    assert boards.board_stamp(db, actor=people.vic, pipeline_id=other.pipeline.id) != elsewhere
    assert len(seen) == 4
