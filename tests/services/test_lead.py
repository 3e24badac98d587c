"""Leads: normalisation, sources, the status flow, duplicates, permissions, versions, the trash,
the list with its filters, sorts and search."""

from __future__ import annotations

import pytest

from crm_app.services import lead as leads
from crm_app.services import lead_source
from crm_app.services.errors import (
    DuplicateFound,
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from crm_app.services.listing import ListQuery
from tests.factories import make_lead, make_scoring_rule


def new(db, actor, **data):
    return leads.create_lead(db, actor=actor, data=data)


def errors_of(caught) -> dict[str, str]:
    return {e.field: e.message for e in caught.value.errors}


# ---- create ---------------------------------------------------------------------------------


def test_create_normalises_email_and_phone_and_is_owned_by_its_creator(db, people):
    lead = new(
        db,
        people.bob,
        first_name=" Ada ",
        last_name="Lovelace",
        email=" Ada@Example.COM ",
        phone="(415) 555-0100",
        company_name="  Analytical   Engines ",
    )
    assert (lead.first_name, lead.email, lead.phone) == ("Ada", "ada@example.com", "+14155550100")
    assert lead.company_name == "Analytical Engines"
    assert (lead.status, lead.score, lead.version) == ("new", 0, 1)
    assert lead.owner_id == people.bob.id and lead.created_by == people.bob.id
    assert lead.owner_name == "Bob Rep"


def test_bad_fields_are_reported_together(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, email="not-an-email", phone="12", status="hot", source="Billboard")
    fields = errors_of(caught)
    assert set(fields) == {"email", "phone", "status", "source", "first_name"}
    assert "valid e-mail" in fields["email"]
    assert fields["source"] == "Pick one of the lead sources."


def test_a_lead_needs_a_name_an_email_or_a_company(db, people):
    assert new(db, people.bob, company_name="Acme").company_name == "Acme"
    assert new(db, people.bob, email="x@acme.com").email == "x@acme.com"
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, title="CTO")
    assert set(errors_of(caught)) == {"first_name"}


@pytest.mark.parametrize(
    "field", ["id", "score", "converted_at", "converted_contact_id", "created_by", "deleted_at"]
)
def test_unknown_or_protected_fields_are_refused(db, people, field):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, first_name="A", **{field: 5})
    assert set(errors_of(caught)) == {field}


def test_source_must_be_an_active_source_named_in_any_case(db, people):
    lead = new(db, people.bob, first_name="A", source="referral")
    assert lead.source == "Referral"
    assert new(db, people.bob, first_name="B", source="").source is None
    web = next(s for s in lead_source.list_sources(db, actor=people.alice) if s.name == "Website")
    lead_source.set_source_active(db, actor=people.alice, source_id=web.id, active=False)
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, first_name="C", source="Website")
    assert set(errors_of(caught)) == {"source"}


def test_a_lead_keeps_a_retired_source_when_edited(db, people):
    lead = new(db, people.bob, first_name="A", source="Website")
    web = next(s for s in lead_source.list_sources(db, actor=people.alice) if s.name == "Website")
    lead_source.set_source_active(db, actor=people.alice, source_id=web.id, active=False)
    leads.update_lead(
        db, actor=people.bob, lead_id=lead.id, data={"title": "CTO", "source": "Website"}
    )
    assert (lead.title, lead.source) == ("CTO", "Website")


def test_a_lead_cannot_be_created_converted(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, first_name="A", status="converted")
    assert errors_of(caught) == {"status": "A lead becomes converted by converting it."}


def test_a_lead_may_start_further_along_the_flow(db, people):
    assert new(db, people.bob, first_name="A", status="qualified").status == "qualified"


def test_duplicate_email_or_phone_of_an_open_lead_is_refused_unless_allowed(db, people):
    first = new(db, people.bob, first_name="Ada", email="ada@example.com", phone="+14155550100")
    with pytest.raises(DuplicateFound) as caught:
        new(db, people.carol, first_name="Other", email="ADA@example.com")
    assert [m.id for m in caught.value.matches] == [first.id]
    assert caught.value.errors[0].field == "email"
    with pytest.raises(DuplicateFound) as caught:
        new(db, people.carol, first_name="Other", phone="415 555 0100")
    assert caught.value.errors[0].field == "phone"
    twin = leads.create_lead(
        db,
        actor=people.carol,
        data={"first_name": "Twin", "email": "ada@example.com"},
        allow_duplicate=True,
    )
    assert twin.id != first.id


