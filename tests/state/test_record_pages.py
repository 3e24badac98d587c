"""The contact page and the new-contact form, driven through their state handlers."""

from __future__ import annotations

from contextlib import contextmanager

import reflex as rx
from reflex.istate.data import ReflexURL, RouterData
from sqlmodel import select

from crm_app.models import Contact, CustomFieldDefinition
from crm_app.services import contact as contacts
from crm_app.state.contact import ContactFormState, ContactPageState
from tests.factories import make_account, make_contact


def state_of(cls, db, actor, url: str):
    """The page's state, acting as `actor` in the test's transaction, at `url`."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])

    @contextmanager
    def as_actor():
        yield db, actor

    object.__setattr__(state, "_actor_session", as_actor)
    object.__setattr__(state, "_polling_session", as_actor)
    root.router = RouterData(url=ReflexURL(f"http://testserver{url}"))
    return state


def contact_page(db, actor, contact: Contact) -> ContactPageState:
    state = state_of(ContactPageState, db, actor, f"/contacts/{contact.id}")
    with state._actor_session() as (session, user):
        state._open(session, user)
    return state


def test_a_field_saved_in_place_uses_the_loaded_version_and_shows_in_the_timeline(db, people):
    ada = make_contact(db, owner=people.bob, title="Engineer")
    page = contact_page(db, people.bob, ada)
    page.start_edit("title")
    assert page.editing == "title"
    page.save_edit({"value": "CTO"})
    assert page.editing == "" and page.version == 2
    assert db.get(Contact, ada.id).title == "CTO"
    assert page.timeline[0].lines == ["Title: Engineer → CTO"]


def test_an_edit_of_an_older_version_is_refused_and_the_page_reloads(db, people):
    ada = make_contact(db, owner=people.bob, title="Engineer")
    page = contact_page(db, people.bob, ada)
    contacts.update_contact(db, actor=people.mona, contact_id=ada.id, data={"title": "VP"})
    page.start_edit("title")
    event = page.save_edit({"value": "CTO"})
    assert "Changed by someone else" in str(event)
    assert db.get(Contact, ada.id).title == "VP"
    assert page.version == 2 and page.editing == ""
    assert next(f for f in page.fields if f.key == "title").display == "VP"


def test_bad_values_stay_in_the_editor_with_the_message(db, people):
    ada = make_contact(db, owner=people.bob)
    page = contact_page(db, people.bob, ada)
    page.start_edit("email")
    page.save_edit({"value": "not-an-email"})
    assert page.editing == "email" and "valid e-mail" in page.edit_error


def test_custom_fields_and_the_company_are_edited_in_place(db, people):
    db.add(
        CustomFieldDefinition(
            entity="contact",
            key="region",
            label="Region",
            field_type="select",
            options=["EMEA", "APAC"],
        )
    )
    db.flush()
    acme = make_account(db, owner=people.bob, name="Acme")
    ada = make_contact(db, owner=people.bob)
    page = contact_page(db, people.bob, ada)
    page.start_edit("custom.region")
    page.save_edit({"value": "EMEA"})
    assert db.get(Contact, ada.id).custom == {"region": "EMEA"}
    page.start_edit("account_id")
    page.search_companies("acm")
    assert [c.label for c in page.company_options] == ["Acme"]
    page.choose_company(str(acme.id))
    assert db.get(Contact, ada.id).account_id == acme.id and page.company_name == "Acme"


def test_those_who_may_not_edit_get_no_editor(db, people):
    ada = make_contact(db, owner=people.bob, title="Engineer")
    for reader in (people.vic, people.dave):
        page = contact_page(db, reader, ada)
        assert page.can_edit is False and page.can_delete is False
        page.start_edit("title")
        assert page.editing == ""


def test_the_form_shows_field_errors_then_warns_of_a_duplicate_then_saves_anyway(db, people):
    make_contact(db, owner=people.carol, first_name="Ada", last_name="", email="ada@example.com")
    form = state_of(ContactFormState, db, people.bob, "/contacts/new")
    with form._actor_session() as (session, user):
        form._open_form(session, user)
    assert [o.label for o in form.owner_options] == ["Bob Rep"]
    typed = {"first_name": "", "email": "ada@@example", "phone": "12", "lifecycle_stage": "lead"}
    form.submit(typed)
    assert set(form.errors) == {"first_name", "email", "phone"}
    form.submit({**typed, "first_name": "Augusta", "email": "ADA@example.com", "phone": ""})
    assert form.errors == {"email": "Already used by Ada."}
    assert [m.label for m in form.matches] == ["Ada"]
    event = form.save_anyway()
    created = db.exec(select(Contact).where(Contact.first_name == "Augusta")).one()
    assert f"/contacts/{created.id}" in str(event)


def test_a_stored_javascript_url_is_shown_but_never_linked(db, people):
    from crm_app.state.account import AccountPageState
    from tests.factories import make_account

    evil = make_account(db, owner=people.bob, website="javascript:alert(1)")
    page = state_of(AccountPageState, db, people.bob, f"/accounts/{evil.id}")
    with page._actor_session() as (session, user):
        page._open(session, user)
    website = next(f for f in page.fields if f.key == "website")
    assert (website.display, website.href) == ("javascript:alert(1)", "")
