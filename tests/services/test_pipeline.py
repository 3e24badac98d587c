"""Pipelines, their stages and the lost reasons: admins change them, everyone reads them, and
no change leaves a deal without a stage or a workspace without a default pipeline."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.models import Deal, DealStageChange, Pipeline
from crm_app.services import deal as deals
from crm_app.services import deal_board as boards
from crm_app.services import deal_report as reports
from crm_app.services import lost_reason as reasons
from crm_app.services import pipeline as pipelines
from crm_app.services.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from tests.factories import make_second_pipeline, stages_of_default_pipeline


@pytest.fixture
def stages(db, people):
    return stages_of_default_pipeline(db)


def names(stages) -> list[str]:
    return [s.name for s in stages]


def errors_of(caught) -> dict[str, str]:
    return {e.field: e.message for e in caught.value.errors}


def new_deal(db, actor, stage, **data):
    return deals.create_deal(db, actor=actor, data={"name": "D", "stage_id": stage.id, **data})


# --- reading -----------------------------------------------------------------------------------


def test_everyone_reads_the_pipelines_with_their_stages_in_order(db, people, stages):
    second = make_second_pipeline(db)
    found = pipelines.list_pipelines(db, actor=people.vic)
    assert [p.pipeline.name for p in found] == ["Sales", "Renewals"]
    assert names(found[0].stages) == [
        "Qualification",
        "Discovery",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    one = pipelines.get_pipeline(db, actor=people.bob, pipeline_id=second.pipeline.id)
    assert names(one.stages) == ["Signed", "Intro", "Trial", "Dropped"]
    with pytest.raises(NotFound):
        pipelines.get_pipeline(db, actor=people.bob, pipeline_id=10**9)


def test_only_admins_change_pipelines(db, people, stages):
    sales = stages["Won"].pipeline_id
    for actor in (people.mona, people.bob, people.vic):
        with pytest.raises(Forbidden):
            pipelines.create_pipeline(db, actor=actor, data={"name": "Mine"})
        with pytest.raises(Forbidden):
            pipelines.update_stage(db, actor=actor, stage_id=stages["Won"].id, data={"name": "W"})
        with pytest.raises(Forbidden):
            pipelines.reorder_stages(db, actor=actor, pipeline_id=sales, stage_ids=[])
        with pytest.raises(Forbidden):
            reasons.add_lost_reason(db, actor=actor, name="Mine")


# --- pipelines ---------------------------------------------------------------------------------


def test_a_new_pipeline_without_stages_gets_the_usual_ones_and_goes_last(db, people, stages):
    made = pipelines.create_pipeline(db, actor=people.alice, data={"name": " Partners "})
    assert made.pipeline.name == "Partners" and not made.pipeline.is_default
    assert names(made.stages) == names(stages.values())
    assert made.pipeline.position == 1
    assert [s.position for s in made.stages] == list(range(6))


def test_a_new_pipeline_keeps_the_stages_given_in_order(db, people, stages):
    made = pipelines.create_pipeline(
        db,
        actor=people.alice,
        data={
            "name": "Hiring",
            "stages": [
                {"name": "Screen", "probability": 10, "rotting_days": 5},
                {"name": "Offer", "probability": 80},
                {"name": "Hired", "probability": 100, "kind": "won"},
            ],
        },
    )
    assert [(s.name, s.probability, s.kind, s.rotting_days) for s in made.stages] == [
        ("Screen", 10, "open", 5),
        ("Offer", 80, "open", None),
        ("Hired", 100, "won", None),
    ]


def test_bad_pipelines_are_refused_with_every_field_named(db, people, stages):
    with pytest.raises(ValidationFailed) as caught:
        pipelines.create_pipeline(
            db,
            actor=people.alice,
            data={
                "name": "sales",
                "is_default": "yes",
                "color": "red",
                "stages": [
                    {"name": "A", "probability": 101},
                    {"name": "a", "kind": "maybe", "rotting_days": 0},
                    {"probability": 5},
                ],
            },
        )
    assert set(errors_of(caught)) == {
        "name",
        "is_default",
        "color",
        "stages.0.probability",
        "stages.1.name",
        "stages.1.kind",
        "stages.1.rotting_days",
        "stages.2.name",
    }
    with pytest.raises(ValidationFailed) as caught:
        pipelines.create_pipeline(
            db,
            actor=people.alice,
            data={"name": "Closed", "stages": [{"name": "Won", "kind": "won"}]},
        )
    assert "open stage" in errors_of(caught)["stages"]


def test_making_a_pipeline_the_default_takes_the_flag_from_the_old_one(db, people, stages):
    sales = stages["Won"].pipeline_id
    second = make_second_pipeline(db)
    pipelines.update_pipeline(
        db, actor=people.alice, pipeline_id=second.pipeline.id, data={"is_default": True}
    )
    defaults = db.exec(select(Pipeline.id).where(Pipeline.is_default)).all()
    assert defaults == [second.pipeline.id]
    assert pipelines.default_pipeline(db).id == second.pipeline.id
    deal = deals.create_deal(db, actor=people.bob, data={"name": "Lands in the new default"})
    assert deal.stage_id == second.stages[1].id
    with pytest.raises(ValidationFailed) as caught:
        pipelines.update_pipeline(
            db, actor=people.alice, pipeline_id=second.pipeline.id, data={"is_default": False}
        )
    assert "another pipeline" in errors_of(caught)["is_default"]
    made = pipelines.create_pipeline(
        db, actor=people.alice, data={"name": "Third", "is_default": True}
    )
    assert pipelines.default_pipeline(db).id == made.pipeline.id
    assert db.get(Pipeline, sales).is_default is False


def test_renaming_checks_names_and_versions(db, people, stages):
    second = make_second_pipeline(db)
    renamed = pipelines.update_pipeline(
        db, actor=people.alice, pipeline_id=second.pipeline.id, data={"name": "Upsell"}, version=1
    )
    assert renamed.pipeline.name == "Upsell" and renamed.pipeline.version == 2
    with pytest.raises(StaleVersion):
        pipelines.update_pipeline(
            db, actor=people.alice, pipeline_id=second.pipeline.id, data={"name": "X"}, version=1
        )
    with pytest.raises(ValidationFailed):
        pipelines.update_pipeline(
            db, actor=people.alice, pipeline_id=second.pipeline.id, data={"name": "SALES"}
        )


def test_pipelines_are_reordered_in_one_go(db, people, stages):
    sales = stages["Won"].pipeline_id
    second = make_second_pipeline(db)
    found = pipelines.reorder_pipelines(
        db, actor=people.alice, pipeline_ids=[second.pipeline.id, sales]
    )
    assert [p.pipeline.name for p in found] == ["Renewals", "Sales"]
    for wrong in ([sales], [sales, sales], [sales, second.pipeline.id, 10**9], ["x"]):
        with pytest.raises(ValidationFailed):
            pipelines.reorder_pipelines(db, actor=people.alice, pipeline_ids=wrong)


def test_the_default_pipeline_cannot_be_deleted(db, people, stages):
    with pytest.raises(ValidationFailed) as caught:
        pipelines.delete_pipeline(db, actor=people.alice, pipeline_id=stages["Won"].pipeline_id)
    assert "default" in caught.value.message


def test_an_empty_pipeline_is_deleted_with_its_stages(db, people, stages):
    second = make_second_pipeline(db)
    pipelines.delete_pipeline(db, actor=people.alice, pipeline_id=second.pipeline.id)
    assert [p.pipeline.name for p in pipelines.list_pipelines(db, actor=people.bob)] == ["Sales"]
    assert all(s.deleted_at is not None for s in second.stages)
    with pytest.raises(ValidationFailed):
        new_deal(db, people.bob, second.stages[1])


def test_a_pipeline_with_deals_moves_them_by_kind_before_it_goes(db, people, stages):
    second = make_second_pipeline(db)
    signed, intro, trial, dropped = second.stages
    open_one = new_deal(db, people.bob, trial)
    won = new_deal(db, people.bob, signed)
    lost = new_deal(db, people.bob, dropped, lost_reason="Price")
    trashed = new_deal(db, people.bob, intro)
    deals.delete_deal(db, actor=people.bob, deal_id=trashed.id)
    with pytest.raises(ValidationFailed) as caught:
        pipelines.delete_pipeline(db, actor=people.alice, pipeline_id=second.pipeline.id)
    assert "4 deals" in errors_of(caught)["move_to_stage_id"]
    for target in (stages["Won"], trial, 10**9):
        with pytest.raises(ValidationFailed):
            pipelines.delete_pipeline(
                db,
                actor=people.alice,
                pipeline_id=second.pipeline.id,
                move_to_stage_id=getattr(target, "id", target),
            )
    pipelines.delete_pipeline(
        db,
        actor=people.alice,
        pipeline_id=second.pipeline.id,
        move_to_stage_id=stages["Proposal"].id,
    )
    for deal in (open_one, won, lost, trashed):
        db.refresh(deal)
    assert [d.stage_id for d in (open_one, won, lost, trashed)] == [
        stages["Proposal"].id,
        stages["Won"].id,
        stages["Lost"].id,
        stages["Proposal"].id,
    ]
    assert won.won_at is not None and lost.lost_reason == "Price"
    assert open_one.pipeline_id == stages["Proposal"].pipeline_id
    moves = db.exec(
        select(DealStageChange.from_stage_id).where(
            DealStageChange.deal_id == open_one.id, DealStageChange.from_stage_id.is_not(None)
        )
    ).all()
    assert moves == [trial.id]


def test_a_pipeline_whose_closed_deals_have_nowhere_to_go_stays(db, people, stages):
    partners = pipelines.create_pipeline(
        db,
        actor=people.alice,
        data={"name": "Partners", "stages": [{"name": "Talking"}, {"name": "Done", "kind": "won"}]},
    )
    second = make_second_pipeline(db)
    new_deal(db, people.bob, second.stages[3], lost_reason="Price")
    with pytest.raises(ValidationFailed) as caught:
        pipelines.delete_pipeline(
            db,
            actor=people.alice,
            pipeline_id=second.pipeline.id,
            move_to_stage_id=partners.stages[0].id,
        )
    assert "no lost stage" in errors_of(caught)["move_to_stage_id"]


# --- stages ------------------------------------------------------------------------------------


def test_a_new_open_stage_goes_before_the_closed_ones_unless_placed(db, people, stages):
    sales = stages["Won"].pipeline_id
    pipelines.add_stage(
        db, actor=people.alice, pipeline_id=sales, data={"name": "Demo", "probability": 60}
    )
    pipelines.add_stage(
        db, actor=people.alice, pipeline_id=sales, data={"name": "Lead in", "position": 0}
    )
    pipelines.add_stage(
        db, actor=people.alice, pipeline_id=sales, data={"name": "Churned", "kind": "lost"}
    )
    found = pipelines.get_pipeline(db, actor=people.bob, pipeline_id=sales).stages
    assert names(found) == [
        "Lead in",
        "Qualification",
        "Discovery",
        "Proposal",
        "Negotiation",
        "Demo",
        "Won",
        "Lost",
        "Churned",
    ]
    assert [s.position for s in found] == list(range(9))
    with pytest.raises(ValidationFailed) as caught:
        pipelines.add_stage(
            db, actor=people.alice, pipeline_id=sales, data={"name": "won", "position": 99}
        )
    assert set(errors_of(caught)) == {"name", "position"}


def test_a_stage_is_renamed_and_reweighted(db, people, stages):
    stage = pipelines.update_stage(
        db,
        actor=people.alice,
        stage_id=stages["Proposal"].id,
        data={"name": "Quote", "probability": 55, "rotting_days": None},
    )
    assert (stage.name, stage.probability, stage.rotting_days, stage.version) == (
        "Quote",
        55,
        None,
        2,
    )
    with pytest.raises(ValidationFailed) as caught:
        pipelines.update_stage(
            db,
            actor=people.alice,
            stage_id=stages["Proposal"].id,
            data={"name": "Won", "probability": -1, "rotting_days": "a week", "pipeline_id": 3},
        )
    assert set(errors_of(caught)) == {"name", "probability", "rotting_days", "pipeline_id"}


def test_a_stage_asked_for_under_another_pipeline_is_not_found(db, people, stages):
    second = make_second_pipeline(db)
    with pytest.raises(NotFound):
        pipelines.update_stage(
            db,
            actor=people.alice,
            stage_id=stages["Proposal"].id,
            pipeline_id=second.pipeline.id,
            data={"name": "X"},
        )


def test_a_stage_changes_kind_only_when_empty_and_the_last_open_stage_stays_open(db, people):
    second = make_second_pipeline(db)
    signed, intro, trial, _ = second.stages
    new_deal(db, people.bob, trial)
    with pytest.raises(ValidationFailed) as caught:
        pipelines.update_stage(db, actor=people.alice, stage_id=trial.id, data={"kind": "won"})
    assert "deals" in errors_of(caught)["kind"]
    pipelines.update_stage(db, actor=people.alice, stage_id=intro.id, data={"kind": "lost"})
    with pytest.raises(ValidationFailed) as caught:
        pipelines.delete_stage(
            db, actor=people.alice, stage_id=trial.id, move_to_stage_id=signed.id
        )
    assert "open stage" in caught.value.message
    pipelines.update_stage(db, actor=people.alice, stage_id=signed.id, data={"kind": "open"})
    assert signed.kind == "open"


def test_stages_are_reordered_in_one_go(db, people, stages):
    sales = stages["Won"].pipeline_id
    order = [stages[n].id for n in ("Discovery", "Qualification", "Proposal", "Negotiation")]
    order += [stages["Lost"].id, stages["Won"].id]
    found = pipelines.reorder_stages(db, actor=people.alice, pipeline_id=sales, stage_ids=order)
    assert [s.id for s in found] == order and [s.position for s in found] == list(range(6))
    deal = deals.create_deal(db, actor=people.bob, data={"name": "Starts first"})
    assert deal.stage_id == stages["Discovery"].id
    with pytest.raises(ValidationFailed) as caught:
        pipelines.reorder_stages(db, actor=people.alice, pipeline_id=sales, stage_ids=order[1:])
    assert set(errors_of(caught)) == {"stage_ids"}


def test_a_stage_with_deals_is_deleted_only_after_they_move_to_a_stage_of_its_kind(
    db, people, stages
):
    here, there = stages["Discovery"], stages["Proposal"]
    waiting = new_deal(db, people.bob, there)
    first, second = new_deal(db, people.bob, here), new_deal(db, people.carol, here)
    deals.delete_deal(db, actor=people.carol, deal_id=second.id)
    with pytest.raises(ValidationFailed) as caught:
        pipelines.delete_stage(db, actor=people.alice, stage_id=here.id)
    assert "2 deals" in errors_of(caught)["move_to_stage_id"]
    other = make_second_pipeline(db)
    for target in (here, stages["Won"], other.stages[1]):
        with pytest.raises(ValidationFailed):
            pipelines.delete_stage(
                db, actor=people.alice, stage_id=here.id, move_to_stage_id=target.id
            )
    pipelines.delete_stage(db, actor=people.alice, stage_id=here.id, move_to_stage_id=there.id)
    for deal in (waiting, first, second):
        db.refresh(deal)
    assert (first.stage_id, second.stage_id) == (there.id, there.id)
    assert waiting.position < first.position < second.position  # after those already there
    assert "Discovery" not in names(
        pipelines.get_pipeline(db, actor=people.bob, pipeline_id=here.pipeline_id).stages
    )
    history = reports.stage_history(db, actor=people.bob, deal_id=first.id)
    assert [v.stage for v in history] == ["Discovery", "Proposal"]


def test_an_empty_stage_is_deleted_directly(db, people, stages):
    pipelines.delete_stage(db, actor=people.alice, stage_id=stages["Negotiation"].id)
    board = boards.board(db, actor=people.bob, pipeline_id=stages["Won"].pipeline_id)
    assert [c.stage.name for c in board.columns] == ["Qualification", "Discovery", "Proposal"]


# --- lost reasons ------------------------------------------------------------------------------


def test_lost_reasons_are_listed_added_renamed_deactivated_and_reordered(db, people, stages):
    listed = lambda **kw: [  # noqa: E731
        r.name for r in reasons.list_lost_reasons(db, actor=people.vic, **kw)
    ]
    assert listed()[:2] == ["Price", "Chose a competitor"]
    added = reasons.add_lost_reason(db, actor=people.alice, name="  Went  quiet ")
    assert listed()[-1] == "Went quiet"
    with pytest.raises(ValidationFailed):
        reasons.add_lost_reason(db, actor=people.alice, name="PRICE")
    with pytest.raises(ValidationFailed):
        reasons.add_lost_reason(db, actor=people.alice, name=" ")
    reasons.set_lost_reason_active(db, actor=people.alice, reason_id=added.id, active=False)
    assert "Went quiet" not in listed() and "Went quiet" in listed(include_inactive=True)
    every = reasons.list_lost_reasons(db, actor=people.alice, include_inactive=True)
    flipped = reasons.reorder_lost_reasons(
        db, actor=people.alice, reason_ids=[r.id for r in reversed(every)]
    )
    assert [r.name for r in flipped] == [r.name for r in reversed(every)]
    with pytest.raises(ValidationFailed):
        reasons.reorder_lost_reasons(db, actor=people.alice, reason_ids=[every[0].id])


def test_renaming_a_reason_renames_it_on_the_deals_that_carry_it(db, people, stages):
    deal = new_deal(db, people.bob, stages["Lost"], lost_reason="Price")
    version = deal.version
    price = next(r for r in reasons.list_lost_reasons(db, actor=people.alice) if r.name == "Price")
    reasons.rename_lost_reason(db, actor=people.alice, reason_id=price.id, name="Too expensive")
    db.refresh(deal)
    assert deal.lost_reason == "Too expensive" and deal.version == version
    assert db.exec(select(Deal).where(Deal.lost_reason == "Price")).all() == []