def test_converted_or_trashed_leads_are_not_duplicates(db, people):
    converted = make_lead(db, owner=people.bob, email="ada@example.com", status="converted")
    trashed = make_lead(db, owner=people.bob, email="bea@example.com")
    leads.delete_lead(db, actor=people.bob, lead_id=trashed.id)
    assert new(db, people.bob, first_name="A", email="ada@example.com").id != converted.id
    assert new(db, people.bob, first_name="B", email="bea@example.com").id != trashed.id


def test_viewer_cannot_create(db, people):
    with pytest.raises(Forbidden):
        new(db, people.vic, first_name="A")


def test_rep_cannot_give_a_lead_to_someone_else_but_a_manager_can_within_the_team(db, people):
    with pytest.raises(Forbidden):
        new(db, people.bob, first_name="A", owner_id=people.carol.id)
    assert new(db, people.mona, first_name="A", owner_id=people.carol.id).owner_id == (
        people.carol.id
    )
    with pytest.raises(Forbidden):
        new(db, people.mona, first_name="B", owner_id=people.dave.id)


def test_a_new_lead_is_scored_in_the_same_transaction(db, people):
    make_scoring_rule(db, condition={"kind": "present", "field": "email"}, points=30)
    assert new(db, people.bob, first_name="A", email="a@acme.com").score == 30
    assert new(db, people.bob, first_name="B").score == 0


# ---- change ---------------------------------------------------------------------------------


def test_rep_edits_own_leads_only(db, people):
    own = make_lead(db, owner=people.bob)
    other = make_lead(db, owner=people.dave)
    leads.update_lead(db, actor=people.bob, lead_id=own.id, data={"title": "CTO"})
    assert own.title == "CTO" and own.version == 2
    with pytest.raises(Forbidden):
        leads.update_lead(db, actor=people.bob, lead_id=other.id, data={"title": "X"})


def test_stale_version_is_refused(db, people):
    lead = make_lead(db, owner=people.bob)
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"title": "A"}, version=1)
    with pytest.raises(StaleVersion):
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"title": "B"}, version=1)


def test_update_is_audited_with_before_and_after(db, people):
    from crm_app.services.audit import list_events

    lead = make_lead(db, owner=people.bob, title="Engineer")
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"title": "CTO"})
    event = list_events(db, actor=people.alice, entity="lead", entity_id=lead.id).rows[0]
    assert event.action == "update" and event.changes == {"title": ["Engineer", "CTO"]}


def test_an_edit_cannot_leave_a_lead_without_name_email_or_company(db, people):
    lead = make_lead(db, owner=people.bob, first_name="Ada", last_name="")
    with pytest.raises(ValidationFailed) as caught:
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"first_name": ""})
    assert set(errors_of(caught)) == {"first_name"}


def test_changing_the_email_to_another_open_leads_is_refused(db, people):
    make_lead(db, owner=people.bob, email="ada@example.com")
    lead = make_lead(db, owner=people.bob, email="bea@example.com")
    with pytest.raises(DuplicateFound):
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"email": "ada@example.com"})
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"email": "BEA@example.com"})


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["contacted", "qualified"], True),
        (["contacted", "unqualified", "contacted", "qualified", "unqualified"], True),
        (["unqualified", "qualified", "contacted"], True),
        (["qualified"], False),
        (["contacted", "new"], False),
        (["contacted", "converted"], False),
    ],
)
def test_status_follows_the_flow(db, people, path, allowed):
    lead = make_lead(db, owner=people.bob)
    *steps, last = path
    for status in steps:
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"status": status})
    if allowed:
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"status": last})
        assert lead.status == last
    else:
        with pytest.raises(ValidationFailed) as caught:
            leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"status": last})
        assert set(errors_of(caught)) == {"status"}


