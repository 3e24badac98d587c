"""Settings -> Pipelines and the forecast, driven through their state handlers."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from crm_app.models import Deal, LostReason, Pipeline, Stage
from crm_app.services import deal as deals
from crm_app.state.forecast import ForecastState
from crm_app.state.pipeline_settings import PipelineSettingsState
from tests.factories import make_deal, stages_of_default_pipeline
from tests.state.test_record_pages import state_of


def settings(db, actor) -> PipelineSettingsState:
    state = state_of(PipelineSettingsState, db, actor, "/settings/pipelines")
    with state._actor_session() as (session, user):
        state._reload(session, user)
    return state


def names(rows) -> list[str]:
    return [r["name"] for r in rows]


def test_an_admin_adds_a_stage_before_the_closed_ones_and_sees_field_errors(db, people):
    page = settings(db, people.alice)
    assert page.can_manage and names(page.pipelines) == ["Sales"]
    page.open_stage("")
    page.save_stage({"name": "Demo", "kind": "open", "probability": "120", "rotting_days": ""})
    assert page.stage_errors == {"probability": "Enter a whole number from 0 to 100."}
    assert page.stage_dialog
    page.save_stage({"name": "Demo", "kind": "open", "probability": "40", "rotting_days": "5"})
    assert not page.stage_dialog
    assert names(page.stages)[-3:] == ["Demo", "Won", "Lost"]
    demo = next(s for s in page.stages if s["name"] == "Demo")
    assert (demo["probability"], demo["rotting_label"]) == ("40", "5 days")


def test_stages_are_edited_reordered_and_deleted_moving_their_deals(db, people):
    stages = stages_of_default_pipeline(db)
    deal = make_deal(db, owner=people.bob)
    page = settings(db, people.alice)
    qualification = next(s for s in page.stages if s["name"] == "Qualification")
    assert qualification["deals"] == "1"
    page.open_stage(qualification["id"])
    page.save_stage({"name": "Qualified", "kind": "open", "probability": "15", "rotting_days": ""})
    page.move_stage(qualification["id"], 1)
    assert names(page.stages)[:2] == ["Discovery", "Qualified"]
    page.ask_delete_stage(qualification["id"])
    assert [t["label"] for t in page.delete_targets] == ["Discovery", "Proposal", "Negotiation"]
    page.confirm_delete({"move_to": ""})
    assert "pick the stage" in page.delete_error and page.delete_kind == "stage"
    page.confirm_delete({"move_to": str(stages["Proposal"].id)})
    assert page.delete_kind == "" and "Qualified" not in names(page.stages)
    assert db.get(Deal, deal.id).stage_id == stages["Proposal"].id


def test_pipelines_are_added_renamed_made_default_and_deleted(db, people):
    page = settings(db, people.alice)
    page.open_pipeline("")
    page.save_pipeline({"name": "sales"})
    assert "already used" in page.pipeline_error
    page.save_pipeline({"name": "Renewals"})
    renewals = next(p for p in page.pipelines if p["name"] == "Renewals")
    assert page.selected_id == renewals["id"] and page.selected_name == "Renewals"
    assert names(page.stages)[0] == "Qualification"  # it starts with the usual stages
    page.open_pipeline(renewals["id"])
    page.save_pipeline({"name": "Upsells"})
    page.make_default(renewals["id"])
    assert [(p["name"], p["default"]) for p in page.pipelines] == [
        ("Sales", ""),
        ("Upsells", "yes"),
    ]
    page.move_pipeline(renewals["id"], -1)
    assert names(page.pipelines) == ["Upsells", "Sales"]
    sales = next(p for p in page.pipelines if p["name"] == "Sales")
    page.ask_delete_pipeline(sales["id"])
    page.confirm_delete({})
    assert db.get(Pipeline, int(sales["id"])).deleted_at is not None


def test_lost_reasons_are_added_renamed_deactivated_and_reordered(db, people):
    page = settings(db, people.alice)
    page.add_reason({"reason": "price"})
    assert "already in the list" in page.reason_error
    page.add_reason({"reason": "Legal"})
    legal = next(r for r in page.reasons if r["name"] == "Legal")
    page.start_reason(legal["id"])
    page.save_reason({"name": "Legal review"})
    page.toggle_reason(legal["id"])
    page.move_reason(legal["id"], -1)
    assert [(r["name"], r["active"]) for r in page.reasons][-2:] == [
        ("Legal review", ""),
        ("Product fit", "yes"),
    ]
    assert db.get(LostReason, int(legal["id"])).is_active is False


def test_only_admins_manage_pipelines(db, people):
    page = settings(db, people.mona)
    assert page.can_manage is False and page.pipelines == []
    # a browser can send any event with any arguments: the services refuse it
    page.can_manage, page.selected_id = True, str(stages_of_default_pipeline(db)["Won"].pipeline_id)
    event = page.save_stage({"name": "Sneaky", "kind": "open", "probability": "1"})
    assert "toast" in str(event).lower()
    found = db.exec(select(Stage).where(Stage.name == "Sneaky")).first()
    assert found is None


def test_the_forecast_sums_weighted_amounts_by_month_per_owner_and_in_total(db, people):
    def deal(owner, amount, close, **data):
        made = make_deal(db, owner=owner, amount=amount)
        deals.update_deal(
            db, actor=people.alice, deal_id=made.id, data={"expected_close_date": close, **data}
        )

    deal(people.bob, "1000", date(2026, 4, 10))  # 10% of Qualification
    deal(people.bob, "2000", date(2026, 5, 1), probability=50)
    deal(people.carol, "400", date(2026, 4, 30), currency="EUR")
    page = state_of(ForecastState, db, people.bob, "/deals/forecast")
    with page._actor_session() as (session, user):
        page._first(session, user)
    assert page.months == ["Apr 2026", "May 2026"]
    assert [(r.owner, r.cells, r.total) for r in page.rows] == [
        ("Bob Rep", ["100.00 USD", "1,000.00 USD"], "1,100.00 USD"),
        ("Carol Rep", ["40.00 EUR", "—"], "40.00 EUR"),
    ]
    assert page.total.cells == ["40.00 EUR + 100.00 USD", "1,000.00 USD"]
    bars = [(b["month"], b["label"], b["width"]) for b in page.chart]
    assert bars == [
        ("Apr 2026", "40 EUR", "100.0%"),  # the largest EUR month
        ("Apr 2026", "100 USD", "10.0%"),  # a tenth of May's USD
        ("May 2026", "0 EUR", "0.0%"),
        ("May 2026", "1,000 USD", "100.0%"),
    ]
    page.choose_owner(str(people.carol.id))
    assert [r.owner for r in page.rows] == ["Carol Rep"] and page.currencies == ["EUR"]
    page.choose_owner("nobody")
    assert page.owner_id == str(people.carol.id)
