"""API keys: shown once, stored hashed, revocable."""

from __future__ import annotations

import pytest

from crm_app.services import api_key
from crm_app.services.errors import NotFound, ValidationFailed


def test_a_created_key_authenticates_as_its_owner(db, people):
    created = api_key.create_key(db, actor=people.bob, name="Zapier")
    assert created.plaintext.startswith("crm_")
    assert created.plaintext not in created.key.key_hash
    assert api_key.authenticate_key(db, created.plaintext).id == people.bob.id


def test_a_revoked_key_no_longer_authenticates(db, people):
    created = api_key.create_key(db, actor=people.bob, name="Zapier")
    api_key.revoke_key(db, actor=people.bob, key_id=created.key.id)
    assert api_key.authenticate_key(db, created.plaintext) is None


def test_a_key_of_a_deactivated_user_no_longer_authenticates(db, people):
    created = api_key.create_key(db, actor=people.bob, name="Zapier")
    people.bob.is_active = False
    db.flush()
    assert api_key.authenticate_key(db, created.plaintext) is None


def test_users_see_and_revoke_only_their_own_keys_admins_all(db, people):
    bobs = api_key.create_key(db, actor=people.bob, name="Bob's")
    api_key.create_key(db, actor=people.carol, name="Carol's")
    assert [k.name for k in api_key.list_keys(db, actor=people.bob)] == ["Bob's"]
    assert {k.name for k in api_key.list_keys(db, actor=people.alice)} == {"Bob's", "Carol's"}
    with pytest.raises(NotFound):
        api_key.revoke_key(db, actor=people.carol, key_id=bobs.key.id)
    api_key.revoke_key(db, actor=people.alice, key_id=bobs.key.id)


def test_a_key_needs_a_name(db, people):
    with pytest.raises(ValidationFailed):
        api_key.create_key(db, actor=people.bob, name="   ")


def test_key_creation_and_revocation_are_audited(db, people):
    from crm_app.services.audit import count_events

    created = api_key.create_key(db, actor=people.bob, name="Zapier")
    api_key.revoke_key(db, actor=people.bob, key_id=created.key.id)
    assert count_events(db, action="key_create") == 1
    assert count_events(db, action="key_revoke") == 1


def test_garbage_keys_do_not_authenticate(db, people):
    for junk in (None, "", "crm_", "crm_nonsense", "Bearer x"):
        assert api_key.authenticate_key(db, junk) is None