def test_the_status_error_says_where_the_lead_can_go(db, people):
    lead = make_lead(db, owner=people.bob)
    with pytest.raises(ValidationFailed) as caught:
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"status": "qualified"})
    assert errors_of(caught) == {"status": "A new lead can only become contacted or unqualified."}


def test_a_converted_lead_keeps_its_status_but_resending_it_is_harmless(db, people):
    lead = make_lead(db, owner=people.bob, status="converted")
    leads.update_lead(
        db, actor=people.bob, lead_id=lead.id, data={"status": "converted", "title": "CTO"}
    )
    assert (lead.status, lead.title) == ("converted", "CTO")
    with pytest.raises(ValidationFailed) as caught:
        leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"status": "qualified"})
    assert errors_of(caught) == {"status": "A converted lead keeps its status."}


def test_a_change_rescores_the_lead_without_a_second_version(db, people):
    make_scoring_rule(
        db, condition={"kind": "contains", "field": "title", "value": "vp"}, points=40
    )
    lead = make_lead(db, owner=people.bob)
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"title": "VP Sales"})
    assert (lead.score, lead.version) == (40, 2)
    db.expire(lead)
    assert lead.score == 40


def test_custom_values_merge_and_null_removes_one(db, people):
    from crm_app.services import custom_field

    for label, field_type in (("Budget", "number"), ("Region", "text")):
        custom_field.create_field(
            db, actor=people.alice, entity="lead", label=label, field_type=field_type
        )
    lead = new(db, people.bob, first_name="A", custom={"budget": 5000, "region": "EMEA"})
    leads.update_lead(db, actor=people.bob, lead_id=lead.id, data={"custom": {"region": None}})
    assert lead.custom == {"budget": 5000}


# ---- trash ----------------------------------------------------------------------------------


def test_deleted_lead_is_hidden_and_restorable_by_someone_who_may_edit_it(db, people):
    lead = make_lead(db, owner=people.bob, first_name="Gone")
    leads.delete_lead(db, actor=people.bob, lead_id=lead.id)
    with pytest.raises(NotFound):
        leads.get_lead(db, actor=people.bob, lead_id=lead.id)
    assert leads.list_leads(db, actor=people.alice, listq=ListQuery(q="gone")).rows == []
    with pytest.raises(Forbidden):
        leads.restore_lead(db, actor=people.dave, lead_id=lead.id)
    leads.restore_lead(db, actor=people.bob, lead_id=lead.id)
    assert leads.get_lead(db, actor=people.bob, lead_id=lead.id).deleted_at is None


def test_a_rep_cannot_delete_another_reps_lead(db, people):
    lead = make_lead(db, owner=people.dave)
    with pytest.raises(Forbidden):
        leads.delete_lead(db, actor=people.bob, lead_id=lead.id)


# ---- the list -------------------------------------------------------------------------------


@pytest.fixture
def trio(db, people):
    """Three leads that differ in every filterable way."""
    ann = make_lead(
        db,
        owner=people.bob,
        first_name="Ann",
        last_name="Smith",
        company_name="Acme",
        source="Referral",
        status="qualified",
        score=80,
        tags=["vip"],
    )
    ben = make_lead(
        db,
        owner=people.bob,
        first_name="Ben",
        last_name="Smithers",
        source="Website",
        status="contacted",
        score=40,
    )
    cy = make_lead(
        db, owner=people.dave, first_name="Cy", last_name="Jones", score=10, tags=["vip"]
    )
    return ann, ben, cy


def ids_of(db, actor, **kw) -> list[int]:
    return [r.lead.id for r in leads.list_leads(db, actor=actor, listq=ListQuery(**kw)).rows]


def test_list_filters_by_status_source_owner_tag_and_score_range(db, people, trio):
    ann, ben, cy = trio
    q = lambda **f: ids_of(db, people.vic, filters=f, sort="first_name")  # noqa: E731
    assert q(status="qualified") == [ann.id]
    assert q(status="qualified,contacted") == [ann.id, ben.id]
    assert q(source="referral") == [ann.id]
    assert q(source="none") == [cy.id]
    assert q(owner_id=str(people.dave.id)) == [cy.id]
    assert q(tag="vip") == [ann.id, cy.id]
    assert q(score_min="40") == [ann.id, ben.id]
    assert q(score_min="20", score_max="50") == [ben.id]
    assert q(created_from="2000-01-01", score_max="10") == [cy.id]


