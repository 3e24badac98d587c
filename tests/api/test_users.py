"""`/api/v1/users`: read-only, keyset-paged."""

from __future__ import annotations


def test_list_users_pages_with_an_opaque_cursor(client, people, key_for):
    headers = key_for(people.vic)
    first = client.get("/api/v1/users?limit=4", headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert len(page["data"]) == 4 and page["next_cursor"]
    second = client.get(
        f"/api/v1/users?limit=4&cursor={page['next_cursor']}", headers=headers
    ).json()
    ids = [u["id"] for u in page["data"] + second["data"]]
    assert len(ids) == len(set(ids)) == 6
    assert second["next_cursor"] is None


def test_limit_over_200_is_422_with_field_errors(client, people, key_for):
    response = client.get("/api/v1/users?limit=500", headers=key_for(people.bob))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "limit"


def test_get_unknown_user_is_404(client, people, key_for):
    response = client.get("/api/v1/users/999999", headers=key_for(people.bob))
    assert response.status_code == 404
    assert response.json()["status"] == 404
