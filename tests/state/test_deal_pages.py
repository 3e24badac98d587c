"""The deal page, the new-deal form and the deal list, driven through their state handlers."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from crm_app.models import Deal, DealContact
from crm_app.services import deal as deals
from crm_app.state.deal import DealFormState, DealPageState, duration_label
from crm_app.state.deal_list import DealListState
from tests.factories import make_account, make_contact, make_deal, stages_of_default_pipeline
from tests.state.test_record_pages import state_of


def deal_page(db, actor, deal: Deal) -> DealPageState:
    state = state_of(DealPageState, db, actor, f"/deals/{deal.id}")
    with state._actor_session() as (session, user):
        state._open(session, user)
    return state


def test_the_amount_is_edited_in_place_and_the_weighted_amount_follows(db, people):
    deal = make_deal(db, owner=people.bob, amount="1000")
    page = deal_page(db, people.bob, deal)
    assert page.amount_label == "1,000.00 USD" and page.weighted_label == "100.00 USD"
    page.start_edit("amount")
    page.save_edit({"value": "12500.50"})
    assert page.editing == "" and db.get(Deal, deal.id).amount == Decimal("12500.50")
    assert page.amount_label == "12,500.50 USD" and page.weighted_label == "1,250.05 USD"
    page.start_edit("amount")
    page.save_edit({"value": "-3"})
    assert page.editing == "amount" and "0 or more" in page.edit_error


def test_an_open_stage_is_entered_at_once_and_shows_in_the_history(db, people):
    stages = stages_of_default_pipeline(db)
    deal = make_deal(db, owner=people.bob)
    page = deal_page(db, people.bob, deal)
    assert [s["state"] for s in page.path][:2] == ["current", "todo"]
    page.choose_stage(str(stages["Discovery"].id))
    assert db.get(Deal, deal.id).stage_id == stages["Discovery"].id
    assert [s["state"] for s in page.path][:2] == ["done", "current"]
    assert [h["stage"] for h in page.history] == ["Discovery", "Qualification"]
    assert page.history[0]["left"] == "Now"


def test_won_waits_for_a_confirmation_and_lost_for_a_reason(db, people):
    stages = stages_of_default_pipeline(db)
    deal = make_deal(db, owner=people.bob)
    page = deal_page(db, people.bob, deal)
    page.choose_stage(str(stages["Won"].id))
    assert page.closing_kind == "won" and db.get(Deal, deal.id).stage_id != stages["Won"].id
    page.cancel_closing(False)
    assert page.closing_kind == ""
    page.choose_stage(str(stages["Lost"].id))
    page.confirm_lost({"lost_reason": ""})
    assert page.lost_reason_error == "Pick why the deal was lost."
    page.confirm_lost({"lost_reason": "Not a reason"})
    assert page.lost_reason_error.startswith("Pick one of")
    page.confirm_lost({"lost_reason": "Price"})
    stored = db.get(Deal, deal.id)
    assert (stored.stage_id, stored.lost_reason) == (stages["Lost"].id, "Price")
    assert page.closing_kind == "" and page.status_label == "Lost: Price"
    assert any(f.key == "lost_reason" for f in page.fields)


def test_a_move_of_an_older_version_is_refused_and_the_page_reloads(db, people):
    stages = stages_of_default_pipeline(db)
    deal = make_deal(db, owner=people.bob)
    page = deal_page(db, people.bob, deal)
    deals.update_deal(db, actor=people.mona, deal_id=deal.id, data={"name": "Renamed"})
    event = page.choose_stage(str(stages["Discovery"].id))
    assert "Changed by someone else" in str(event)
    assert db.get(Deal, deal.id).stage_id == stages["Qualification"].id
    assert page.name == "Renamed"


def test_contacts_are_involved_found_by_search_given_a_role_and_removed(db, people):
    deal = make_deal(db, owner=people.bob)
    ann = make_contact(db, owner=people.carol, first_name="Ann", last_name="Lee", title="CFO")
    page = deal_page(db, people.bob, deal)
    page.open_add_person(True)
    page.search_contacts("ann")
    assert [c.label for c in page.contact_options] == ["Ann Lee"]
    page.choose_contact(str(ann.id))
    assert [p["name"] for p in page.involved] == ["Ann Lee"] and not page.adding_person
    page.start_role(str(ann.id))
    page.save_role({"role": "Decision maker"})
    assert db.get(DealContact, (deal.id, ann.id)).role == "Decision maker"
    assert page.involved[0]["role"] == "Decision maker" and page.role_for == ""
    page.remove_person(str(ann.id))
    assert page.involved == [] and db.get(DealContact, (deal.id, ann.id)) is None


def test_the_company_and_primary_contact_are_picked_in_the_header(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    ada = make_contact(db, owner=people.bob, first_name="Ada", last_name="Byron")
    deal = make_deal(db, owner=people.bob)
    page = deal_page(db, people.bob, deal)
    page.start_edit("account_id")
    page.search_companies("acm")
    page.choose_company(str(acme.id))
    page.start_edit("primary_contact_id")
    page.search_contacts("ada")
    page.choose_contact(str(ada.id))
    stored = db.get(Deal, deal.id)
    assert (stored.account_id, stored.primary_contact_id) == (acme.id, ada.id)
    assert (page.company_name, page.contact_name) == ("Acme", "Ada Byron")


def test_tags_are_saved_with_the_deal(db, people):
    deal = make_deal(db, owner=people.bob)
    page = deal_page(db, people.bob, deal)
    page.submit_tag({"tag": "Q3"})
    page.submit_tag({"tag": "q3"})
    assert db.get(Deal, deal.id).tags == ["Q3"] and page.tags == ["Q3"]
    page.drop_tag("Q3")
    assert db.get(Deal, deal.id).tags == []


def test_readers_get_no_editor_and_cannot_move_the_deal(db, people):
    stages = stages_of_default_pipeline(db)
    deal = make_deal(db, owner=people.bob)
    for reader in (people.vic, people.dave):
        page = deal_page(db, reader, deal)
        assert page.can_edit is False
        page.start_edit("amount")
        page.choose_stage(str(stages["Discovery"].id))
        page.open_add_person(True)
        assert page.editing == "" and page.closing_kind == "" and not page.adding_person
    assert db.get(Deal, deal.id).stage_id == stages["Qualification"].id


def test_the_form_creates_a_deal_in_the_chosen_pipeline_and_stage(db, people):
    stages = stages_of_default_pipeline(db)
    acme = make_account(db, owner=people.bob, name="Acme")
    form = state_of(DealFormState, db, people.bob, f"/deals/new?account={acme.id}")
    with form._actor_session() as (session, user):
        form._open_form(session, user)
    assert form.company_name == "Acme" and form.default_currency == "USD"
    assert [s["name"] for s in form.stage_options] == [
        "Qualification",
        "Discovery",
        "Proposal",
        "Negotiation",
    ]
    form.submit({"name": "", "amount": "12.345", "stage_id": str(stages["Proposal"].id)})
    assert set(form.errors) == {"name", "amount"}
    typed = {"name": "Orion", "amount": "5000", "owner_id": form.default_owner}
    event = form.submit({**typed, "stage_id": str(stages["Proposal"].id)})
    created = db.exec(select(Deal).where(Deal.name == "Orion")).one()
    assert f"/deals/{created.id}" in str(event)
    assert (created.stage_id, created.account_id, created.owner_id) == (
        stages["Proposal"].id,
        acme.id,
        people.bob.id,
    )


def test_the_list_shows_the_totals_of_its_filters_per_currency(db, people):
    make_deal(db, owner=people.bob, amount="1000")
    make_deal(db, owner=people.bob, amount="3000")
    euros = make_deal(db, owner=people.carol, amount="500")
    deals.update_deal(db, actor=people.alice, deal_id=euros.id, data={"currency": "EUR"})
    page = state_of(DealListState, db, people.bob, "/deals/list")
    with page._actor_session() as (session, user):
        page._first_page(session, user)
        page._count(session, user)
    assert page.count_label == "3"
    assert page.totals == [
        {"currency": "EUR", "amount": "500.00 EUR", "weighted": "50.00 EUR"},
        {"currency": "USD", "amount": "4,000.00 USD", "weighted": "400.00 USD"},
    ]
    list(page.set_filter("amount_min", "900"))
    assert page.count_label == "2" and [t["currency"] for t in page.totals] == ["USD"]
    assert "amount%2Ccurrency" in page.export_href and page.merge_href == ""


def test_durations_read_in_their_two_largest_units():
    assert duration_label(30) == "Under a minute"
    assert duration_label(125 * 60) == "2 h 5 min"
    assert duration_label((3 * 24 + 6) * 3600) == "3 days 6 h"
    assert duration_label(24 * 3600) == "1 day"
