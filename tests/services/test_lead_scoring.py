"""Lead scoring: each kind of condition, clamping, rescoring on lead, activity and rule
changes, and the rules' admin-only management."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crm_app.services import lead as leads
from crm_app.services import lead_scoring as scoring
from crm_app.services.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from tests.factories import make_activity, make_lead, make_scoring_rule

TITLE_VP = {"kind": "contains", "field": "title", "value": "VP"}
REFERRAL = {"kind": "equals", "field": "source", "value": "referral"}
HAS_EMAIL = {"kind": "present", "field": "email"}
BUSY = {"kind": "activity_count", "days": 7, "at_least": 2}


def score_of(db, lead) -> int:
    return scoring.rescore_lead(db, lead.id)


def queued_rescores(db) -> int:
    return db.execute(
        text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'rescore_leads'")
    ).scalar_one()


# ---- conditions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"), [("VP Sales", 25), ("svp of marketing", 25), ("Engineer", 0), (None, 0)]
)
def test_field_contains_text_ignoring_case(db, people, title, expected):
    make_scoring_rule(db, condition=TITLE_VP, points=25)
    assert score_of(db, make_lead(db, owner=people.bob, title=title)) == expected


@pytest.mark.parametrize(("source", "expected"), [("Referral", 30), ("Website", 0), (None, 0)])
def test_field_equals_a_value_ignoring_case(db, people, source, expected):
    make_scoring_rule(db, condition=REFERRAL, points=30)
    assert score_of(db, make_lead(db, owner=people.bob, source=source)) == expected


def test_field_equals_can_test_the_status(db, people):
    make_scoring_rule(
        db, condition={"kind": "equals", "field": "status", "value": "qualified"}, points=50
    )
    assert score_of(db, make_lead(db, owner=people.bob, status="qualified")) == 50
    assert score_of(db, make_lead(db, owner=people.bob, status="new")) == 0


@pytest.mark.parametrize(("email", "expected"), [("a@acme.com", 10), (None, 0), ("  ", 0)])
def test_field_is_present(db, people, email, expected):
    make_scoring_rule(db, condition=HAS_EMAIL, points=10)
    assert score_of(db, make_lead(db, owner=people.bob, email=email)) == expected


def test_activity_count_in_the_last_days_counts_only_recent_live_activities_of_the_lead(db, people):
    make_scoring_rule(db, condition=BUSY, points=20)
    busy, quiet, other = (make_lead(db, owner=people.bob) for _ in range(3))
    make_activity(db, owner=people.bob, lead_id=busy.id, days_ago=1)
    make_activity(db, owner=people.bob, lead_id=busy.id, days_ago=6)
    make_activity(db, owner=people.bob, lead_id=quiet.id, days_ago=1)
    make_activity(db, owner=people.bob, lead_id=quiet.id, days_ago=30)  # too old
    gone = make_activity(db, owner=people.bob, lead_id=other.id)
    make_activity(db, owner=people.bob, lead_id=other.id)
    gone.deleted_at = gone.created_at
    db.flush()
    assert [score_of(db, lead) for lead in (busy, quiet, other)] == [20, 0, 0]


def test_an_activity_written_for_a_lead_rescores_it_through_rescore_lead(db, people):
    make_scoring_rule(
        db, condition={"kind": "activity_count", "days": 30, "at_least": 1}, points=15
    )
    lead = make_lead(db, owner=people.bob)
    assert lead.score == 0
    make_activity(db, owner=people.bob, lead_id=lead.id)
    assert scoring.rescore_lead(db, lead.id) == 15
    assert lead.score == 15  # the loaded lead sees it, without being marked changed
    assert lead not in db.dirty


def test_matching_rules_add_up_and_the_score_is_clamped_to_0_and_100(db, people):
    make_scoring_rule(db, condition=TITLE_VP, points=60)
    make_scoring_rule(db, condition=HAS_EMAIL, points=70)
    make_scoring_rule(db, condition=REFERRAL, points=-90)
    vp_with_email = make_lead(db, owner=people.bob, title="VP", email="a@acme.com")
    referral = make_lead(db, owner=people.bob, source="Referral")
    both = make_lead(db, owner=people.bob, title="VP", source="Referral")
    assert score_of(db, vp_with_email) == 100
    assert score_of(db, referral) == 0
    assert score_of(db, both) == 0  # 60 - 90


def test_inactive_rules_do_not_count(db, people):
    make_scoring_rule(db, condition=HAS_EMAIL, points=10, active=False)
    assert score_of(db, make_lead(db, owner=people.bob, email="a@acme.com")) == 0


def test_rescoring_keeps_the_leads_version_and_update_time(db, people):
    make_scoring_rule(db, condition=HAS_EMAIL, points=10)
    lead = make_lead(db, owner=people.bob, email="a@acme.com")
    before = (lead.version, lead.updated_at)
    assert score_of(db, lead) == 10
    db.expire(lead)
    assert (lead.version, lead.updated_at) == before


# ---- recompute on change --------------------------------------------------------------------


def test_a_change_to_the_lead_rescores_it(db, people):
    make_scoring_rule(db, condition=REFERRAL, points=30)
    lead = leads.create_lead(db, actor=people.bob, data={"first_name": "A"})
    assert lead.score == 0
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"source": "Referral"})
    assert lead.score == 30
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"source": ""})
    assert lead.score == 0


def test_a_rule_change_queues_one_rescoring_job_in_the_same_transaction(db, people):
    before = queued_rescores(db)
    rule = scoring.create_rule(
        db, actor=people.alice, data={"name": "VPs", "condition": TITLE_VP, "points": 20}
    )
    scoring.update_rule(db, actor=people.alice, rule_id=rule.id, data={"points": 30})
    scoring.delete_rule(db, actor=people.alice, rule_id=rule.id)
    # a job already waiting covers the later changes: it reads the rules when it runs
    assert queued_rescores(db) == before + 1


def test_rescoring_all_leads_in_batches_applies_the_new_rules(db, people):
    vps = [make_lead(db, owner=people.bob, title="VP") for _ in range(5)]
    others = [make_lead(db, owner=people.bob, title="CEO") for _ in range(2)]
    scoring.create_rule(
        db, actor=people.alice, data={"name": "VPs", "condition": TITLE_VP, "points": 20}
    )
    scoring.rescore_all(db, size=2)
    db.expire_all()
    assert [lead.score for lead in vps] == [20] * 5
    assert [lead.score for lead in others] == [0, 0]


def test_a_trashed_lead_is_left_alone_and_rescored_when_restored(db, people):
    lead = make_lead(db, owner=people.bob, title="VP")
    leads.delete_lead(db, actor=people.bob, lead_id=lead.id)
    make_scoring_rule(db, condition=TITLE_VP, points=20)
    scoring.rescore_all(db)
    db.expire(lead)
    assert lead.score == 0
    assert leads.restore_lead(db, actor=people.bob, lead_id=lead.id).score == 20


def test_time_based_rules_are_noticed_for_the_daily_rescoring(db, people):
    make_scoring_rule(db, condition=TITLE_VP, points=20)
    assert not scoring.has_time_based_rules(db)
    make_scoring_rule(db, condition=BUSY, points=20)
    assert scoring.has_time_based_rules(db)


# ---- the rules ------------------------------------------------------------------------------


def test_only_admins_manage_rules_but_everyone_may_read_them(db, people):
    data = {"name": "VPs", "condition": TITLE_VP, "points": 20}
    with pytest.raises(Forbidden):
        scoring.create_rule(db, actor=people.mona, data=data)
    rule = scoring.create_rule(db, actor=people.alice, data=data)
    with pytest.raises(Forbidden):
        scoring.update_rule(db, actor=people.bob, rule_id=rule.id, data={"points": 1})
    with pytest.raises(Forbidden):
        scoring.delete_rule(db, actor=people.bob, rule_id=rule.id)
    assert [r.id for r in scoring.list_rules(db, actor=people.vic)] == [rule.id]


def test_a_rule_stores_its_validated_condition(db, people):
    rule = scoring.create_rule(
        db,
        actor=people.alice,
        data={"name": " Busy  leads ", "condition": {**BUSY, "days": "14"}, "points": "15"},
    )
    assert (rule.name, rule.points, rule.is_active) == ("Busy leads", 15, True)
    assert rule.condition == {"kind": "activity_count", "days": 14, "at_least": 2}
    assert scoring.describe(scoring.parse_condition(rule.condition)) == (
        "At least 2 activities in the last 14 days"
    )


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"kind": "contains", "field": "password_hash", "value": "x"}, "condition.field"),
        ({"kind": "contains", "field": "title", "value": ""}, "condition.value"),
        ({"kind": "equals", "field": "title"}, "condition.value"),
        ({"kind": "activity_count", "days": 0, "at_least": 1}, "condition.days"),
        ({"kind": "present", "field": "email", "x": 1}, "condition.x"),
        ({"kind": "magic"}, "condition"),
        (None, "condition"),
    ],
)
def test_bad_conditions_name_the_part_that_is_wrong(db, people, condition, field):
    with pytest.raises(ValidationFailed) as caught:
        scoring.create_rule(
            db, actor=people.alice, data={"name": "R", "condition": condition, "points": 5}
        )
    assert [e.field for e in caught.value.errors] == [field]


def test_bad_names_and_points_are_reported_together(db, people):
    with pytest.raises(ValidationFailed) as caught:
        scoring.create_rule(
            db,
            actor=people.alice,
            data={"name": "", "condition": HAS_EMAIL, "points": 500, "score": 1},
        )
    assert {e.field for e in caught.value.errors} == {"name", "points", "score"}


def test_switching_a_rule_off_is_an_update_guarded_by_its_version(db, people):
    rule = scoring.create_rule(
        db, actor=people.alice, data={"name": "R", "condition": HAS_EMAIL, "points": 5}
    )
    scoring.update_rule(
        db, actor=people.alice, rule_id=rule.id, data={"is_active": False}, version=1
    )
    assert (rule.is_active, rule.version) == (False, 2)
    with pytest.raises(StaleVersion):
        scoring.update_rule(db, actor=people.alice, rule_id=rule.id, data={"points": 9}, version=1)


def test_a_deleted_rule_is_gone(db, people):
    rule = scoring.create_rule(
        db, actor=people.alice, data={"name": "R", "condition": HAS_EMAIL, "points": 5}
    )
    scoring.delete_rule(db, actor=people.alice, rule_id=rule.id)
    assert scoring.list_rules(db, actor=people.alice) == []
    with pytest.raises(NotFound):
        scoring.update_rule(db, actor=people.alice, rule_id=rule.id, data={"points": 1})


def test_the_rescoring_jobs_are_registered_with_the_worker():
    import procrastinate
    from procrastinate.testing import InMemoryConnector

    from crm_app.jobs import tasks

    app = procrastinate.App(connector=InMemoryConnector())
    tasks.register(app)
    assert {tasks.RESCORE_LEADS, tasks.RESCORE_LEADS_DAILY, tasks.PURGE_FORM_SUBMISSIONS} <= set(
        app.tasks
    )
    assert app.tasks[tasks.RESCORE_LEADS].queue == tasks.LEADS_QUEUE


def test_the_rules_a_lead_matches_are_listed_without_the_others(db, people):
    vp = make_scoring_rule(db, condition=TITLE_VP, points=25)
    emailed = make_scoring_rule(db, condition=HAS_EMAIL, points=10)
    make_scoring_rule(db, condition=REFERRAL, points=30)
    make_scoring_rule(db, condition=HAS_EMAIL, points=5, active=False)
    lead = make_lead(db, owner=people.bob, title="VP Sales", email="vp@example.com")
    matched = scoring.matched_rules(db, actor=people.vic, lead_id=lead.id)
    assert [r.id for r in matched] == [vp.id, emailed.id]


def test_a_lead_matches_no_rules_when_there_are_none(db, people):
    lead = make_lead(db, owner=people.bob, title="VP Sales")
    assert scoring.matched_rules(db, actor=people.bob, lead_id=lead.id) == []
