"""Web-to-lead: forms managed by admins, public submissions validated, bots caught, floods
rate-limited, and leads created with the form's source, the team's next rep and a score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crm_app.models import Lead, LeadForm
from crm_app.models.lead_form import LeadFormSubmission
from crm_app.services import lead_assignment, lead_form
from crm_app.services.errors import Forbidden, NotFound, ValidationFailed
from crm_app.services.lead_form import RateLimited
from tests.factories import make_scoring_rule

FIELDS = [
    {"name": "first_name", "required": True},
    {"name": "last_name"},
    {"name": "email", "label": "Work e-mail", "required": True},
    {"name": "phone"},
    {"name": "company_name"},
]
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"}


@pytest.fixture
def form(db, people) -> LeadForm:
    return lead_form.create_form(
        db,
        actor=people.alice,
        data={
            "name": "Contact us",
            "fields": FIELDS,
            "source": "Web form",
            "team_id": people.east.id,
        },
    )


def submit(db, form, data, ip="203.0.113.7"):
    return lead_form.submit_form(db, form.key, data, ip)


def lead_count(db) -> int:
    return len(db.exec(select(Lead)).all())


def errors_of(caught) -> dict[str, str]:
    return {e.field: e.message for e in caught.value.errors}


# ---- forms ----------------------------------------------------------------------------------


def test_a_form_gets_a_random_key_and_labels_for_its_fields(db, people, form):
    other = lead_form.create_form(
        db, actor=people.alice, data={"name": "Other", "fields": [{"name": "email"}]}
    )
    assert len(form.key) >= 22 and form.key != other.key
    assert form.fields[2] == {"name": "email", "label": "Work e-mail", "required": True}
    assert form.fields[1] == {"name": "last_name", "label": "Last name", "required": False}
    assert (form.source, form.team_id, form.is_active) == ("Web form", people.east.id, True)


def test_only_admins_manage_forms(db, people, form):
    data = {"name": "F", "fields": [{"name": "email"}]}
    with pytest.raises(Forbidden):
        lead_form.create_form(db, actor=people.mona, data=data)
    with pytest.raises(Forbidden):
        lead_form.update_form(db, actor=people.bob, form_id=form.id, data={"name": "X"})
    with pytest.raises(Forbidden):
        lead_form.list_forms(db, actor=people.mona)
    with pytest.raises(Forbidden):
        lead_form.deactivate_form(db, actor=people.bob, form_id=form.id)


def test_form_definitions_are_validated_with_an_error_per_field(db, people):
    with pytest.raises(ValidationFailed) as caught:
        lead_form.create_form(
            db,
            actor=people.alice,
            data={
                "name": "",
                "fields": [{"name": "email"}, {"name": "password_hash"}, {"name": "email"}],
                "source": "Billboard",
                "team_id": 10**6,
                "key": "mine",
            },
        )
    assert set(errors_of(caught)) == {
        "name",
        "fields.1.name",
        "fields.2.name",
        "source",
        "team_id",
        "key",
    }


def test_a_form_must_ask_for_a_name_an_email_or_a_company(db, people):
    with pytest.raises(ValidationFailed) as caught:
        lead_form.create_form(
            db, actor=people.alice, data={"name": "F", "fields": [{"name": "phone"}]}
        )
    assert set(errors_of(caught)) == {"fields"}
    with pytest.raises(ValidationFailed):
        lead_form.create_form(db, actor=people.alice, data={"name": "F", "fields": []})


def test_a_form_can_be_edited_and_deactivated(db, people, form):
    lead_form.update_form(
        db, actor=people.alice, form_id=form.id, data={"name": "Demo request"}, version=1
    )
    assert (form.name, form.version) == ("Demo request", 2)
    lead_form.deactivate_form(db, actor=people.alice, form_id=form.id)
    with pytest.raises(NotFound):
        lead_form.get_public_form(db, form.key)
    with pytest.raises(NotFound):
        submit(db, form, ADA)
    assert [f.id for f in lead_form.list_forms(db, actor=people.alice)] == [form.id]


def test_the_public_form_shows_its_name_and_fields(db, form):
    public = lead_form.get_public_form(db, form.key)
    assert public.name == "Contact us"
    assert [(f.name, f.label, f.required) for f in public.fields][:3] == [
        ("first_name", "First name", True),
        ("last_name", "Last name", False),
        ("email", "Work e-mail", True),
    ]
    with pytest.raises(NotFound):
        lead_form.get_public_form(db, "not-a-key")


# ---- submissions ----------------------------------------------------------------------------


def test_a_submission_creates_a_normalised_lead_with_the_forms_source(db, people, form):
    lead = submit(db, form, {**ADA, "phone": "(415) 555-0100", "company_name": "Engines"})
    assert (lead.first_name, lead.email, lead.phone) == ("Ada", "ada@example.com", "+14155550100")
    assert (lead.source, lead.status, lead.created_by) == ("Web form", "new", None)


def test_the_lead_goes_to_the_next_rep_of_the_forms_team(db, people, form):
    owners = [submit(db, form, {**ADA, "email": f"p{i}@example.com"}).owner_id for i in range(3)]
    assert owners == [people.bob.id, people.carol.id, people.bob.id]


def test_a_form_without_a_team_uses_the_workspace_assignment_team(db, people):
    lead_assignment.set_assignment_team(db, actor=people.alice, team_id=people.west.id)
    form = lead_form.create_form(
        db, actor=people.alice, data={"name": "F", "fields": [{"name": "email"}]}
    )
    assert submit(db, form, {"email": "a@b.com"}).owner_id == people.dave.id


def test_the_lead_is_scored(db, people, form):
    make_scoring_rule(
        db, condition={"kind": "equals", "field": "source", "value": "Web form"}, points=35
    )
    assert submit(db, form, ADA).score == 35


def test_the_submission_is_audited_as_the_form(db, people, form):
    from crm_app.services.audit import list_events

    lead = submit(db, form, ADA)
    event = list_events(db, actor=people.alice, entity="lead", entity_id=lead.id).rows[0]
    assert (event.action, event.actor) == ("create", "Web form: Contact us")
    assert event.ip == "203.0.113.7"


def test_invalid_input_gets_an_error_per_field_and_creates_nothing(db, form):
    with pytest.raises(ValidationFailed) as caught:
        submit(db, form, {"first_name": " ", "email": "not-an-email", "phone": "12"})
    errors = errors_of(caught)
    assert errors["first_name"] == "This field is required."
    assert "valid e-mail" in errors["email"]
    assert set(errors) == {"first_name", "email", "phone"}
    assert lead_count(db) == 0


def test_values_must_be_text_and_not_too_long(db, form):
    with pytest.raises(ValidationFailed) as caught:
        submit(db, form, {**ADA, "last_name": ["x"], "company_name": "x" * 5000})
    assert set(errors_of(caught)) == {"last_name", "company_name"}


def test_fields_not_on_the_form_are_ignored(db, form):
    lead = submit(db, form, {**ADA, "title": "CEO", "owner_id": 1, "score": 100})
    assert (lead.title, lead.score) == (None, 0)


def test_an_optional_only_form_still_needs_something_identifying(db, people):
    form = lead_form.create_form(
        db,
        actor=people.alice,
        data={"name": "F", "fields": [{"name": "email"}, {"name": "phone"}]},
    )
    with pytest.raises(ValidationFailed) as caught:
        submit(db, form, {"phone": "+14155550100"})
    assert errors_of(caught) == {"email": "Fill in your name, e-mail or company."}


def test_repeated_submissions_are_new_inquiries_not_duplicates(db, form):
    first, second = submit(db, form, ADA), submit(db, form, ADA)
    assert first.id != second.id


def test_a_filled_honeypot_pretends_success_but_creates_nothing(db, form):
    assert submit(db, form, {**ADA, lead_form.HONEYPOT_FIELD: "http://spam.example"}) is None
    assert lead_count(db) == 0


def test_an_unknown_key_is_not_found(db, form):
    with pytest.raises(NotFound):
        lead_form.submit_form(db, form.key + "x", ADA, "203.0.113.7")


# ---- the rate limit -------------------------------------------------------------------------


def test_the_eleventh_submission_in_a_minute_from_one_address_is_refused(db, form):
    for i in range(lead_form.RATE_LIMIT):
        submit(db, form, {**ADA, "email": f"p{i}@example.com"})
    with pytest.raises(RateLimited) as caught:
        submit(db, form, ADA)
    assert 1 <= caught.value.retry_after_seconds <= 60
    assert lead_count(db) == lead_form.RATE_LIMIT
    # another address is counted on its own
    assert submit(db, form, ADA, ip="198.51.100.1") is not None


def test_honeypot_catches_count_towards_the_limit(db, form):
    for _ in range(lead_form.RATE_LIMIT):
        submit(db, form, {**ADA, lead_form.HONEYPOT_FIELD: "x"})
    with pytest.raises(RateLimited):
        submit(db, form, ADA)


def test_submissions_older_than_the_window_no_longer_count(db, form):
    for i in range(lead_form.RATE_LIMIT):
        submit(db, form, {**ADA, "email": f"p{i}@example.com"})
    for row in db.exec(select(LeadFormSubmission)).all():
        row.at -= lead_form.RATE_WINDOW + timedelta(seconds=1)
    db.flush()
    assert submit(db, form, ADA) is not None
    assert len(db.exec(select(LeadFormSubmission)).all()) == 1  # the old ones were forgotten


def test_the_hourly_purge_forgets_old_submissions_of_every_address(db, form):
    submit(db, form, ADA)
    submit(db, form, ADA, ip="198.51.100.1")
    for row in db.exec(select(LeadFormSubmission)).all():
        row.at -= timedelta(hours=1)
    db.flush()
    assert lead_form.purge_submissions(db) == 2
