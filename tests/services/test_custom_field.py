"""Custom field definitions (admins only), the values they validate, and the list filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from crm_app.models import AuditEvent, Contact
from crm_app.services import custom_field as cf
from crm_app.services import custom_value as cv
from crm_app.services.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from tests.factories import make_contact, make_custom_field


def _errors(error: pytest.ExceptionInfo) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


def _clean(db, values, *, partial=False, entity="contact"):
    return cv.clean_values(db, entity=entity, values=values, partial=partial)


# ---- definitions ---------------------------------------------------------------------------


def test_the_key_is_a_slug_of_the_label(db, people):
    field = make_custom_field(db, people, "  Renewal   Date (UTC)! ", "date")
    assert field.key == "renewal_date_utc"
    assert field.label == "Renewal Date (UTC)!"
    assert make_custom_field(db, people, "Straße № 1", "text").key == "strasse_no_1"
    assert make_custom_field(db, people, "2nd phone", "text").key == "field_2nd_phone"


def test_keys_get_a_suffix_when_taken_even_by_a_deleted_field(db, people):
    first = make_custom_field(db, people, "Tier", "text")
    second = make_custom_field(db, people, "Tier!", "text")
    assert (first.key, second.key) == ("tier", "tier_2")
    cf.delete_field(db, actor=people.alice, field_id=first.id)
    assert make_custom_field(db, people, "Tier", "text").key == "tier_3"


def test_keys_never_take_a_built_in_column_name(db, people):
    assert make_custom_field(db, people, "Email", "text").key == "email_2"
    assert make_custom_field(db, people, "Owner", "text").key == "owner_2"
    assert make_custom_field(db, people, "Lifecycle stage", "text").key == "lifecycle_stage_2"
    # the same label is free on an entity without such a column
    assert (
        make_custom_field(db, people, "Lifecycle stage", "text", entity="deal").key
        == "lifecycle_stage"
    )
    assert make_custom_field(db, people, "Amount", "money", entity="deal").key == "amount_2"


def test_a_label_is_needed_and_unique_per_entity(db, people):
    make_custom_field(db, people, "Tier", "text")
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "tier", "number")
    assert _errors(error) == {"label": "Contacts already have this field."}
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "   ", "bogus")
    assert _errors(error) == {"label": "Enter a label.", "field_type": "Pick a type."}
    assert make_custom_field(db, people, "Tier", "text", entity="account").key == "tier"


def test_select_types_need_unique_options(db, people):
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "Tier", "select", ["", "  "])
    assert _errors(error) == {"options": "Enter at least one option, one per line."}
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "Tier", "select", ["Gold", "gold "])
    assert _errors(error) == {"options": "“gold” is listed twice."}
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "Tags2", "multi_select", ["A, B"])
    assert "cannot contain commas" in _errors(error)["options"]
    field = make_custom_field(db, people, "Tier", "select", [" Gold ", "", "Silver"])
    assert field.options == ["Gold", "Silver"]
    assert make_custom_field(db, people, "Notes", "long_text", ["ignored"]).options == []


def test_a_checkbox_cannot_be_required(db, people):
    with pytest.raises(ValidationFailed) as error:
        make_custom_field(db, people, "VIP", "checkbox", required=True)
    assert "cannot be required" in _errors(error)["required"]


def test_only_admins_change_definitions_but_everyone_lists_them(db, people):
    field = make_custom_field(db, people, "Tier", "text")
    for person in (people.mona, people.bob, people.vic):
        with pytest.raises(Forbidden):
            cf.create_field(db, actor=person, entity="contact", label="X", field_type="text")
        with pytest.raises(Forbidden):
            cf.update_field(db, actor=person, field_id=field.id, label="Level")
        with pytest.raises(Forbidden):
            cf.delete_field(db, actor=person, field_id=field.id)
        with pytest.raises(Forbidden):
            cf.reorder(db, actor=person, entity="contact", field_ids=[field.id])
    assert [f.key for f in cf.list_fields(db, entity="contact")] == ["tier"]


def test_unknown_entities_are_refused(db, people):
    with pytest.raises(ValidationFailed):
        cf.list_fields(db, entity="user")
    with pytest.raises(ValidationFailed):
        make_custom_field(db, people, "X", "text", entity="users")


def test_update_changes_label_options_and_required_but_never_key_or_type(db, people):
    field = make_custom_field(db, people, "Tier", "select", ["Gold", "Silver"])
    cf.update_field(
        db,
        actor=people.alice,
        field_id=field.id,
        label="Level",
        options=["Gold", "Silver", "Bronze"],
        required=True,
        version=field.version,
    )
    assert (field.key, field.field_type, field.label) == ("tier", "select", "Level")
    assert field.options == ["Gold", "Silver", "Bronze"] and field.required
    assert field.version == 2
    with pytest.raises(StaleVersion):
        cf.update_field(db, actor=people.alice, field_id=field.id, label="Tier", version=1)


def test_removing_an_option_in_use_is_refused_with_the_count(db, people):
    field = make_custom_field(db, people, "Tier", "select", ["Gold", "Silver", "Bronze"])
    make_contact(db, owner=people.bob, custom={"tier": "Gold"})
    make_contact(db, owner=people.bob, custom={"tier": "Gold"})
    trashed = make_contact(db, owner=people.bob, custom={"tier": "Silver"})
    trashed.deleted_at = trashed.created_at
    with pytest.raises(ValidationFailed) as error:
        cf.update_field(db, actor=people.alice, field_id=field.id, options=["Silver", "Bronze"])
    assert _errors(error) == {"options": "“Gold” is used by 2 contacts. Change their Tier first."}
    # unused options (and those only records in the trash hold) can go
    cf.update_field(db, actor=people.alice, field_id=field.id, options=["Gold"])
    assert field.options == ["Gold"]


def test_removing_a_multi_select_option_in_use_is_refused(db, people):
    field = make_custom_field(db, people, "Interests", "multi_select", ["Golf", "Chess"])
    make_contact(db, owner=people.bob, custom={"interests": ["Golf", "Chess"]})
    with pytest.raises(ValidationFailed) as error:
        cf.update_field(db, actor=people.alice, field_id=field.id, options=["Golf"])
    assert _errors(error)["options"].startswith("“Chess” is used by 1 contact.")


def test_delete_keeps_values_and_restore_brings_the_field_back(db, people):
    field = make_custom_field(db, people, "Tier", "select", ["Gold"])
    contact = make_contact(db, owner=people.bob, custom={"tier": "Gold"})
    cf.delete_field(db, actor=people.alice, field_id=field.id)
    assert cf.list_fields(db, entity="contact") == []
    assert [f.id for f in cf.list_deleted(db, entity="contact")] == [field.id]
    db.refresh(contact)
    assert contact.custom == {"tier": "Gold"}
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"tier": "Gold"})
    assert _errors(error) == {"custom.tier": "There is no custom field “tier”."}
    with pytest.raises(NotFound):
        cf.delete_field(db, actor=people.alice, field_id=field.id)

    cf.restore_field(db, actor=people.alice, field_id=field.id)
    assert [f.key for f in cf.list_fields(db, entity="contact")] == ["tier"]
    assert _clean(db, {"tier": "gold"}) == {"tier": "Gold"}


def test_restore_is_refused_when_another_field_took_the_label(db, people):
    field = make_custom_field(db, people, "Tier", "text")
    cf.delete_field(db, actor=people.alice, field_id=field.id)
    make_custom_field(db, people, "Tier", "number")
    with pytest.raises(ValidationFailed) as error:
        cf.restore_field(db, actor=people.alice, field_id=field.id)
    assert "rename it first" in _errors(error)["label"]


def test_fields_are_listed_in_order_and_can_be_moved(db, people):
    a, b, c = (make_custom_field(db, people, label, "text") for label in ("A", "B", "C"))
    assert [f.key for f in cf.list_fields(db, entity="contact")] == ["a", "b", "c"]
    cf.move_field(db, actor=people.alice, field_id=c.id, offset=-1)
    assert [f.key for f in cf.list_fields(db, entity="contact")] == ["a", "c", "b"]
    cf.reorder(db, actor=people.alice, entity="contact", field_ids=[b.id, a.id, c.id])
    assert [f.key for f in cf.list_fields(db, entity="contact")] == ["b", "a", "c"]
    with pytest.raises(ValidationFailed):
        cf.reorder(db, actor=people.alice, entity="contact", field_ids=[a.id, b.id])
    assert [f.key for f in cf.list_all(db)["contact"]] == ["b", "a", "c"]
    assert cf.list_all(db)["deal"] == []


def test_every_change_is_audited(db, people):
    field = make_custom_field(db, people, "Tier", "text")
    cf.update_field(db, actor=people.alice, field_id=field.id, label="Level")
    cf.delete_field(db, actor=people.alice, field_id=field.id)
    cf.restore_field(db, actor=people.alice, field_id=field.id)
    events = db.exec(
        select(AuditEvent).where(AuditEvent.entity == "custom_field").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update", "delete", "restore"]
    assert events[0].changes["key"] == [None, "tier"]
    assert events[1].changes == {"label": ["Tier", "Level"]}
    assert {e.actor_id for e in events} == {people.alice.id}


# ---- values --------------------------------------------------------------------------------


def test_values_are_cleaned_per_type(db, people):
    make_custom_field(db, people, "Nickname", "text")
    make_custom_field(db, people, "Bio", "long_text")
    make_custom_field(db, people, "Seats", "number")
    make_custom_field(db, people, "Budget", "money")
    make_custom_field(db, people, "Renewal", "date")
    make_custom_field(db, people, "Tier", "select", ["Gold", "Silver"])
    make_custom_field(db, people, "Interests", "multi_select", ["Golf", "Chess", "Go"])
    make_custom_field(db, people, "VIP", "checkbox")
    make_custom_field(db, people, "Site", "url")
    cleaned = _clean(
        db,
        {
            "nickname": "  Bobby ",
            "bio": "Line one\nLine two",
            "seats": "12",
            "budget": "1250.5",
            "renewal": date(2026, 3, 31),
            "tier": "silver",
            "interests": ["Go", "golf", "Golf"],
            "vip": "yes",
            "site": "acme.com/about",
        },
    )
    assert cleaned == {
        "nickname": "Bobby",
        "bio": "Line one\nLine two",
        "seats": 12,
        "budget": "1250.50",
        "renewal": "2026-03-31",
        "tier": "Silver",
        "interests": ["Golf", "Go"],
        "vip": True,
        "site": "https://acme.com/about",
    }


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (3.5, 3.5),
        ("-2.25", -2.25),
        (Decimal("7.0"), 7),
        (10, 10),
        ("1e3", 1000),
    ],
)
def test_numbers_are_stored_as_json_numbers(db, people, raw, stored):
    make_custom_field(db, people, "Seats", "number")
    value = _clean(db, {"seats": raw})["seats"]
    assert value == stored and type(value) is type(stored)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("19.99", "19.99"),
        (19.99, "19.99"),
        (Decimal("5"), "5.00"),
        (1000000, "1000000.00"),
        ("-0", "0.00"),
        ("-12.3", "-12.30"),
    ],
)
def test_money_is_a_decimal_string_with_two_places_never_a_float(db, people, raw, stored):
    make_custom_field(db, people, "Budget", "money")
    assert _clean(db, {"budget": raw}) == {"budget": stored}


@pytest.mark.parametrize(
    ("field_type", "options", "raw", "message"),
    [
        ("text", None, "x" * 1001, "Use at most 1,000 characters."),
        ("text", None, {"a": 1}, "Enter text."),
        ("long_text", None, "x" * 20_001, "Use at most 20,000 characters."),
        ("number", None, "twelve", "Enter a number, like 42 or 3.5."),
        ("number", None, "NaN", "Enter a number, like 42 or 3.5."),
        ("number", None, True, "Enter a number, like 42 or 3.5."),
        ("number", None, "1e20", "Enter a number below a million billion."),
        ("money", None, "12.345", "Use at most 2 decimal places."),
        ("money", None, "$12", "Enter an amount, like 1250 or 1250.50."),
        ("money", None, 0.1 + 0.2, "Use at most 2 decimal places."),
        ("date", None, "31/03/2026", "Enter a date as YYYY-MM-DD, like 2026-03-31."),
        ("date", None, "2026-02-30", "Enter a date as YYYY-MM-DD, like 2026-03-31."),
        ("select", ["Gold", "Silver"], "Bronze", "Pick one of: Gold, Silver."),
        ("multi_select", ["Golf", "Go"], ["Go", "Chess"], "“Chess”: not an option."),
        ("multi_select", ["Golf", "Go"], 5, "Pick any of: Golf, Go."),
        ("checkbox", None, "maybe", "Use yes or no."),
        ("url", None, "javascript:alert(1)", "Enter a web address, like https://example.com."),
        ("url", None, "ftp://files.acme.com", "Enter a web address, like https://example.com."),
        ("url", None, "https://", "Enter a web address, like https://example.com."),
        ("url", None, "not a url", "Enter a web address, like https://example.com."),
        ("url", None, "https://user:pw@acme.com", "Enter a web address, like https://example.com."),
    ],
)
def test_bad_values_get_a_message_a_person_understands(
    db, people, field_type, options, raw, message
):
    make_custom_field(db, people, "Thing", field_type, options)
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"thing": raw})
    assert _errors(error)["custom.thing"].startswith(message)


def test_checkbox_accepts_words_and_keeps_false(db, people):
    make_custom_field(db, people, "VIP", "checkbox")
    for raw, stored in [("true", True), ("No", False), ("1", True), ("0", False), (False, False)]:
        assert _clean(db, {"vip": raw}) == {"vip": stored}


def test_all_bad_fields_and_unknown_keys_are_reported_at_once(db, people):
    make_custom_field(db, people, "Seats", "number")
    make_custom_field(db, people, "Tier", "select", ["Gold", "Silver"])
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"seats": "many", "tier": "Bronze", "shoe_size": 44})
    assert _errors(error) == {
        "custom.seats": "Enter a number, like 42 or 3.5.",
        "custom.tier": "Pick one of: Gold, Silver.",
        "custom.shoe_size": "There is no custom field “shoe_size”.",
    }


def test_empty_values_are_dropped_on_create_and_clear_on_partial_update(db, people):
    make_custom_field(db, people, "Nickname", "text")
    make_custom_field(db, people, "Interests", "multi_select", ["Golf"])
    assert _clean(db, {"nickname": " ", "interests": []}) == {}
    patch = _clean(db, {"nickname": "", "interests": None}, partial=True)
    assert patch == {"nickname": None, "interests": None}
    current = {"nickname": "Bobby", "interests": ["Golf"], "old_key": 1}
    assert cv.merge_values(current, patch) == {"old_key": 1}
    assert cv.merge_values(current, _clean(db, {"nickname": "Rob"}, partial=True)) == {
        "nickname": "Rob",
        "interests": ["Golf"],
        "old_key": 1,
    }


def test_required_fields_are_needed_on_create_and_cannot_be_cleared(db, people):
    make_custom_field(db, people, "Tier", "select", ["Gold"], required=True)
    make_custom_field(db, people, "Nickname", "text")
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"nickname": "Bobby"})
    assert _errors(error) == {"custom.tier": "Tier is required."}
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"tier": ""})
    assert _errors(error) == {"custom.tier": "Tier is required."}
    # a partial update may leave it out, but not clear it
    assert _clean(db, {"nickname": "Bobby"}, partial=True) == {"nickname": "Bobby"}
    with pytest.raises(ValidationFailed) as error:
        _clean(db, {"tier": None}, partial=True)
    assert _errors(error) == {"custom.tier": "Tier is required."}


def test_values_belong_to_their_entity(db, people):
    make_custom_field(db, people, "Tier", "text", entity="account")
    assert _clean(db, {"tier": "A"}, entity="account") == {"tier": "A"}
    with pytest.raises(ValidationFailed):
        _clean(db, {"tier": "A"}, entity="contact")


def test_a_non_object_is_refused(db, people):
    with pytest.raises(ValidationFailed) as error:
        cv.clean_values(db, entity="contact", values=["tier"], partial=False)  # type: ignore[arg-type]
    assert _errors(error) == {"custom": "Custom fields must be an object."}


def test_display_values(db, people):
    money = make_custom_field(db, people, "Budget", "money")
    number = make_custom_field(db, people, "Seats", "number")
    box = make_custom_field(db, people, "VIP", "checkbox")
    multi = make_custom_field(db, people, "Interests", "multi_select", ["Golf", "Go"])
    assert cv.display_value(money, "1250.5") == "1250.50"
    assert cv.display_value(number, 100) == "100"
    assert cv.display_value(number, 2.5) == "2.5"
    assert (cv.display_value(box, True), cv.display_value(box, False)) == ("Yes", "No")
    assert cv.display_value(multi, ["Golf", "Go"]) == "Golf, Go"
    assert cv.display_value(money, None) == ""
    assert cv.display_value(money, "oops") == "oops"


# ---- filters -------------------------------------------------------------------------------


@pytest.fixture
def crowd(db, people):
    """Three contacts with custom values, and the definitions by key."""
    fields = [
        make_custom_field(db, people, "Nickname", "text"),
        make_custom_field(db, people, "Seats", "number"),
        make_custom_field(db, people, "Budget", "money"),
        make_custom_field(db, people, "Renewal", "date"),
        make_custom_field(db, people, "Tier", "select", ["Gold", "Silver"]),
        make_custom_field(db, people, "Interests", "multi_select", ["Golf", "Chess", "Go"]),
        make_custom_field(db, people, "VIP", "checkbox"),
        make_custom_field(db, people, "Site", "url"),
    ]
    rows = {
        "ann": {
            "nickname": "Annie_100%",
            "seats": 5,
            "budget": "900.00",
            "renewal": "2026-01-15",
            "tier": "Gold",
            "interests": ["Golf", "Chess"],
            "vip": True,
            "site": "https://ann.example.com",
        },
        "ben": {
            "nickname": "Benny",
            "seats": 12.5,
            "budget": "15000.50",
            "renewal": "2026-06-01",
            "tier": "Silver",
            "interests": ["Go"],
            "vip": False,
        },
        "cy": {"seats": "not a number", "budget": "n/a"},  # written around the validator
    }
    for name, custom in rows.items():
        make_contact(db, owner=people.bob, first_name=name, custom=custom)
    return {f.key: f for f in fields}


def _matching(db, crowd, key, op, value) -> list[str]:
    clause = cv.filter_clause(Contact, crowd[key], op, value)
    query = select(Contact.first_name).where(clause, Contact.first_name.in_(["ann", "ben", "cy"]))
    return sorted(db.exec(query).all())


@pytest.mark.parametrize(
    ("key", "op", "value", "expected"),
    [
        ("nickname", "contains", "NNI", ["ann"]),
        ("nickname", "contains", "_100%", ["ann"]),
        ("nickname", "contains", "%", ["ann"]),
        ("nickname", "eq", "benny", ["ben"]),
        ("site", "contains", "ann.example", ["ann"]),
        ("seats", "eq", "5.0", ["ann"]),
        ("seats", "gt", "6", ["ben"]),
        ("seats", "lt", "100", ["ann", "ben"]),
        ("seats", "lte", "5", ["ann"]),
        ("budget", "eq", "900", ["ann"]),
        ("budget", "gt", "1000", ["ben"]),
        ("budget", "lt", "15000.50", ["ann"]),
        ("budget", "gte", "15000.50", ["ben"]),
        ("renewal", "eq", "2026-06-01", ["ben"]),
        ("renewal", "lt", "2026-03-01", ["ann"]),
        ("renewal", "gt", "2025-12-31", ["ann", "ben"]),
        ("tier", "eq", "gold", ["ann"]),
        ("interests", "has", "Chess", ["ann"]),
        ("interests", "has", "Golf, Chess", ["ann"]),
        ("interests", "eq", "go", ["ben"]),
        ("vip", "is", "yes", ["ann"]),
        ("vip", "is", "no", ["ben", "cy"]),
    ],
)
def test_filter_clause_against_real_rows(db, crowd, key, op, value, expected):
    assert _matching(db, crowd, key, op, value) == expected


@pytest.mark.parametrize(
    ("key", "op", "value", "message"),
    [
        ("tier", "contains", "Go", "Filter Tier with: eq."),
        ("nickname", "gt", "a", "Filter Nickname with: contains, eq."),
        ("seats", "gt", "lots", "Enter a number, like 42 or 3.5."),
        ("renewal", "lt", "soon", "Enter a date as YYYY-MM-DD, like 2026-03-31."),
        ("tier", "eq", "Bronze", "Pick one of: Gold, Silver."),
        ("vip", "is", "perhaps", "Use yes or no."),
        ("nickname", "contains", " ", "Enter 1 to 200 characters to look for."),
    ],
)
def test_filter_clause_refuses_bad_ops_and_values(db, crowd, key, op, value, message):
    with pytest.raises(ValidationFailed) as error:
        cv.filter_clause(Contact, crowd[key], op, value)
    assert _errors(error) == {f"custom.{key}": message}


def test_equality_filters_use_jsonb_containment_for_the_gin_index(crowd):
    from sqlalchemy.dialects import postgresql

    for key, op, value in [
        ("tier", "eq", "Gold"),
        ("interests", "has", "Go"),
        ("seats", "eq", "5"),
    ]:
        sql = str(
            cv.filter_clause(Contact, crowd[key], op, value).compile(dialect=postgresql.dialect())
        )
        assert "@>" in sql
