"""`GET /api/v1/me`, authentication failures as problem+json, and the docs."""

from __future__ import annotations

from crm_app.services import api_key


def test_me_returns_the_keys_user_without_secrets(client, people, key_for):
    response = client.get("/api/v1/me", headers=key_for(people.bob))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "bob@example.com"
    assert body["role"] == "rep"
    assert "password_hash" not in body and "totp_secret" not in body


def test_missing_key_is_401_problem_json(client, people):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


def test_revoked_key_is_401(client, db, people):
    created = api_key.create_key(db, actor=people.bob, name="temp")
    headers = {"Authorization": f"Bearer {created.plaintext}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    api_key.revoke_key(db, actor=people.bob, key_id=created.key.id)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_key_is_401(client, people):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer crm_made_up"})
    assert response.status_code == 401


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/me" in spec["paths"]
    assert "/auth/session" not in spec["paths"]


def test_docs_page_loads_swagger_from_the_app_not_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.text
    assert "/api/v1/docs-static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/v1/docs-static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_unknown_api_route_is_404_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_method_a_route_does_not_take_is_405_naming_the_ones_it_does(client, people, key_for):
    response = client.put("/api/v1/contacts/1", headers=key_for(people.bob), json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "PUT is not allowed on /api/v1/contacts/1; use DELETE, GET, PATCH."
    )
    assert client.delete("/api/v1/me").headers["allow"] == "GET"
    # a fixed path beside an /{id} route is not taken for an id
    order = client.patch("/api/v1/pipelines/order", headers=key_for(people.bob), json={})
    assert (order.status_code, order.headers["allow"]) == (405, "PUT")
    stages = client.get("/api/v1/pipelines/1/stages/order", headers=key_for(people.bob))
    assert (stages.status_code, stages.headers["allow"]) == (405, "PUT")
