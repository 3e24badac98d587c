"""Workflow rules: each kind of trigger fires, conditions filter, actions run once as the
rule's author, loops stop, and date rules fire once per record and date."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, text
from sqlmodel import Session, select

from crm_app.models import (
    Activity,
    Contact,
    Deal,
    Lead,
    RunStatus,
    User,
    Webhook,
    WebhookDelivery,
    Workflow,
    WorkflowRun,
    utcnow,
)
from crm_app.services import contact, custom_field, deal, lead, workflow, workflow_actions
from crm_app.services.errors import Forbidden, ValidationFailed
from tests.factories import (
    make_contact,
    make_custom_field,
    make_deal,
    make_scoring_rule,
    make_user,
    stages_of_default_pipeline,
)

TASK = {"kind": "create_task", "subject": "Send welcome pack to {{name}}", "due_in_days": 2}
WON = {"kind": "stage_changed", "to": "won"}


def rule(db, actor, trigger, actions, conditions=(), name="Rule") -> Workflow:
    return workflow.create_rule(
        db,
        actor=actor,
        data={
            "name": name,
            "trigger": trigger,
            "conditions": list(conditions),
            "actions": list(actions),
        },
    )


def run_queued(db) -> list[WorkflowRun]:
    """What the worker does: run every queued run (and those they queue) until none is left."""
    while True:
        ids = db.execute(
            select(WorkflowRun.id).where(WorkflowRun.status == "queued").order_by(WorkflowRun.id)
        ).scalars()
        ids = list(ids)
        if not ids:
            break
        for run_id in ids:
            workflow_actions.execute_run(db, run_id)
    return runs(db)


def won_stage(db) -> int:
    return stages_of_default_pipeline(db)["Won"].id


def runs(db, of: Workflow | None = None) -> list[WorkflowRun]:
    query = select(WorkflowRun).order_by(WorkflowRun.id)
    if of is not None:
        query = query.where(WorkflowRun.workflow_id == of.id)
    return list(db.execute(query.execution_options(populate_existing=True)).scalars())


def tasks_of(db, **related) -> list[Activity]:
    query = select(Activity).where(Activity.kind == "task", Activity.deleted_at.is_(None))
    for key, value in related.items():
        query = query.where(getattr(Activity, key) == value)
    return list(db.execute(query.order_by(Activity.id)).scalars())


# ---- triggers -------------------------------------------------------------------------------


def test_a_won_deal_gets_the_rules_task_for_its_owner(db, people):
    rule(db, people.alice, WON, [TASK])
    won_deal = make_deal(db, owner=people.bob, name="Acme renewal")
    stages = stages_of_default_pipeline(db)
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=stages["Won"].id)
    [run] = run_queued(db)
    assert run.status == RunStatus.succeeded
    assert run.actions_done == ["Created the task “Send welcome pack to Acme renewal”"]
    [task] = tasks_of(db, deal_id=won_deal.id)
    assert task.subject == "Send welcome pack to Acme renewal"
    assert task.owner_id == people.bob.id and task.created_by == people.alice.id
    assert task.due_at.date() == (utcnow() + timedelta(days=2)).date()


def test_a_deal_created_as_won_fires_a_won_rule_once(db, people):
    won_rule = rule(db, people.alice, WON, [TASK])
    made = deal.create_deal(
        db, actor=people.bob, data={"name": "Signed", "stage_id": won_stage(db)}
    )
    [run] = run_queued(db)
    assert (run.workflow_id, run.record_id, run.event_type) == (won_rule.id, made.id, "deal.won")
    assert [t.subject for t in tasks_of(db, deal_id=made.id)] == ["Send welcome pack to Signed"]


def test_a_deal_moved_to_another_open_stage_does_not_fire_a_won_rule(db, people):
    won_rule = rule(db, people.alice, WON, [TASK])
    any_rule = rule(db, people.alice, {"kind": "stage_changed", "to": "any"}, [TASK])
    moved = make_deal(db, owner=people.bob)
    stages = stages_of_default_pipeline(db)
    deal.move_deal(db, actor=people.bob, deal_id=moved.id, stage_id=stages["Proposal"].id)
    run_queued(db)
    assert runs(db, won_rule) == []
    assert [r.status for r in runs(db, any_rule)] == [RunStatus.succeeded]


def test_a_new_record_fires_only_when_the_conditions_hold(db, people):
    referral = rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "lead"},
        [{"kind": "add_tag", "tag": "referral"}],
        conditions=[{"field": "source", "operator": "equals", "value": "referral"}],
    )
    hot = lead.create_lead(db, actor=people.bob, data={"first_name": "Ada", "source": "Referral"})
    cold = lead.create_lead(db, actor=people.bob, data={"first_name": "Bo", "source": "Website"})
    run_queued(db)
    by_record = {r.record_id: r for r in runs(db, referral)}
    assert by_record[hot.id].status == RunStatus.succeeded
    assert by_record[cold.id].status == RunStatus.skipped
    assert by_record[cold.id].error == "The conditions did not hold."
    db.refresh(hot)
    db.refresh(cold)
    assert hot.tags == ["referral"] and cold.tags == []


def test_conditions_look_at_custom_fields_of_every_type(db, people):
    make_custom_field(db, people, "Plan", "select", ["Starter", "Enterprise"], entity="deal")
    make_custom_field(db, people, "Seats", "number", entity="deal")
    make_custom_field(db, people, "Renewal", "date", entity="deal")
    make_custom_field(db, people, "Signed NDA", "checkbox", entity="deal")
    make_custom_field(db, people, "Regions", "multi_select", ["EMEA", "APAC"], entity="deal")
    offered = workflow.rule_fields("deal", db)
    assert offered["custom.plan"] == ("Plan", "choice")
    assert offered["custom.signed_nda"] == ("Signed NDA", "yes_no")
    big = rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "deal"},
        [{"kind": "add_tag", "tag": "big"}],
        conditions=[
            {"field": "custom.plan", "operator": "equals", "value": "enterprise"},
            {"field": "custom.seats", "operator": "greater_than", "value": "49"},
            {"field": "custom.renewal", "operator": "less_than", "value": "2027-01-01"},
            {"field": "custom.signed_nda", "operator": "equals", "value": "yes"},
            {"field": "custom.regions", "operator": "contains", "value": "apac"},
        ],
    )
    fits = {"plan": "Enterprise", "seats": 50, "renewal": "2026-12-01", "signed_nda": True}
    fits["regions"] = ["EMEA", "APAC"]
    made = {
        "fits": fits,
        "too small": {**fits, "seats": 10},
        "no NDA": {**fits, "signed_nda": False},
        "other region": {**fits, "regions": ["EMEA"]},
        "nothing filled in": {},
    }
    ids = {
        name: deal.create_deal(db, actor=people.bob, data={"name": name, "custom": values}).id
        for name, values in made.items()
    }
    run_queued(db)
    by_record = {r.record_id: r.status for r in runs(db, big)}
    assert by_record == {
        ids["fits"]: RunStatus.succeeded,
        ids["too small"]: RunStatus.skipped,
        ids["no NDA"]: RunStatus.skipped,
        ids["other region"]: RunStatus.skipped,
        ids["nothing filled in"]: RunStatus.skipped,
    }


def test_a_custom_field_changing_to_a_value_fires_and_other_changes_do_not(db, people):
    make_custom_field(db, people, "Plan", "select", ["Starter", "Enterprise"], entity="deal")
    upgraded = rule(
        db,
        people.alice,
        {
            "kind": "field_changed",
            "entity": "deal",
            "field": "custom.plan",
            "to_value": "enterprise",
        },
        [{"kind": "add_tag", "tag": "upgraded"}],
    )
    assert workflow.describe_trigger(db, workflow.stored_parts(upgraded).trigger) == (
        'A deal\'s plan changes to "enterprise"'
    )
    made = deal.create_deal(
        db, actor=people.bob, data={"name": "Orbit", "custom": {"plan": "Starter"}}
    )
    deal.update_deal(db, actor=people.bob, deal_id=made.id, data={"name": "Orbit Labs"})
    deal.update_deal(db, actor=people.bob, deal_id=made.id, data={"custom": {"plan": "Enterprise"}})
    deal.update_deal(db, actor=people.bob, deal_id=made.id, data={"amount": "5000"})
    [run] = run_queued(db)  # only the change of plan, to Enterprise
    assert (run.workflow_id, run.record_id, run.status) == (
        upgraded.id,
        made.id,
        RunStatus.succeeded,
    )


def test_a_condition_on_a_custom_field_must_name_a_live_one_and_compare_sensibly(db, people):
    make_custom_field(db, people, "Plan", "text", entity="deal")
    trigger = {"kind": "record_created", "entity": "deal"}
    with pytest.raises(ValidationFailed) as refused:
        rule(
            db,
            people.alice,
            trigger,
            [TASK],
            conditions=[
                {"field": "custom.nope", "operator": "equals", "value": "x"},
                {"field": "custom.plan", "operator": "greater_than", "value": "3"},
            ],
        )
    assert {e.field: e.message for e in refused.value.errors} == {
        "conditions.0.field": "Pick a field of the record.",
        "conditions.1.operator": "Only numbers and dates compare.",
    }


def test_a_custom_field_deleted_after_the_rule_was_written_reads_as_empty(db, people):
    plan = make_custom_field(
        db,
        people,
        "Plan",
        "text",
    )
    empty_plan = rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "contact"},
        [{"kind": "add_tag", "tag": "no-plan"}],
        conditions=[{"field": "custom.plan", "operator": "is_empty"}],
    )
    custom_field.delete_field(db, actor=people.alice, field_id=plan.id)
    make = contact.create_contact
    made = make(db, actor=people.bob, data={"first_name": "Ada", "custom": {}})
    [run] = run_queued(db)
    assert (run.workflow_id, run.record_id, run.status) == (
        empty_plan.id,
        made.id,
        RunStatus.succeeded,
    )


def test_a_rule_e_mails_the_record_from_a_template_and_says_when_the_address_unsubscribed(
    db, people
):
    from crm_app.models import EmailMessage, Suppression
    from crm_app.services import email_template

    template = email_template.create_template(
        db,
        actor=people.alice,
        data={"name": "Hi", "entity": "contact", "subject": "Hi {{ contact.first_name }}"},
    )
    rule(
        db,
        people.alice,
        {"kind": "field_changed", "entity": "contact", "field": "title"},
        [{"kind": "send_email", "template_id": template.id}],
    )
    ada = make_contact(db, owner=people.bob, first_name="Ada", email="ada@example.com")
    gone = make_contact(db, owner=people.bob, first_name="Bo", email="bo@example.com")
    db.add(Suppression(email="bo@example.com", reason="unsubscribed"))
    for person in (ada, gone):
        contact.update_contact(db, actor=people.bob, contact_id=person.id, data={"title": "CTO"})

    sent, skipped = run_queued(db)
    assert sent.actions_done == ["Sent “Hi Ada” to ada@example.com"]
    assert skipped.actions_done == ["Not sent: bo@example.com unsubscribed"]
    mine = EmailMessage.to_address.in_(["ada@example.com", "bo@example.com"])
    statuses = dict(db.exec(select(EmailMessage.to_address, EmailMessage.status).where(mine)).all())
    assert statuses == {"ada@example.com": "queued", "bo@example.com": "suppressed"}


def test_a_field_changing_to_a_value_fires_and_other_changes_do_not(db, people):
    vip = rule(
        db,
        people.alice,
        {"kind": "field_changed", "entity": "contact", "field": "title", "to_value": "ceo"},
        [{"kind": "add_tag", "tag": "VIP"}],
    )
    person = make_contact(db, owner=people.bob, title="Engineer")
    contact.update_contact(
        db, actor=people.bob, contact_id=person.id, data={"phone": "+1 415 555 0100"}
    )
    contact.update_contact(db, actor=people.bob, contact_id=person.id, data={"title": "CTO"})
    assert runs(db, vip) == []
    contact.update_contact(db, actor=people.bob, contact_id=person.id, data={"title": "CEO"})
    [run] = run_queued(db)
    assert run.status == RunStatus.succeeded and run.changes == {"title": ["CTO", "CEO"]}
    db.refresh(person)
    assert person.tags == ["VIP"]


def test_a_lead_score_crossing_upwards_fires_once(db, people):
    make_scoring_rule(
        db, condition={"kind": "contains", "field": "title", "value": "VP"}, points=60
    )
    make_scoring_rule(db, condition={"kind": "present", "field": "email"}, points=10)
    rule(
        db,
        people.alice,
        {"kind": "score_crosses", "threshold": 50, "direction": "up"},
        [{"kind": "assign_owner", "mode": "user", "user_id": people.carol.id}],
    )
    found = lead.create_lead(db, actor=people.bob, data={"first_name": "Ada", "title": "Engineer"})
    lead.update_lead(db, actor=people.bob, lead_id=found.id, data={"title": "VP Sales"})  # 0 -> 60
    lead.update_lead(db, actor=people.bob, lead_id=found.id, data={"email": "ada@example.com"})
    [run] = run_queued(db)  # 60 -> 70 crosses nothing
    assert run.status == RunStatus.succeeded and run.changes == {"score": [0, 60]}
    db.refresh(found)
    assert found.owner_id == people.carol.id


def test_round_robin_gives_records_to_the_teams_reps_in_turn(db, people):
    rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "deal"},
        [{"kind": "assign_owner", "mode": "round_robin", "team_id": people.east.id}],
    )
    pipeline_stage = stages_of_default_pipeline(db)["Qualification"]
    created = [
        deal.create_deal(
            db, actor=people.alice, data={"name": f"D{i}", "stage_id": pipeline_stage.id}
        )
        for i in range(3)
    ]
    run_queued(db)
    owners = [db.get(Deal, d.id).owner_id for d in created]
    assert owners == [people.bob.id, people.carol.id, people.bob.id]


# ---- actions ---------------------------------------------------------------------------------


def test_a_refused_action_undoes_the_others_and_logs_why(db, people):
    bad = rule(
        db,
        people.alice,
        WON,
        [TASK, {"kind": "set_field", "field": "amount", "value": "-5"}],
    )
    won_deal = make_deal(db, owner=people.bob)
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=won_stage(db))
    [run] = run_queued(db)
    assert run.status == RunStatus.failed and run.actions_done == []
    assert run.error.startswith("Action 2 (Set a field) failed:")
    assert "amount" in run.error
    assert tasks_of(db, deal_id=won_deal.id) == []
    assert runs(db, bad) == [run]


def test_set_field_goes_through_the_records_own_rules(db, people):
    rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "deal"},
        [{"kind": "set_field", "field": "probability", "value": "35"}],
    )
    stage = stages_of_default_pipeline(db)["Qualification"]
    made = deal.create_deal(db, actor=people.bob, data={"name": "X", "stage_id": stage.id})
    [run] = run_queued(db)
    assert run.status == RunStatus.succeeded
    assert db.get(Deal, made.id).probability == 35


def test_set_field_sets_one_custom_field_through_its_validation(db, people):
    make_custom_field(
        db,
        people,
        "Segment",
        "select",
        ["SMB", "Enterprise"],
    )
    make_custom_field(
        db,
        people,
        "Region",
        "text",
    )
    good = rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "contact"},
        [{"kind": "set_field", "field": "custom.segment", "value": "enterprise"}],
        name="Segment",
    )
    made = contact.create_contact(
        db, actor=people.bob, data={"first_name": "Ada", "custom": {"region": "EMEA"}}
    )
    [run] = run_queued(db)
    assert (run.workflow_id, run.status) == (good.id, RunStatus.succeeded)
    assert run.actions_done == ["Set segment to “enterprise”"]
    db.refresh(made)
    assert made.custom == {"region": "EMEA", "segment": "Enterprise"}  # the other key kept

    good.actions = [{"kind": "set_field", "field": "custom.segment", "value": "Mid-market"}]
    db.add(good)
    db.flush()
    contact.create_contact(db, actor=people.bob, data={"first_name": "Bo"})
    failed = run_queued(db)[-1]
    assert failed.status == RunStatus.failed
    assert failed.error.endswith("(custom.segment: Pick one of: SMB, Enterprise.)")


def test_a_task_subject_fills_in_custom_fields(db, people):
    make_custom_field(db, people, "Plan", "text", entity="deal")
    subject = "Onboard {{name}} on {{ custom.plan }}; {{custom.nope}} stays"
    rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "deal"},
        [{"kind": "create_task", "subject": subject, "due_in_days": 1}],
    )
    made = deal.create_deal(db, actor=people.bob, data={"name": "Orbit", "custom": {"plan": "Pro"}})
    run_queued(db)
    [task] = tasks_of(db, deal_id=made.id)
    assert task.subject == "Onboard Orbit on Pro; {{custom.nope}} stays"


def test_calling_a_webhook_queues_a_delivery_of_the_record(db, people):
    hook = Webhook(
        url="https://hooks.example.com/x",
        events=["contact.created"],
        secret="whsec_dGVzdA==",
        owner_id=people.alice.id,
    )
    db.add(hook)
    db.flush()
    rule(db, people.alice, WON, [{"kind": "call_webhook", "webhook_id": hook.id}])
    won_deal = make_deal(db, owner=people.bob, name="Big one")
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=won_stage(db))
    [run] = run_queued(db)
    assert run.status == RunStatus.succeeded, run.error
    [delivery] = db.execute(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    ).scalars()
    assert delivery.event_type == "workflow.triggered"
    assert delivery.payload["data"]["record"]["name"] == "Big one"
    assert delivery.payload["data"]["rule"]["name"] == "Rule"


def test_a_rule_whose_author_left_fails_instead_of_acting(db, people):
    rule(db, people.alice, WON, [TASK])
    people.alice.is_active = False
    won_deal = make_deal(db, owner=people.bob)
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=won_stage(db))
    [run] = run_queued(db)
    assert run.status == RunStatus.failed
    assert run.error == "The rule's author is no longer an active user."
    assert tasks_of(db, deal_id=won_deal.id) == []


def test_a_run_done_twice_creates_one_task(db, people):
    """A worker killed after the actions committed retries the job: the run row says done."""
    rule(db, people.alice, WON, [TASK])
    won_deal = make_deal(db, owner=people.bob)
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=won_stage(db))
    [run] = runs(db)
    queued = db.execute(
        text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'run_workflow' AND args = :a"
        ),
        {"a": f'{{"run_id": {run.id}}}'},
    ).scalar_one()
    assert queued == 1
    assert workflow_actions.execute_run(db, run.id) == RunStatus.succeeded
    assert workflow_actions.execute_run(db, run.id) == RunStatus.succeeded
    assert len(tasks_of(db, deal_id=won_deal.id)) == 1


# ---- loops -----------------------------------------------------------------------------------


def test_two_rules_setting_a_field_back_and_forth_are_stopped_and_logged(db, people):
    ping = {"kind": "field_changed", "entity": "lead", "field": "title"}
    rule(db, people.alice, ping, [{"kind": "set_field", "field": "title", "value": "Ping"}])
    rule(db, people.alice, ping, [{"kind": "set_field", "field": "title", "value": "Pong"}])
    found = lead.create_lead(db, actor=people.bob, data={"first_name": "Ada"})
    lead.update_lead(db, actor=people.bob, lead_id=found.id, data={"title": "Start"})
    logged = run_queued(db)
    stopped = [r for r in logged if r.status == RunStatus.stopped]
    assert stopped and all(r.error.startswith("Stopped: loop") for r in stopped)
    assert len(logged) < 20
    assert max(r.depth for r in logged) <= workflow.MAX_DEPTH
    assert db.get(Lead, found.id).title in ("Ping", "Pong")


def test_a_rule_never_runs_deeper_than_the_limit(db, people):
    """Rules chained through different records stop at the depth limit too."""
    chained = rule(
        db,
        people.alice,
        {"kind": "record_created", "entity": "activity"},
        [{"kind": "create_task", "subject": "Again"}],
    )
    anchor = make_contact(db, owner=people.bob)
    from crm_app.services import activity

    activity.create_activity(
        db, actor=people.bob, data={"kind": "task", "subject": "Go", "contact_id": anchor.id}
    )
    logged = [r for r in run_queued(db) if r.workflow_id == chained.id]
    assert [r.status for r in logged].count(RunStatus.succeeded) == workflow.MAX_DEPTH
    assert logged[-1].status == RunStatus.stopped
    assert "more than 5 rules" in logged[-1].error
    assert len(tasks_of(db, contact_id=anchor.id)) == 1 + workflow.MAX_DEPTH


# ---- validation and permissions ----------------------------------------------------------------


def test_a_bad_rule_is_refused_naming_each_part(db, people):
    with pytest.raises(ValidationFailed) as caught:
        workflow.create_rule(
            db,
            actor=people.alice,
            data={
                "name": "",
                "trigger": {"kind": "field_changed", "entity": "deal", "field": "shoe_size"},
                "conditions": [{"field": "amount", "operator": "greater_than"}],
                "actions": [],
            },
        )
    fields = {e.field: e.message for e in caught.value.errors}
    assert fields["name"] == "This is required."
    assert fields["conditions.0.value"] == "This is required."
    assert fields["actions"] == "Add at least one action."
    with pytest.raises(ValidationFailed) as caught:
        rule(
            db,
            people.alice,
            {"kind": "field_changed", "entity": "deal", "field": "shoe_size"},
            [{"kind": "set_field", "field": "won_at", "value": "x"}],
            conditions=[{"field": "name", "operator": "greater_than", "value": "a"}],
        )
    fields = {e.field: e.message for e in caught.value.errors}
    assert fields == {
        "trigger.field": "Pick a field of this kind of record.",
        "conditions.0.operator": "Only numbers and dates compare.",
        "actions.0.field": "Pick a field the rule may set.",
    }


def test_only_admins_manage_rules(db, people):
    with pytest.raises(Forbidden):
        rule(db, people.mona, WON, [TASK])
    made = rule(db, people.alice, WON, [TASK])
    with pytest.raises(Forbidden):
        workflow.list_runs(db, actor=people.bob, rule_id=made.id)


def test_a_switched_off_rule_does_not_fire(db, people):
    made = rule(db, people.alice, WON, [TASK])
    workflow.update_rule(db, actor=people.alice, rule_id=made.id, data={"is_active": False})
    won_deal = make_deal(db, owner=people.bob)
    deal.move_deal(db, actor=people.bob, deal_id=won_deal.id, stage_id=won_stage(db))
    assert runs(db) == []


def test_rules_are_described_in_words(db, people):
    parts = workflow.parse_rule(
        {
            "name": "x",
            "trigger": {
                "kind": "date_reached",
                "entity": "deal",
                "field": "expected_close_date",
                "offset_days": -3,
            },
            "actions": [TASK],
        }
    )
    assert workflow.describe_trigger(db, parts.trigger) == (
        "3 days before a deal's expected close date"
    )
    assert (
        workflow.describe_trigger(
            db, workflow.parse_rule({"name": "x", "trigger": WON, "actions": [TASK]}).trigger
        )
        == "A deal is won"
    )


# ---- date triggers ---------------------------------------------------------------------------

CLOSING = {
    "kind": "date_reached",
    "entity": "deal",
    "field": "expected_close_date",
    "offset_days": -3,
}


def test_a_date_rule_fires_on_its_day_once(db, people):
    closing = rule(
        db, people.alice, CLOSING, [{"kind": "create_task", "subject": "Chase {{name}}"}]
    )
    today = utcnow().date()
    due = make_deal(db, owner=people.bob, name="Due")
    later = make_deal(db, owner=people.bob, name="Later")
    due.expected_close_date = today + timedelta(days=3)
    later.expected_close_date = today + timedelta(days=4)
    db.flush()
    assert workflow_actions.fire_date_triggers(db, today=today) == 1
    assert workflow_actions.fire_date_triggers(db, today=today) == 0
    [run] = run_queued(db)
    assert (run.workflow_id, run.record_id, run.status) == (closing.id, due.id, RunStatus.succeeded)
    assert [t.subject for t in tasks_of(db, deal_id=due.id)] == ["Chase Due"]
    assert workflow_actions.fire_date_triggers(db, today=today + timedelta(days=1)) == 1


def test_a_date_rule_watches_a_custom_date_field(db, people):
    make_custom_field(db, people, "Renewal", "date", entity="deal")
    renewal = rule(
        db,
        people.alice,
        {"kind": "date_reached", "entity": "deal", "field": "custom.renewal", "offset_days": -30},
        [{"kind": "create_task", "subject": "Renewal call for {{name}}"}],
    )
    assert workflow.describe_trigger(db, workflow.stored_parts(renewal).trigger) == (
        "30 days before a deal's renewal"
    )
    today = utcnow().date()
    renews = {"Due": today + timedelta(days=30), "Later": today + timedelta(days=31)}
    made = {
        name: deal.create_deal(
            db, actor=people.bob, data={"name": name, "custom": {"renewal": day.isoformat()}}
        )
        for name, day in renews.items()
    }
    garbled = make_deal(db, owner=people.bob, name="Garbled")
    garbled.custom = {"renewal": "next spring"}  # as a bulk load could leave it: no date
    db.flush()
    assert workflow_actions.fire_date_triggers(db, today=today) == 1
    [run] = run_queued(db)
    assert (run.record_id, run.status) == (made["Due"].id, RunStatus.succeeded)
    assert [t.subject for t in tasks_of(db, deal_id=made["Due"].id)] == ["Renewal call for Due"]


def test_a_date_rule_must_watch_a_date_field(db, people):
    make_custom_field(db, people, "Plan", "text", entity="deal")
    with pytest.raises(ValidationFailed) as refused:
        rule(
            db,
            people.alice,
            {"kind": "date_reached", "entity": "deal", "field": "custom.plan"},
            [TASK],
        )
    assert {e.field: e.message for e in refused.value.errors} == {
        "trigger.field": "Pick a date field of this kind of record."
    }


def test_two_workers_at_once_fire_a_date_rule_once_per_record(engine):
    birthday = {"kind": "date_reached", "entity": "contact", "field": "created_at"}
    with Session(engine, expire_on_commit=False) as session:
        admin = make_user(session, role="admin")
        made = Workflow(
            name="New today",
            trigger=birthday,
            actions=[{"kind": "add_tag", "tag": "new"}],
            created_by=admin.id,
        )
        session.add(made)
        people_ids = [make_contact(session, owner=admin).id for _ in range(30)]
        session.commit()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait(timeout=10)
            with Session(engine) as session:
                workflow_actions.fire_date_triggers(session)
                session.commit()
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with Session(engine) as session:
            fired = session.execute(
                text("SELECT record_id FROM workflow_runs WHERE workflow_id = :r"), {"r": made.id}
            ).scalars()
            assert sorted(fired) == sorted(people_ids)
    finally:
        with Session(engine) as session:
            session.execute(
                text(
                    "DELETE FROM procrastinate_jobs WHERE task_name = 'run_workflow'"
                    " AND (args->>'run_id')::bigint IN"
                    " (SELECT id FROM workflow_runs WHERE workflow_id = :r)"
                ),
                {"r": made.id},
            )
            session.execute(delete(Workflow).where(Workflow.id == made.id))
            session.execute(delete(Contact).where(Contact.id.in_(people_ids)))
            session.execute(delete(User).where(User.id == admin.id))
            session.commit()
