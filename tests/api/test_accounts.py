"""`/api/v1/accounts` (companies): the whole contract, over HTTP, with the fixed cast."""

from __future__ import annotations

import pytest

from crm_app.api.schemas import AccountInput
from crm_app.models import AccountPublic
from crm_app.services import account as accounts
from tests.api.helpers import PROBLEM, create_at, fields_of
from tests.factories import make_account

URL = "/api/v1/accounts"


def create(client, headers, **body):
    return create_at(client, URL, headers, body)


# --- create and read -------------------------------------------------------------------------


def test_create_is_201_with_location_and_etag_and_normalised_values(client, people, bob):
    response = client.post(
        URL, json={"name": "Acme", "domain": "https://www.Acme.com/about"}, headers=bob
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{URL}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert (body["name"], body["domain"], body["owner_id"]) == ("Acme", "acme.com", people.bob.id)
    assert client.get(response.headers["location"], headers=bob).json() == body


def test_a_company_needs_a_name(client, bob):
    response = client.post(URL, json={"domain": "acme.com"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"name"}


def test_unknown_company_is_404_problem_json(client, bob):
    response = client.get(f"{URL}/999999999", headers=bob)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


# --- the list ----------------------------------------------------------------------------------


def test_list_is_an_envelope_of_data_and_next_cursor(client, db, people, bob):
    make_account(db, owner=people.bob)
    body = client.get(URL, headers=bob).json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    assert set(body["data"][0]) == set(AccountPublic.model_fields)


@pytest.mark.parametrize("sort", ["", "-name", "industry,-created_at", "owner"])
def test_paging_by_cursor_visits_every_company_exactly_once(client, db, people, bob, sort):
    made = [
        make_account(
            db,
            owner=people.bob if i % 2 else people.dave,
            name=f"Co {i % 3}",
            industry="Retail" if i % 3 else None,
        ).id
        for i in range(7)
    ]
    ids, cursor = [], None
    while True:
        query = f"limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{URL}?{query}", headers=bob).json()
        ids += [a["id"] for a in page["data"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(ids) == sorted(made)


def test_sort_ascending_and_descending_and_unknown_sort_is_422(client, db, people, bob):
    for name in ("Cyan", "Acme", "Bolt"):
        make_account(db, owner=people.bob, name=name)
    names = lambda sort: [  # noqa: E731
        a["name"] for a in client.get(f"{URL}?sort={sort}", headers=bob).json()["data"]
    ]
    assert names("name") == ["Acme", "Bolt", "Cyan"]
    assert names("-name") == ["Cyan", "Bolt", "Acme"]
    response = client.get(f"{URL}?sort=secret", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"sort"}


def test_q_and_filters_narrow_the_list(client, db, people, bob):
    acme = make_account(
        db, owner=people.bob, name="Acme", industry="Retail", size="11-50", country="France"
    )
    bolt = make_account(db, owner=people.dave, name="Bolt", industry="Energy", tags=["vip"])

    def ids(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}", headers=bob)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["data"]}

    assert ids("q=acm") == {acme.id}
    assert ids("industry=retail") == {acme.id}
    assert ids("size=11-50") == {acme.id}
    assert ids("country=FRANCE") == {acme.id}
    assert ids("tag=vip") == {bolt.id}
    assert ids(f"owner_id={people.dave.id}") == {bolt.id}
    assert ids("created_to=2000-01-01") == set()


def test_unknown_or_malformed_filters_are_422_naming_each(client, bob):
    response = client.get(f"{URL}?lifecycle_stage=lead&updated_from=soon", headers=bob)
    assert response.status_code == 422
    assert fields_of(response) == {"lifecycle_stage", "updated_from"}


# --- changes ---------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, db, people, bob):
    acme = make_account(db, owner=people.bob, name="Acme", city="Lyon")
    response = client.patch(f"{URL}/{acme.id}", json={"industry": "Retail"}, headers=bob)
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["city"], body["industry"]) == ("Acme", "Lyon", "Retail")
    assert body["version"] == 2 and response.headers["etag"] == '"2"'


def test_if_match_stale_is_412_and_current_passes(client, db, people, bob):
    acme = make_account(db, owner=people.bob)
    url = f"{URL}/{acme.id}"
    ok = client.patch(url, json={"city": "Lyon"}, headers={**bob, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    stale = client.patch(url, json={"city": "Nice"}, headers={**bob, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert client.get(url, headers=bob).json()["city"] == "Lyon"


@pytest.mark.parametrize("field", ["nickname", "id", "created_at", "version", "deleted_at"])
def test_unknown_and_bookkeeping_fields_are_422_naming_them(client, db, people, bob, field):
    response = client.post(URL, json={"name": "Acme", field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}
    acme = make_account(db, owner=people.bob)
    response = client.patch(f"{URL}/{acme.id}", json={field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}


def test_input_schema_offers_exactly_what_the_service_lets_users_set():
    assert set(AccountInput.model_fields) == set(accounts.EDITABLE)


def test_duplicate_domain_is_409_listing_the_existing_company(client, people, bob, key_for):
    acme = create(client, bob, name="Acme", domain="acme.com")
    response = client.post(
        URL, json={"name": "Acme Inc", "domain": "www.acme.com"}, headers=key_for(people.carol)
    )
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    assert response.json()["duplicates"] == [{"id": acme["id"], "label": "Acme"}]


# --- who may do what -------------------------------------------------------------------------


def test_rep_cannot_give_a_company_to_another_rep(client, people, bob):
    response = client.post(URL, json={"name": "Acme", "owner_id": people.carol.id}, headers=bob)
    assert response.status_code == 403


def test_viewer_cannot_create(client, people, key_for):
    response = client.post(URL, json={"name": "Acme"}, headers=key_for(people.vic))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM


def test_rep_cannot_change_another_reps_company_but_their_manager_can(
    client, db, people, bob, key_for
):
    carols = make_account(db, owner=people.carol)
    assert client.patch(f"{URL}/{carols.id}", json={"city": "X"}, headers=bob).status_code == 403
    response = client.patch(
        f"{URL}/{carols.id}", json={"city": "Lyon"}, headers=key_for(people.mona)
    )
    assert response.status_code == 200 and response.json()["city"] == "Lyon"


# --- the trash and authentication ------------------------------------------------------------


def test_delete_moves_to_the_trash_and_restore_brings_it_back(client, db, people, bob):
    acme = make_account(db, owner=people.bob)
    url = f"{URL}/{acme.id}"
    assert client.delete(url, headers=bob).status_code == 204
    assert client.get(url, headers=bob).status_code == 404
    assert client.patch(url, json={"city": "X"}, headers=bob).status_code == 404
    restored = client.post(f"{url}/restore", headers=bob)
    assert restored.status_code == 200 and restored.json()["id"] == acme.id
    assert client.get(url, headers=bob).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", URL), ("POST", URL), ("GET", f"{URL}/1"), ("PATCH", f"{URL}/1")],
)
def test_every_route_needs_a_key(client, people, method, path):
    response = client.request(method, path, json={})
    assert response.status_code == 401 and response.headers["content-type"] == PROBLEM


def test_openapi_tags_companies(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["paths"][URL]["get"]["tags"] == ["companies"]
    assert {"industry", "size", "country"} <= {
        p["name"] for p in spec["paths"][URL]["get"]["parameters"]
    }
