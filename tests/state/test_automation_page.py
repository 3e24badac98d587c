"""Settings -> Automation, driven through its state handlers: the builder's rows become a rule,
its problems come back next to their row, and a stored rule opens as it was saved."""

from __future__ import annotations

from sqlmodel import select

from crm_app import routes
from crm_app.models import Workflow
from crm_app.state.workflow import WorkflowState
from tests.state.test_record_pages import state_of


def automation_page(db, actor) -> WorkflowState:
    page = state_of(WorkflowState, db, actor, routes.SETTINGS_AUTOMATION)
    page.load()
    return page


def test_the_builder_saves_a_date_rule_with_a_condition_and_two_actions(db, people):
    page = automation_page(db, people.alice)
    page.open_new()
    page.set_name("Chase closing deals")
    page.set_trigger("kind", "date_reached")
    assert page.trigger["entity"] == "deal" and page.trigger["field"] == "expected_close_date"
    page.set_trigger("offset_days", "-3")
    page.add_condition()
    page.set_condition(0, "field", "amount")
    page.set_condition(0, "operator", "greater_than")
    page.set_condition(0, "value", "lots")
    page.set_action(0, "subject", "Chase {{name}}")
    page.add_action()
    page.set_action(1, "kind", "add_tag")
    page.save()
    assert page.builder_open
    assert page.condition_errors == ["Value: Enter a number or a date."]
    assert page.action_errors == ["", "Tag: This is required."]
    page.set_condition(0, "value", "5000")
    page.set_action(1, "tag", "closing")
    page.save()
    assert not page.builder_open and page.errors == {}
    [row] = page.rules
    assert (row["name"], row["trigger"], row["runs"], row["last_run"]) == (
        "Chase closing deals",
        "3 days before a deal's expected close date",
        "0",
        "Never",
    )
    stored = db.execute(select(Workflow)).scalars().one()
    assert stored.conditions == [{"field": "amount", "operator": "greater_than", "value": "5000"}]
    assert [a["kind"] for a in stored.actions] == ["create_task", "add_tag"]


def test_a_stored_rule_opens_as_saved_and_round_robin_survives(db, people):
    page = automation_page(db, people.alice)
    page.open_new()
    page.set_name("Spread new leads")
    page.set_trigger("kind", "record_created")
    page.set_trigger("entity", "lead")
    page.set_action(0, "kind", "assign_owner")
    page.set_action(0, "owner", f"team:{people.east.id}")
    page.add_condition()
    page.set_condition(0, "field", "source")
    page.set_condition(0, "operator", "in")
    page.set_condition(0, "value", "Website, Referral")
    page.save()
    rule_id = page.rules[0]["id"]
    page.close_builder()
    page.open_edit(rule_id)
    assert page.builder_title == "Edit rule" and page.name == "Spread new leads"
    assert page.actions[0]["owner"] == f"team:{people.east.id}"
    assert page.conditions == [{"field": "source", "operator": "in", "value": "Website, Referral"}]
    page.set_rule_active(rule_id, False)
    assert page.rules[0]["active"] == ""


def test_a_rep_is_shown_nothing_and_cannot_save(db, people):
    page = automation_page(db, people.bob)
    assert page.rules == [] and page.users == []
    page.open_new()
    assert not page.builder_open
    page.builder_open = True  # a forged event still meets the service's check
    page.set_name("Sneaky")
    page.set_action(0, "subject", "x")
    page.save()
    assert db.execute(select(Workflow)).first() is None
