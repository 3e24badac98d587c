"""The permission matrix and the one `require` check, with the fixed cast."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.auth.permissions import Scope
from crm_app.models import Contact
from crm_app.services.errors import Forbidden, ValidationFailed
from crm_app.services.permission import can, owner_clause, require, set_scope
from tests.factories import make_contact


def test_admin_may_do_everything(db, people):
    contact = make_contact(db, owner=people.dave)
    for action in ("read", "update", "delete", "export", "import"):
        assert can(db, people.alice, "contact", action, contact)
    assert can(db, people.alice, "user", "manage")
    assert can(db, people.alice, "setting", "manage")


def test_rep_reads_everything_but_edits_only_own_records(db, people):
    own = make_contact(db, owner=people.bob)
    teammates = make_contact(db, owner=people.carol)
    assert can(db, people.bob, "contact", "read", teammates)
    assert can(db, people.bob, "contact", "update", own)
    assert not can(db, people.bob, "contact", "update", teammates)
    assert not can(db, people.bob, "contact", "delete", teammates)


def test_rep_can_create_records(db, people):
    assert can(db, people.bob, "deal", "create")


def test_rep_cannot_edit_another_reps_deal(db, people):
    from tests.factories import make_deal

    deal = make_deal(db, owner=people.dave)
    with pytest.raises(Forbidden):
        require(db, people.bob, "deal", "update", deal)


def test_manager_edits_records_of_their_team_only(db, people):
    bobs = make_contact(db, owner=people.bob)
    daves = make_contact(db, owner=people.dave)
    assert can(db, people.mona, "contact", "update", bobs)
    assert not can(db, people.mona, "contact", "update", daves)
    assert can(db, people.mona, "contact", "read", daves)


def test_viewer_reads_only(db, people):
    contact = make_contact(db, owner=people.bob)
    assert can(db, people.vic, "contact", "read", contact)
    for action in ("create", "update", "delete", "export", "import"):
        assert not can(db, people.vic, "contact", action, contact)


def test_user_management_settings_and_audit_are_admin_only_by_default(db, people):
    for person in (people.bob, people.mona, people.vic):
        assert not can(db, person, "user", "manage")
        assert not can(db, person, "setting", "manage")
        assert not can(db, person, "audit", "read")


def test_export_and_import_are_separate_actions(db, people):
    assert can(db, people.mona, "contact", "export")
    assert not can(db, people.bob, "contact", "export")
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="export", scope="all")
    assert can(db, people.bob, "contact", "export")
    assert not can(db, people.bob, "contact", "import")


def test_admin_changes_a_cell_and_it_applies_at_once(db, people):
    teammates = make_contact(db, owner=people.carol)
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="update", scope="team")
    assert can(db, people.bob, "contact", "update", teammates)


def test_only_admins_change_the_matrix(db, people):
    with pytest.raises(Forbidden):
        set_scope(
            db, actor=people.mona, role="rep", resource="contact", action="update", scope="all"
        )


def test_admin_row_is_fixed(db, people):
    with pytest.raises(ValidationFailed):
        set_scope(
            db, actor=people.alice, role="admin", resource="contact", action="read", scope="none"
        )


def test_own_scope_is_refused_where_it_makes_no_sense(db, people):
    with pytest.raises(ValidationFailed):
        set_scope(
            db, actor=people.alice, role="rep", resource="contact", action="export", scope="own"
        )


def test_deactivated_users_may_do_nothing(db, people):
    people.alice.is_active = False
    assert not can(db, people.alice, "contact", "read")


def test_owner_clause_narrows_a_list_to_what_the_actor_may_edit(db, people):
    bobs = make_contact(db, owner=people.bob)
    carols = make_contact(db, owner=people.carol)
    daves = make_contact(db, owner=people.dave)

    def editable(actor):
        clause = owner_clause(db, actor, "contact", "update", Contact.owner_id)
        ids = db.exec(select(Contact.id).where(clause)).all()
        return {i for i in ids if i in {bobs.id, carols.id, daves.id}}

    assert editable(people.bob) == {bobs.id}
    assert editable(people.mona) == {bobs.id, carols.id}
    assert editable(people.alice) == {bobs.id, carols.id, daves.id}
    assert editable(people.vic) == set()


def test_matrix_changes_are_audited(db, people):
    from crm_app.services.audit import count_events

    set_scope(db, actor=people.alice, role="rep", resource="deal", action="delete", scope="none")
    assert count_events(db, action="permission_change") == 1
    assert Scope("none") is Scope.NONE
