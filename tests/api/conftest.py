"""API tests call the FastAPI app in-process, sharing the test's rolled-back transaction."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crm_app.api.app import create_app
from crm_app.api.deps import get_session


@pytest.fixture
def client(db):
    app = create_app()

    def test_session():
        yield db
        db.flush()

    app.dependency_overrides[get_session] = test_session
    with TestClient(app) as client:
        yield client


@pytest.fixture
def key_for(db):
    """Create an API key for a user and return the Authorization header."""
    from crm_app.services import api_key

    def make(user) -> dict[str, str]:
        created = api_key.create_key(db, actor=user, name="tests")
        return {"Authorization": f"Bearer {created.plaintext}"}

    return make


@pytest.fixture
def bob(people, key_for):
    """Bob the rep's Authorization header."""
    return key_for(people.bob)
