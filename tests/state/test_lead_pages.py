"""The lead page (fields in place, tags, the convert dialog), the lead settings' rule dialog,
and the public form, driven through their state handlers."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlmodel import select

from crm_app import routes
from crm_app.models import Deal, Lead, LeadScoringRule, LeadSource
from crm_app.services import lead_form
from crm_app.state import public_form as public_form_state
from crm_app.state.lead import LeadPageState
from crm_app.state.lead_settings import LeadSettingsState
from crm_app.state.public_form import PublicFormState
from tests.factories import make_account, make_contact, make_lead, make_scoring_rule
from tests.state.test_record_pages import state_of


def lead_page(db, actor, lead: Lead) -> LeadPageState:
    state = state_of(LeadPageState, db, actor, routes.lead_detail(lead.id))
    with state._actor_session() as (session, user):
        state._show_user(session, user)
        state._open(session, user)
    return state


@pytest.fixture
def ada(db, people) -> Lead:
    return make_lead(
        db,
        owner=people.bob,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@engines.com",
        title="VP Engineering",
        company_name="Analytical Engines",
        status="contacted",
    )


# ---- the lead page ---------------------------------------------------------------------------


def test_the_status_select_offers_only_the_statuses_the_flow_allows_next(db, people, ada):
    page = lead_page(db, people.bob, ada)
    status = next(f for f in page.fields if f.key == "status")
    assert [o.value for o in status.options] == ["contacted", "qualified", "unqualified"]
    page.start_edit("status")
    page.save_edit({"value": "qualified"})
    assert db.get(Lead, ada.id).status == "qualified" and page.status_text == "Qualified"


def test_the_score_shows_with_the_rules_that_make_it(db, people, ada):
    make_scoring_rule(
        db, condition={"kind": "contains", "field": "title", "value": "vp"}, points=30
    )
    make_scoring_rule(db, condition={"kind": "present", "field": "phone"}, points=10)
    page = lead_page(db, people.bob, ada)
    assert [(r["description"], r["points"]) for r in page.score_rules] == [
        ('Title contains "vp"', "+30")
    ]


def test_tags_are_added_and_removed_in_place(db, people, ada):
    page = lead_page(db, people.bob, ada)
    page.submit_tag({"tag": "Webinar"})
    assert page.tags == ["Webinar"] and db.get(Lead, ada.id).tags == ["Webinar"]
    page.drop_tag("webinar")
    assert page.tags == [] and page.timeline[0].lines == ["Tags: removed Webinar"]


def test_the_convert_dialog_offers_the_matches_and_creates_the_deal_asked_for(db, people, ada):
    known = make_contact(db, owner=people.bob, email="Ada@engines.com")
    page = lead_page(db, people.bob, ada)
    assert page.can_convert
    page.open_convert()
    assert page.contact_choice == "match" and page.contact_match_id == str(known.id)
    assert page.account_choice == "new" and page.lead_company == "Analytical Engines"
    assert page.deal_stage and page.stages[0].label == "Qualification"
    page.toggle_deal(True)
    events = page.convert({"deal_name": "Engines deal", "deal_amount": "12500.50"})
    deal = db.exec(select(Deal).where(Deal.name == "Engines deal")).one()
    assert routes.deal_detail(deal.id) in str(events)
    assert (deal.primary_contact_id, str(deal.amount)) == (known.id, "12500.50")
    converted = lead_page(db, people.bob, db.get(Lead, ada.id))
    assert converted.converted and not converted.can_convert
    assert [r.subtitle for r in converted.became] == ["Contact", "Company", "Deal"]


def test_creating_a_new_contact_is_honoured_despite_a_match(db, people, ada):
    known = make_contact(db, owner=people.bob, email="ada@engines.com")
    make_account(db, owner=people.bob, name="Analytical Engines")
    page = lead_page(db, people.bob, ada)
    page.open_convert()
    assert page.account_choice == "match"
    page.choose_contact("new")
    events = page.convert({})
    lead = db.get(Lead, ada.id)
    assert lead.converted_contact_id != known.id
    assert routes.contact_detail(lead.converted_contact_id) in str(events)


def test_a_bad_deal_amount_is_shown_in_the_dialog_and_nothing_is_converted(db, people, ada):
    page = lead_page(db, people.bob, ada)
    page.open_convert()
    page.toggle_deal(True)
    assert page.convert({"deal_name": "X", "deal_amount": "lots"}) is None
    assert "amount" in page.convert_errors["deal.amount"]
    assert db.get(Lead, ada.id).status == "contacted"


def test_someone_who_may_not_edit_the_lead_gets_no_convert(db, people, ada):
    page = lead_page(db, people.dave, ada)
    assert not page.can_convert
    page.open_convert()
    assert not page.convert_open


# ---- settings: the rule dialog ---------------------------------------------------------------


def settings(db, actor) -> LeadSettingsState:
    state = state_of(LeadSettingsState, db, actor, routes.SETTINGS_LEADS)
    with state._actor_session() as (session, user):
        state._show_user(session, user)
        state._reload(session, user)
    return state


def test_a_rule_is_saved_with_only_the_parts_of_its_kind(db, people):
    page = settings(db, people.alice)
    page.open_add_rule()
    page.choose_kind("activity_count")
    page.save_rule({"name": "Busy", "days": "14", "at_least": "3", "points": "15", "value": "x"})
    rule = db.exec(select(LeadScoringRule).where(LeadScoringRule.name == "Busy")).one()
    assert rule.condition == {"kind": "activity_count", "days": 14, "at_least": 3}
    assert page.rules[0]["description"] == "At least 3 activities in the last 14 days"


def test_a_rule_with_bad_parts_keeps_the_dialog_open_with_each_error(db, people):
    page = settings(db, people.alice)
    page.open_add_rule()
    page.choose_kind("equals")
    page.choose_field("source")
    page.save_rule({"name": "", "value": "", "points": "500"})
    assert page.rule_open
    assert set(page.rule_errors) == {"name", "condition.value", "points"}


def test_a_rep_sees_no_settings_and_cannot_add_a_source(db, people):
    page = settings(db, people.bob)
    assert page.sources == [] and page.rules == []
    page.add_source({"source_name": "Trade fair"})
    assert db.exec(select(LeadSource).where(LeadSource.name == "Trade fair")).first() is None


# ---- the public form -------------------------------------------------------------------------


@pytest.fixture
def public(db, people, monkeypatch):
    form = lead_form.create_form(
        db,
        actor=people.alice,
        data={
            "name": "Contact us",
            "fields": [{"name": "first_name"}, {"name": "email", "required": True}],
            "source": "Web form",
        },
    )

    @contextmanager
    def in_test_transaction():
        yield db

    monkeypatch.setattr(public_form_state, "session_scope", in_test_transaction)
    state = state_of(PublicFormState, db, None, routes.public_form(form.key))
    state.load()
    return state


def test_the_public_form_shows_its_fields_and_sends_a_lead(db, public):
    assert public.phase == "ready" and public.name == "Contact us"
    assert [(f["name"], f["required"], f["type"]) for f in public.fields] == [
        ("first_name", "", "text"),
        ("email", "yes", "email"),
    ]
    public.submit({"first_name": "Grace", "email": "Grace@Navy.mil", "website": ""})
    assert public.phase == "sent"
    lead = db.exec(select(Lead).where(Lead.email == "grace@navy.mil")).one()
    assert (lead.first_name, lead.source) == ("Grace", "Web form")


def test_a_missing_required_field_is_reported_next_to_it(db, public):
    public.submit({"first_name": "Grace", "email": ""})
    assert public.phase == "ready" and public.errors == {"email": "This field is required."}


def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(db, public):
    public.submit({"first_name": "Bot", "email": "bot@spam.example", "website": "http://x"})
    assert public.phase == "sent"
    assert db.exec(select(Lead).where(Lead.first_name == "Bot")).first() is None


def test_an_unknown_form_says_so(db, people):
    state = state_of(PublicFormState, db, None, routes.public_form("no-such-key"))
    state.load()
    assert state.phase == "missing"
