"""Converting a lead: which contact and company it becomes (every matching case), the optional
deal, the links kept on the lead, and all-or-nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from crm_app.models import Account, Contact, Deal, Pipeline, Stage
from crm_app.services import lead as leads
from crm_app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm_app.services.lead_conversion import company_domain, convert_lead, preview_conversion
from tests.factories import make_account, make_contact, make_lead


def convert(db, actor, lead, **kw):
    return convert_lead(db, actor=actor, lead_id=lead.id, **kw)


def count(db, model) -> int:
    return len(db.exec(select(model)).all())


def first_stages(db) -> tuple[Pipeline, Stage, Stage]:
    """The default pipeline, its first stage and its second."""
    pipeline = db.exec(select(Pipeline).where(Pipeline.is_default)).one()
    stages = db.exec(
        select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)
    ).all()
    return pipeline, stages[0], stages[1]


@pytest.fixture
def ada(db, people):
    return make_lead(
        db,
        owner=people.bob,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@engines.com",
        phone="+14155550100",
        title="CTO",
        company_name="Analytical Engines",
        status="qualified",
    )


# ---- the contact ----------------------------------------------------------------------------


def test_a_new_contact_and_company_are_made_from_the_lead(db, people, ada):
    done = convert(db, people.bob, ada)
    contact, account = done.contact, done.account
    assert (done.created_contact, done.created_account, done.deal) == (True, True, None)
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Ada",
        "Lovelace",
        "ada@engines.com",
    )
    assert (contact.phone, contact.title, contact.owner_id) == (
        "+14155550100",
        "CTO",
        people.bob.id,
    )
    assert (account.name, account.domain, account.owner_id) == (
        "Analytical Engines",
        "engines.com",
        people.bob.id,
    )
    assert contact.account_id == account.id


def test_an_existing_contact_with_the_same_email_is_linked_not_copied(db, people, ada):
    existing = make_contact(db, owner=people.carol, email="ADA@engines.com")
    make_contact(db, owner=people.carol, email="ada@engines.com")  # a later twin: not chosen
    done = convert(db, people.bob, ada)
    assert (done.contact.id, done.created_contact) == (existing.id, False)


def test_a_trashed_contact_with_the_same_email_is_not_linked(db, people, ada):
    gone = make_contact(db, owner=people.bob, email="ada@engines.com")
    gone.deleted_at = gone.created_at
    db.flush()
    assert convert(db, people.bob, ada).contact.id != gone.id


def test_an_explicit_contact_wins_over_the_email_match(db, people, ada):
    make_contact(db, owner=people.bob, email="ada@engines.com")
    chosen = make_contact(db, owner=people.bob, first_name="Augusta")
    assert convert(db, people.bob, ada, contact_id=chosen.id).contact.id == chosen.id


def test_an_explicit_contact_that_does_not_exist_is_a_field_error(db, people, ada):
    with pytest.raises(ValidationFailed) as caught:
        convert(db, people.bob, ada, contact_id=10**9)
    assert [e.field for e in caught.value.errors] == ["contact_id"]


# ---- the company ----------------------------------------------------------------------------


def test_the_company_is_found_by_the_emails_domain(db, people, ada):
    engines = make_account(db, owner=people.carol, name="Babbage & Co", domain="engines.com")
    done = convert(db, people.bob, ada)
    assert (done.account.id, done.created_account) == (engines.id, False)
    assert done.contact.account_id == engines.id


def test_without_a_domain_match_the_company_is_found_by_name_ignoring_case(db, people, ada):
    same_name = make_account(db, owner=people.carol, name="analytical  ENGINES")
    done = convert(db, people.bob, ada)
    assert (done.account.id, done.created_account) == (same_name.id, False)


def test_the_domain_match_wins_over_the_name_match(db, people, ada):
    make_account(db, owner=people.carol, name="Analytical Engines")
    by_domain = make_account(db, owner=people.carol, name="Other", domain="engines.com")
    assert convert(db, people.bob, ada).account.id == by_domain.id


@pytest.mark.parametrize("address", ["ada@gmail.com", "ada@Outlook.com"])
def test_a_free_mail_domain_never_matches_a_company(db, people, address):
    make_account(db, owner=people.carol, name="Google", domain="gmail.com")
    make_account(db, owner=people.carol, name="Microsoft", domain="outlook.com")
    lead = make_lead(db, owner=people.bob, email=address.lower(), company_name="Ada Consulting")
    done = convert(db, people.bob, lead)
    assert (done.account.name, done.account.domain, done.created_account) == (
        "Ada Consulting",
        None,
        True,
    )
    assert company_domain(address.lower()) is None


def test_an_explicit_company_wins_over_any_match(db, people, ada):
    make_account(db, owner=people.carol, name="Analytical Engines", domain="engines.com")
    chosen = make_account(db, owner=people.carol, name="Chosen")
    assert convert(db, people.bob, ada, account_id=chosen.id).account.id == chosen.id


def test_an_explicit_company_that_does_not_exist_is_a_field_error(db, people, ada):
    with pytest.raises(ValidationFailed) as caught:
        convert(db, people.bob, ada, account_id=10**6)
    assert [e.field for e in caught.value.errors] == ["account_id"]


def test_a_lead_without_a_company_name_or_match_gets_no_company(db, people):
    lead = make_lead(db, owner=people.bob, first_name="Solo", email="solo@gmail.com")
    done = convert(db, people.bob, lead)
    assert (done.account, done.contact.account_id, done.lead.converted_account_id) == (
        None,
        None,
        None,
    )


def test_without_a_company_name_the_linked_contacts_company_is_used(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    make_contact(db, owner=people.bob, email="solo@gmail.com", account_id=acme.id)
    lead = make_lead(db, owner=people.bob, first_name="Solo", email="solo@gmail.com")
    assert convert(db, people.bob, lead).account.id == acme.id


def test_a_contact_with_a_company_keeps_it(db, people, ada):
    acme = make_account(db, owner=people.bob, name="Acme")
    existing = make_contact(db, owner=people.bob, email="ada@engines.com", account_id=acme.id)
    done = convert(db, people.bob, ada)
    assert done.account.name == "Analytical Engines"
    assert existing.account_id == acme.id


def test_a_contact_the_actor_may_not_edit_is_linked_but_not_changed(db, people, ada):
    theirs = make_contact(db, owner=people.dave, email="ada@engines.com")
    done = convert(db, people.bob, ada)
    assert done.contact.id == theirs.id and theirs.account_id is None


# ---- the deal -------------------------------------------------------------------------------


def test_a_deal_is_created_in_the_chosen_pipeline_and_stage(db, people, ada):
    pipeline, _, second = first_stages(db)
    done = convert(
        db,
        people.bob,
        ada,
        create_deal=True,
        deal={"pipeline_id": pipeline.id, "stage_id": second.id, "amount": "5000"},
    )
    deal = done.deal
    assert (deal.name, deal.pipeline_id, deal.stage_id, deal.amount) == (
        "Analytical Engines",
        pipeline.id,
        second.id,
        Decimal("5000.00"),
    )
    assert (deal.account_id, deal.primary_contact_id, deal.owner_id) == (
        done.account.id,
        done.contact.id,
        people.bob.id,
    )
    assert done.lead.converted_deal_id == deal.id


def test_a_deal_without_details_goes_to_the_default_pipelines_first_stage(db, people, ada):
    pipeline, first, _ = first_stages(db)
    deal = convert(db, people.bob, ada, create_deal=True).deal
    assert (deal.pipeline_id, deal.stage_id) == (pipeline.id, first.id)


def test_no_deal_unless_asked(db, people, ada):
    before = count(db, Deal)
    assert convert(db, people.bob, ada).deal is None
    assert count(db, Deal) == before


def test_a_failing_deal_rolls_back_everything(db, people, ada):
    before = (count(db, Contact), count(db, Account), count(db, Deal))
    with pytest.raises(ValidationFailed) as caught:
        convert(db, people.bob, ada, create_deal=True, deal={"stage_id": 10**6, "amount": "-1"})
    assert {e.field for e in caught.value.errors} >= {"deal.amount"}
    assert (count(db, Contact), count(db, Account), count(db, Deal)) == before
    db.refresh(ada)
    assert (ada.status, ada.converted_contact_id, ada.version) == ("qualified", None, 1)
    # and the lead can still be converted once the deal is right
    assert convert(db, people.bob, ada, create_deal=True).deal is not None


# ---- the lead -------------------------------------------------------------------------------


def test_the_lead_is_marked_converted_with_links_and_audited(db, people, ada):
    from crm_app.services.audit import list_events

    done = convert(db, people.bob, ada, create_deal=True)
    lead = leads.get_lead(db, actor=people.bob, lead_id=ada.id)
    assert lead.status == "converted" and lead.converted_at is not None
    assert (lead.converted_contact_id, lead.converted_account_id, lead.converted_deal_id) == (
        done.contact.id,
        done.account.id,
        done.deal.id,
    )
    assert lead.version == 2
    event = list_events(db, actor=people.alice, entity="lead", entity_id=ada.id).rows[0]
    assert event.action == "convert"
    assert event.changes["status"] == ["qualified", "converted"]
    assert event.changes["converted_contact_id"] == [None, done.contact.id]


def test_a_converted_lead_cannot_be_converted_twice(db, people, ada):
    convert(db, people.bob, ada)
    contacts_before = count(db, Contact)
    with pytest.raises(Conflict):
        convert(db, people.bob, ada)
    assert count(db, Contact) == contacts_before


def test_a_trashed_lead_cannot_be_converted(db, people, ada):
    leads.delete_lead(db, actor=people.bob, lead_id=ada.id)
    with pytest.raises(NotFound):
        convert(db, people.bob, ada)


def test_only_someone_who_may_edit_the_lead_converts_it(db, people, ada):
    with pytest.raises(Forbidden):
        convert(db, people.dave, ada)
    with pytest.raises(Forbidden):
        convert(db, people.vic, ada)
    assert convert(db, people.mona, ada).contact.owner_id == people.bob.id  # Bob's team


def test_new_records_go_to_the_actor_when_the_leads_owner_left(db, people, ada):
    people.bob.is_active = False
    db.flush()
    done = convert(db, people.alice, ada, create_deal=True)
    assert done.contact.owner_id == done.account.owner_id == done.deal.owner_id == people.alice.id


# ---- asking for new records, and the preview -------------------------------------------------


def test_new_contact_creates_one_even_when_the_email_matches(db, people, ada):
    existing = make_contact(db, owner=people.bob, email="ada@engines.com")
    done = convert(db, people.bob, ada, new_contact=True)
    assert done.created_contact and done.contact.id != existing.id


def test_new_account_creates_one_even_when_a_company_matches(db, people, ada):
    engines = make_account(db, owner=people.bob, name="Analytical Engines", domain="engines.com")
    done = convert(db, people.bob, ada, new_account=True)
    assert done.created_account and done.account.id != engines.id
    assert done.account.name == "Analytical Engines"


def test_new_account_needs_a_company_name(db, people):
    lead = make_lead(db, owner=people.bob, email="grace@navy.mil")
    with pytest.raises(ValidationFailed) as caught:
        convert(db, people.bob, lead, new_account=True)
    assert [e.field for e in caught.value.errors] == ["account_id"]


def test_the_preview_names_the_contact_and_company_convert_would_link(db, people, ada):
    contact = make_contact(db, owner=people.carol, email="Ada@Engines.com")
    engines = make_account(db, owner=people.carol, name="Engines Inc", domain="engines.com")
    found = preview_conversion(db, actor=people.bob, lead_id=ada.id)
    assert (found.contact.id, found.account.id) == (contact.id, engines.id)
    assert (found.contact_hidden, found.account_hidden) == (False, False)
    assert convert(db, people.bob, ada).contact.id == contact.id


def test_the_preview_finds_nothing_for_a_lead_without_matches(db, people, ada):
    found = preview_conversion(db, actor=people.bob, lead_id=ada.id)
    assert (found.contact, found.account) == (None, None)


def test_only_someone_who_may_convert_the_lead_previews_it(db, people, ada):
    with pytest.raises(Forbidden):
        preview_conversion(db, actor=people.dave, lead_id=ada.id)
