"""E-mail templates: merge fields rendered in a sandbox, escaped, with clear errors."""

from __future__ import annotations

import pytest

from crm_app.services import email_template
from crm_app.services.errors import Forbidden, ValidationFailed
from tests.factories import make_account, make_contact, make_deal, make_lead


def _template(db, people, **data):
    values = {
        "name": "Welcome",
        "entity": "contact",
        "subject": "Hello {{ contact.first_name }}",
        "body": "Dear {{ contact.first_name }},\n\nRegards, {{ sender.name }}",
    }
    return email_template.create_template(db, actor=people.alice, data=values | data)


def test_a_contact_template_renders_the_contact_the_company_and_the_sender(db, people):
    account = make_account(db, owner=people.bob, name="Acme")
    contact = make_contact(
        db, owner=people.bob, first_name="Jo", email="jo@acme.test", account_id=account.id
    )
    db.refresh(contact)
    rendered = email_template.preview(
        db,
        actor=people.bob,
        entity="contact",
        subject="Hi {{ contact.first_name }} at {{ account.name }}",
        body="Dear **{{ contact.first_name }}**, from {{ sender.name }} ({{ sender.email }})",
        record_id=contact.id,
    )
    assert rendered.subject == "Hi Jo at Acme"
    assert "<strong>Jo</strong>" in rendered.html
    assert "Bob Rep (bob@example.com)" in rendered.html
    assert rendered.text == "Dear **Jo**, from Bob Rep (bob@example.com)"


def test_a_deal_template_shows_the_amount_with_its_currency_stage_and_close_date(db, people):
    deal = make_deal(db, owner=people.bob, name="Big one", amount="12500")
    rendered = email_template.preview(
        db,
        actor=people.bob,
        entity="deal",
        subject="{{ deal.name }}",
        body="{{ deal.amount }} in {{ deal.stage }}, closing {{ deal.close_date }}",
        record_id=deal.id,
    )
    assert rendered.subject == "Big one"
    assert "12,500.00 EUR" in rendered.html or "12,500.00 USD" in rendered.html
    assert " in " in rendered.text and rendered.text.endswith("closing ")


def test_a_contact_named_script_renders_as_text_not_markup(db, people):
    contact = make_contact(
        db,
        owner=people.bob,
        first_name="<script>alert(1)</script>",
        last_name="[click](javascript:alert(1)) *bold*",
    )
    rendered = email_template.preview(
        db,
        actor=people.bob,
        entity="contact",
        subject="{{ contact.first_name }}",
        body="Hi {{ contact.first_name }} {{ contact.last_name }}",
        record_id=contact.id,
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<a" not in rendered.html and "<em>" not in rendered.html
    assert "[click](javascript:alert(1)) *bold*" in rendered.html
    assert rendered.subject == "<script>alert(1)</script>"  # a subject is plain text


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ contact.__class__ }}",
        "{{ sender.items.__globals__ }}",
        "{% for c in ''.__class__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ contact|attr('__class__') }}",  # refused by the sandbox while rendering
    ],
)
def test_sandbox_violations_are_refused_with_a_message(db, people, body):
    with pytest.raises(ValidationFailed) as caught:
        _template(db, people, body=body)
    assert caught.value.errors[0].field == "body"
    assert "Not allowed in a template" in caught.value.errors[0].message


def test_syntax_errors_and_unknown_names_are_clear_messages(db, people):
    with pytest.raises(ValidationFailed) as caught:
        _template(db, people, subject="Hi {{ contact.first_name ", body="{{ password }}")
    messages = {e.field: e.message for e in caught.value.errors}
    assert messages["subject"].startswith("Template error on line 1")
    assert messages["body"] == "Unknown merge field 'password'. Use: contact, account, sender."


def test_an_unknown_field_of_a_known_name_renders_empty(db, people):
    contact = make_contact(db, owner=people.bob, first_name="Jo")
    rendered = email_template.preview(
        db,
        actor=people.bob,
        entity="contact",
        subject="[{{ contact.nickname }}]",
        body="x{{ contact.nickname.deeper }}y",
        record_id=contact.id,
    )
    assert rendered.subject == "[]"
    assert rendered.text == "xy"


def test_a_lead_template_can_use_lead_and_contact_names(db, people):
    lead = make_lead(db, owner=people.bob, first_name="Lee", company_name="Leadco")
    rendered = email_template.preview(
        db,
        actor=people.bob,
        entity="lead",
        subject="{{ lead.first_name }} / {{ contact.first_name }} / {{ account.name }}",
        body="",
        record_id=lead.id,
    )
    assert rendered.subject == "Lee / Lee / Leadco"


def test_managers_manage_templates_reps_only_use_them(db, people):
    template = _template(db, people)
    managed = email_template.update_template(
        db, actor=people.mona, template_id=template.id, data={"name": "Welcome aboard"}
    )
    assert managed.name == "Welcome aboard" and managed.version == 2
    with pytest.raises(Forbidden):
        email_template.create_template(
            db, actor=people.bob, data={"name": "x", "entity": "contact", "subject": "s"}
        )
    names = [t.name for t in email_template.list_templates(db, actor=people.bob)]
    assert names == ["Welcome aboard"]
    email_template.delete_template(db, actor=people.alice, template_id=template.id)
    assert email_template.list_templates(db, actor=people.bob) == []


def test_the_record_picker_finds_only_matching_records(db, people):
    make_contact(db, owner=people.bob, first_name="Zebulon", last_name="Quux")
    make_contact(db, owner=people.bob, first_name="Other", last_name="Person")
    found = email_template.search_records(db, actor=people.vic, entity="contact", q="zebulon")
    assert [label for _, label in found] == ["Zebulon Quux"]


@pytest.mark.parametrize("entity", ["lead", "deal"])
def test_an_id_beyond_an_integer_key_is_not_found(db, people, entity):
    from crm_app.services.errors import NotFound

    with pytest.raises(NotFound):
        email_template.preview(
            db, actor=people.bob, entity=entity, subject="s", body="", record_id=2**40
        )
