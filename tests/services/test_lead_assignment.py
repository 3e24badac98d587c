"""Round-robin assignment of new unowned leads, and the assignee's notification."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from crm_app import routes
from crm_app.models import Notification
from crm_app.services import lead as leads
from crm_app.services import lead_assignment as assignment
from crm_app.services.errors import Forbidden, ValidationFailed
from tests.factories import make_user


def unowned(db, actor, **data):
    """A lead created with `owner_id: None`: it goes to the assignment team's next rep."""
    return leads.create_lead(db, actor=actor, data={"first_name": "Lead", "owner_id": None, **data})


def test_without_a_team_new_unowned_leads_stay_unowned(db, people):
    assert assignment.get_assignment(db, actor=people.bob).team_id is None
    assert unowned(db, people.alice).owner_id is None


def test_a_lead_created_without_saying_the_owner_is_its_creators(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    lead = leads.create_lead(db, actor=people.mona, data={"first_name": "A"})
    assert lead.owner_id == people.mona.id


def test_new_unowned_leads_go_round_robin_to_the_teams_active_reps(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    owners = [unowned(db, people.alice).owner_id for _ in range(5)]
    bob, carol = people.bob.id, people.carol.id  # Mona is East's manager: not a rep
    assert owners == [bob, carol, bob, carol, bob]


def test_inactive_users_are_skipped_and_new_reps_join_the_rotation(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert unowned(db, people.alice).owner_id == people.bob.id
    people.carol.is_active = False
    erin = make_user(db, name="Erin Rep", team=people.east)
    db.flush()
    owners = [unowned(db, people.alice).owner_id for _ in range(3)]
    assert owners == [erin.id, people.bob.id, erin.id]


def test_a_team_without_active_reps_leaves_the_lead_unowned(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.west.id)
    people.dave.is_active = False
    db.flush()
    assert unowned(db, people.alice).owner_id is None


def test_each_team_keeps_its_own_turn(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert unowned(db, people.alice).owner_id == people.bob.id
    assert assignment.next_assignee(db, team_id=people.west.id).id == people.dave.id
    assert unowned(db, people.alice).owner_id == people.carol.id


def test_the_assignee_is_notified_with_a_link_to_the_lead(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    lead = unowned(db, people.alice, first_name="Ada", last_name="Lovelace", source="Referral")
    notes = db.exec(select(Notification).where(Notification.user_id == people.bob.id)).all()
    assert [(n.kind, n.link) for n in notes] == [("assigned", routes.lead_detail(lead.id))]
    assert notes[0].title == "New lead assigned to you: Ada Lovelace"
    assert notes[0].body == "From Referral."
    assert notes[0].read_at is None


def test_a_lead_given_an_owner_notifies_no_one(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    leads.create_lead(db, actor=people.bob, data={"first_name": "A"})
    assert db.exec(select(Notification)).all() == []


def test_only_admins_pick_the_team_and_it_must_exist(db, people):
    with pytest.raises(Forbidden):
        assignment.set_assignment_team(db, actor=people.mona, team_id=people.east.id)
    with pytest.raises(ValidationFailed) as caught:
        assignment.set_assignment_team(db, actor=people.alice, team_id=10**6)
    assert caught.value.errors[0].field == "team_id"
    chosen = assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert (chosen.team_id, chosen.team_name) == (people.east.id, "East")
    assert assignment.set_assignment_team(db, actor=people.alice, team_id=None).team_id is None


def test_changing_the_team_keeps_each_teams_turn(db, people):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert unowned(db, people.alice).owner_id == people.bob.id
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.west.id)
    assert unowned(db, people.alice).owner_id == people.dave.id
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert unowned(db, people.alice).owner_id == people.carol.id


def test_a_concurrent_assignment_waits_for_the_first_to_commit(db, people, engine):
    assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    unowned(db, people.alice)
    with Session(engine) as other:
        other.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            assignment.next_assignee(other, team_id=people.east.id)
