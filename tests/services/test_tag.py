"""Tags: suggestions, and adding or removing one tag through the record's update service."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.models import AuditEvent, Tag
from crm_app.services import tag
from crm_app.services.errors import Forbidden, NotFound, ValidationFailed
from tests.factories import make_account, make_contact


def catalog(db) -> set[str]:
    return set(db.exec(select(Tag.name)).all())


def test_adding_a_tag_bumps_the_version_audits_it_and_catalogs_a_new_name(db, people):
    c = make_contact(db, owner=people.bob, tags=["vip"])
    saved = tag.add_tag(db, actor=people.bob, entity="contact", record_id=c.id, tag=" Big  Fish ")
    assert saved.tags == ["vip", "Big Fish"] and saved.version == 2
    event = db.exec(
        select(AuditEvent).where(AuditEvent.entity == "contact", AuditEvent.entity_id == c.id)
    ).one()
    assert event.changes == {"tags": [["vip"], ["vip", "Big Fish"]]}
    assert "Big Fish" in catalog(db)


def test_a_tag_is_kept_once_whatever_its_case_and_takes_the_catalogs_spelling(db, people):
    db.add(Tag(name="Partner"))
    db.flush()
    c = make_contact(db, owner=people.bob)
    tag.add_tag(db, actor=people.bob, entity="contact", record_id=c.id, tag="partner")
    again = tag.add_tag(db, actor=people.bob, entity="contact", record_id=c.id, tag="PARTNER")
    assert again.tags == ["Partner"] and again.version == 2


def test_removing_a_tag_ignores_case_and_removing_a_missing_one_changes_nothing(db, people):
    acme = make_account(db, owner=people.bob, tags=["smb", "Partner"])
    saved = tag.remove_tag(db, actor=people.bob, entity="account", record_id=acme.id, tag="partner")
    assert saved.tags == ["smb"] and saved.version == 2
    same = tag.remove_tag(db, actor=people.bob, entity="account", record_id=acme.id, tag="nope")
    assert same.tags == ["smb"] and same.version == 2


def test_rep_cannot_tag_another_reps_contact_but_their_manager_can(db, people):
    theirs = make_contact(db, owner=people.carol)
    with pytest.raises(Forbidden):
        tag.add_tag(db, actor=people.bob, entity="contact", record_id=theirs.id, tag="x")
    with pytest.raises(Forbidden):
        tag.remove_tag(db, actor=people.vic, entity="contact", record_id=theirs.id, tag="x")
    saved = tag.add_tag(db, actor=people.mona, entity="contact", record_id=theirs.id, tag="x")
    assert saved.tags == ["x"]


def test_blank_tags_unknown_kinds_and_trashed_records_are_refused(db, people):
    c = make_contact(db, owner=people.bob)
    with pytest.raises(ValidationFailed):
        tag.add_tag(db, actor=people.bob, entity="contact", record_id=c.id, tag="   ")
    with pytest.raises(ValidationFailed):
        tag.add_tag(db, actor=people.bob, entity="user", record_id=c.id, tag="x")
    c.deleted_at = c.created_at
    db.flush()
    with pytest.raises(NotFound):
        tag.add_tag(db, actor=people.bob, entity="contact", record_id=c.id, tag="x")


def test_suggestions_start_with_the_prefix_catalog_first_then_tags_in_use(db, people):
    db.add(Tag(name="Enterprise"))
    db.add(Tag(name="Other"))
    db.flush()
    make_contact(db, owner=people.bob, tags=["enterprise", "EMEA", "emea"])
    make_account(db, owner=people.bob, tags=["Energy"])
    found = tag.suggest(db, actor=people.vic, prefix="e")
    assert found[0] == "Enterprise"
    assert {f.lower() for f in found} >= {"enterprise", "emea", "energy"}
    assert len({f.lower() for f in found}) == len(found)
    assert "Other" not in found
    assert tag.suggest(db, actor=people.vic, prefix="e", exclude=["Enterprise"])[0] != "Enterprise"


def test_suggestions_treat_like_wildcards_as_plain_text(db, people):
    db.add(Tag(name="100% sure"))
    db.add(Tag(name="1000 club"))
    db.flush()
    assert tag.suggest(db, actor=people.bob, prefix="100%") == ["100% sure"]