def test_bad_filters_are_reported_together(db, people):
    with pytest.raises(ValidationFailed) as caught:
        ids_of(db, people.vic, filters={"status": "hot", "score_min": "101", "nope": "1"})
    assert set(errors_of(caught)) == {"status", "score_min", "nope"}


def test_list_sorts_by_score_and_other_shown_columns(db, people, trio):
    ann, ben, cy = trio
    assert ids_of(db, people.vic, sort="-score") == [ann.id, ben.id, cy.id]
    assert ids_of(db, people.vic, sort="score") == [cy.id, ben.id, ann.id]
    assert ids_of(db, people.vic, sort="owner,first_name") == [ann.id, ben.id, cy.id]
    assert ids_of(db, people.vic, sort="status,first_name") == [ben.id, cy.id, ann.id]
    with pytest.raises(ValidationFailed):
        ids_of(db, people.vic, sort="password")


def test_keyset_pages_by_score_visit_every_lead_once(db, people):
    made = {make_lead(db, owner=people.bob, score=s % 3 * 10).id for s in range(7)}
    seen, cursor = [], None
    while True:
        page = leads.list_leads(
            db, actor=people.vic, listq=ListQuery(sort="-score", limit=2, cursor=cursor)
        )
        seen += [r.lead.id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_search_finds_leads_by_the_start_of_their_words(db, people, trio):
    ann, ben, _ = trio
    assert ids_of(db, people.vic, q="smi", sort="first_name") == [ann.id, ben.id]
    assert ids_of(db, people.vic, q="acm") == [ann.id]


def test_list_rows_carry_the_owners_name_and_counts_match(db, people, trio):
    rows = leads.list_leads(db, actor=people.vic, listq=ListQuery(sort="first_name")).rows
    assert [r.owner for r in rows] == ["Bob Rep", "Bob Rep", "Dave Rep"]
    assert leads.count_leads(db, actor=people.vic, listq=ListQuery(filters={"tag": "vip"})) == 2


def test_owner_names_follow_renames(db, people):
    from crm_app.services import user as users

    lead = make_lead(db, owner=people.bob)
    users.update_profile(db, actor=people.bob, name="Robert Rep", timezone="UTC")
    db.refresh(lead)
    assert lead.owner_name == "Robert Rep"


# ---- sources --------------------------------------------------------------------------------


def source_names(db, actor, **kw) -> list[str]:
    return [s.name for s in lead_source.list_sources(db, actor=actor, **kw)]


def test_sources_are_listed_in_order_and_inactive_ones_only_on_request(db, people):
    assert source_names(db, people.vic)[:2] == ["Website", "Referral"]
    web = lead_source.list_sources(db, actor=people.alice)[0]
    lead_source.set_source_active(db, actor=people.alice, source_id=web.id, active=False)
    assert "Website" not in source_names(db, people.vic)
    assert "Website" in source_names(db, people.alice, include_inactive=True)


def test_only_admins_manage_sources(db, people):
    web = lead_source.list_sources(db, actor=people.alice)[0]
    with pytest.raises(Forbidden):
        lead_source.add_source(db, actor=people.mona, name="Podcast")
    with pytest.raises(Forbidden):
        lead_source.rename_source(db, actor=people.bob, source_id=web.id, name="Site")
    with pytest.raises(Forbidden):
        lead_source.set_source_active(db, actor=people.bob, source_id=web.id, active=False)
    with pytest.raises(Forbidden):
        lead_source.reorder_sources(db, actor=people.bob, ids=[web.id])


def test_an_added_source_goes_last_and_names_are_unique_ignoring_case(db, people):
    from crm_app.services.errors import Conflict

    podcast = lead_source.add_source(db, actor=people.alice, name="  Podcast ")
    assert source_names(db, people.alice)[-1] == "Podcast" == podcast.name
    with pytest.raises(Conflict):
        lead_source.add_source(db, actor=people.alice, name="podcast")
    with pytest.raises(ValidationFailed):
        lead_source.add_source(db, actor=people.alice, name=" ")


def test_renaming_a_source_renames_it_on_leads_forms_and_scoring_rules(db, people):
    from crm_app.services import lead_form, lead_scoring

    referral = next(s for s in lead_source.list_sources(db, actor=people.alice) if s.position == 1)
    lead = new(db, people.bob, first_name="A", source="Referral")
    form = lead_form.create_form(
        db,
        actor=people.alice,
        data={"name": "F", "fields": [{"name": "email"}], "source": "Referral"},
    )
    rule = make_scoring_rule(
        db, condition={"kind": "equals", "field": "source", "value": "referral"}, points=30
    )
    lead_scoring.rescore_lead(db, lead.id)
    lead_source.rename_source(db, actor=people.alice, source_id=referral.id, name="Word of mouth")
    assert (lead.source, form.source) == ("Word of mouth", "Word of mouth")
    assert rule.condition["value"] == "Word of mouth"
    assert lead_scoring.rescore_lead(db, lead.id) == 30


def test_reordering_needs_every_source_once(db, people):
    ids = [s.id for s in lead_source.list_sources(db, actor=people.alice, include_inactive=True)]
    reordered = lead_source.reorder_sources(db, actor=people.alice, ids=ids[::-1])
    assert [s.position for s in reordered] == list(range(len(ids)))
    assert source_names(db, people.alice)[0] == "Advertising"
    with pytest.raises(ValidationFailed):
        lead_source.reorder_sources(db, actor=people.alice, ids=ids[1:])


# ---- tags and bulk actions -------------------------------------------------------------------


def test_a_tag_is_added_once_whatever_its_case_and_removed_ignoring_case(db, people):
    lead = make_lead(db, owner=people.bob, tags=["Hot"])
    leads.change_tag(db, actor=people.bob, lead_id=lead.id, tag="hot", add=True)
    leads.change_tag(db, actor=people.bob, lead_id=lead.id, tag="Webinar", add=True)
    assert lead.tags == ["Hot", "Webinar"] and lead.version == 2
    leads.change_tag(db, actor=people.bob, lead_id=lead.id, tag="HOT", add=False)
    assert lead.tags == ["Webinar"]


def test_a_rep_cannot_tag_another_reps_lead(db, people):
    lead = make_lead(db, owner=people.carol)
    with pytest.raises(Forbidden):
        leads.change_tag(db, actor=people.bob, lead_id=lead.id, tag="Hot", add=True)


def test_leads_are_reassigned_and_trashed_in_bulk_within_the_actors_rights(db, people):
    from crm_app.services import bulk

    mine = [make_lead(db, owner=people.bob) for _ in range(2)]
    theirs = make_lead(db, owner=people.carol)
    ids = [lead.id for lead in [*mine, theirs]]
    refused = bulk.count_refused(
        db, actor=people.bob, entity="lead", action="add_tag", ids=ids, listq=None
    )
    changed = bulk.bulk_apply(
        db, actor=people.bob, entity="lead", action="add_tag", value="Hot", ids=ids, listq=None
    )
    assert (changed, refused) == (2, 1)
    listq = ListQuery(filters={"tag": "Hot"})
    assert leads.count_leads(db, actor=people.bob, listq=listq) == 2
    bulk.bulk_apply(
        db, actor=people.alice, entity="lead", action="delete", value=None, ids=None, listq=listq
    )
    assert leads.count_leads(db, actor=people.alice, listq=ListQuery()) == 1


def test_a_view_of_the_lead_list_keeps_its_filters_sort_and_columns(db, people):
    from crm_app.services import saved_view

    view = saved_view.create_view(
        db,
        actor=people.bob,
        entity="lead",
        name="Hot leads",
        filters={"status": "qualified", "score_min": "50"},
        sort="-score",
        columns=["name", "score", "status"],
    )
    assert (view.filters, view.sort, view.columns) == (
        {"status": "qualified", "score_min": "50"},
        "-score",
        ["name", "score", "status"],
    )
    with pytest.raises(ValidationFailed):
        saved_view.create_view(
            db, actor=people.bob, entity="lead", name="Bad", filters={"score_min": "500"}
        )
