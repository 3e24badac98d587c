"""Saved views: private or shared, validated like the list they save, changed by their owner."""

from __future__ import annotations

import pytest

from crm_app.services import audit
from crm_app.services import saved_view as views
from crm_app.services.errors import Forbidden, NotFound, ValidationFailed


def save(db, actor, name="My hot leads", entity="contact", **fields):
    return views.create_view(db, actor=actor, entity=entity, name=name, **fields)


def test_a_view_keeps_the_lists_filters_sort_and_columns(db, people):
    view = save(
        db,
        people.bob,
        filters={"tag": "hot", "owner_id": "me", "lifecycle_stage": "lead", "title": ""},
        sort="-updated_at",
        columns=["name", "email", "tags"],
    )
    assert (view.entity, view.owner_id, view.is_shared) == ("contact", people.bob.id, False)
    assert view.filters == {"tag": "hot", "owner_id": "me", "lifecycle_stage": "lead"}
    assert (view.sort, view.columns) == ("-updated_at", ["name", "email", "tags"])
    assert audit.count_events(db, action="create", entity="saved_view") == 1


def test_without_columns_a_view_shows_the_default_ones(db, people):
    view = save(db, people.bob, entity="account", name="All companies")
    assert view.columns == views.default_columns("account")


def test_private_views_are_their_owners_and_shared_ones_everyones(db, people):
    private = save(db, people.bob, name="Bob's")
    shared = save(db, people.carol, name="Team list", is_shared=True)
    other_entity = save(db, people.carol, name="Companies", entity="account", is_shared=True)
    assert [v.id for v in views.list_views(db, actor=people.bob, entity="contact")] == [
        private.id,
        shared.id,
    ]
    assert [v.id for v in views.list_views(db, actor=people.dave)] == [
        other_entity.id,
        shared.id,
    ]
    with pytest.raises(NotFound):
        views.get_view(db, actor=people.dave, view_id=private.id)
    with pytest.raises(NotFound):
        views.get_view(db, actor=people.dave, view_id=10**12)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"filters": {"colour": "red"}}, "filters.colour"),
        ({"filters": {"lifecycle_stage": "vip"}}, "filters.lifecycle_stage"),
        ({"filters": {"created_from": "yesterday"}}, "filters.created_from"),
        ({"filters": {"custom.nope": "1"}}, "filters.custom.nope"),
        ({"sort": "shoe_size"}, "sort"),
        ({"columns": ["name", "shoe_size"]}, "columns"),
        ({"columns": []}, "columns"),
    ],
)
def test_bad_views_are_refused_naming_the_field(db, people, fields, field):
    data = {"name": "A view", **fields}
    with pytest.raises(ValidationFailed) as caught:
        views.create_view(db, actor=people.bob, entity="contact", **data)
    assert field in {e.field for e in caught.value.errors}


def test_company_filters_are_checked_against_the_company_list(db, people):
    view = save(db, people.bob, entity="account", filters={"industry": "Retail", "size": "11-50"})
    assert view.filters["industry"] == "Retail"
    with pytest.raises(ValidationFailed):
        save(db, people.bob, entity="account", filters={"lifecycle_stage": "lead"})


def test_owner_renames_and_shares_their_view_and_the_change_is_audited(db, people):
    view = save(db, people.bob)
    changed = views.update_view(
        db, actor=people.bob, view_id=view.id, data={"name": "Renamed", "is_shared": True}
    )
    assert (changed.name, changed.is_shared, changed.version) == ("Renamed", True, 2)
    assert audit.count_events(db, action="update", entity="saved_view") == 1


def test_only_the_owner_or_an_admin_changes_a_shared_view(db, people):
    view = save(db, people.bob, is_shared=True)
    for someone in (people.carol, people.mona):
        with pytest.raises(Forbidden):
            views.update_view(db, actor=someone, view_id=view.id, data={"name": "Mine now"})
        with pytest.raises(Forbidden):
            views.delete_view(db, actor=someone, view_id=view.id)
    views.update_view(db, actor=people.alice, view_id=view.id, data={"sort": "email"})
    views.delete_view(db, actor=people.alice, view_id=view.id)
    assert views.list_views(db, actor=people.bob) == []
    assert audit.count_events(db, action="delete", entity="saved_view") == 1


def test_an_admin_cannot_touch_someone_elses_private_view(db, people):
    view = save(db, people.bob)
    with pytest.raises(NotFound):
        views.delete_view(db, actor=people.alice, view_id=view.id)


def test_unknown_fields_cannot_be_updated(db, people):
    view = save(db, people.bob)
    with pytest.raises(ValidationFailed):
        views.update_view(db, actor=people.bob, view_id=view.id, data={"owner_id": 1})


def test_viewer_may_save_a_private_view_of_what_they_can_read(db, people):
    assert save(db, people.vic).owner_id == people.vic.id


def test_a_view_of_an_unknown_list_is_refused(db, people):
    with pytest.raises(ValidationFailed):
        save(db, people.bob, entity="activity")


def test_a_deal_view_keeps_deal_filters_and_refuses_bad_ones(db, people):
    view = save(
        db,
        people.bob,
        name="Big open deals",
        entity="deal",
        filters={"status": "open", "amount_min": "1000", "expected_close_to": "2026-06-30"},
        sort="-weighted",
        columns=["name", "stage", "weighted"],
    )
    assert view.filters["status"] == "open" and view.sort == "-weighted"
    with pytest.raises(ValidationFailed) as caught:
        save(db, people.bob, entity="deal", filters={"status": "maybe", "amount_min": "lots"})
    assert {e.field for e in caught.value.errors} == {"filters.status", "filters.amount_min"}


def test_columns_include_custom_fields(db, people):
    from crm_app.models import CustomFieldDefinition

    db.add(CustomFieldDefinition(entity="contact", key="region", label="Region", field_type="text"))
    db.flush()
    keys = [c.key for c in views.list_columns(db, entity="contact")]
    assert keys[0] == "name" and keys[-1] == "custom.region"
    view = save(db, people.bob, columns=["name", "custom.region"])
    assert view.columns == ["name", "custom.region"]
