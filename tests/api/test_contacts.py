"""`/api/v1/contacts`: the whole contract, over HTTP, with the fixed cast of people."""

from __future__ import annotations

import pytest

from crm_app.api.schemas import ContactInput
from crm_app.models import ContactPublic
from crm_app.services import contact as contacts
from tests.api.helpers import PROBLEM, create_at, fields_of, visit_all_at
from tests.factories import make_account, make_contact

URL = "/api/v1/contacts"


def create(client, headers, **body):
    return create_at(client, URL, headers, body)


def visit_all(client, headers, query: str) -> list[int]:
    return visit_all_at(client, URL, headers, query)


# --- create and read -------------------------------------------------------------------------


def test_create_is_201_with_location_and_etag_and_normalised_values(client, people, bob):
    response = client.post(
        URL,
        json={"first_name": "Ada", "email": " Ada@Example.COM ", "phone": "(415) 555-0100"},
        headers=bob,
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{URL}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert (body["email"], body["phone"]) == ("ada@example.com", "+14155550100")
    assert body["owner_id"] == people.bob.id and body["version"] == 1
    assert client.get(response.headers["location"], headers=bob).json() == body


def test_get_returns_the_contact_with_its_etag(client, db, people, bob):
    contact = make_contact(db, owner=people.bob, first_name="Ada")
    response = client.get(f"{URL}/{contact.id}", headers=bob)
    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"
    assert response.headers["etag"] == f'"{contact.version}"'
    assert "deleted_at" not in response.json() and "search_vector" not in response.json()


def test_unknown_contact_is_404_problem_json(client, bob):
    response = client.get(f"{URL}/999999999", headers=bob)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


def test_a_contact_can_be_linked_to_a_company(client, db, people, bob):
    acme = make_account(db, owner=people.bob, name="Acme")
    assert create(client, bob, first_name="Ann", account_id=acme.id)["account_id"] == acme.id
    for unknown in (10**9, 2**40):
        response = client.post(URL, json={"first_name": "Ben", "account_id": unknown}, headers=bob)
        assert response.status_code == 422 and fields_of(response) == {"account_id"}


def test_values_are_validated_by_the_service_with_every_field_named(client, bob):
    response = client.post(
        URL, json={"email": "not-an-email", "phone": "12", "lifecycle_stage": "vip"}, headers=bob
    )
    assert response.status_code == 422
    assert fields_of(response) >= {"email", "phone", "lifecycle_stage", "first_name"}


# --- the list ----------------------------------------------------------------------------------


def test_list_is_an_envelope_of_data_and_next_cursor(client, db, people, bob):
    make_contact(db, owner=people.bob)
    response = client.get(URL, headers=bob)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    assert set(body["data"][0]) == set(ContactPublic.model_fields)


@pytest.mark.parametrize("sort", ["", "last_name", "-email", "company,-created_at"])
def test_paging_by_cursor_visits_every_contact_exactly_once(client, db, people, bob, sort):
    acme = make_account(db, owner=people.bob, name="Acme")
    made = [
        make_contact(
            db,
            owner=people.bob,
            last_name=f"Same{i % 2}",
            email=f"p{i}@example.com" if i % 3 else None,
            account_id=acme.id if i % 2 else None,
        ).id
        for i in range(7)
    ]
    ids = visit_all(client, bob, f"limit=2&sort={sort}")
    assert sorted(ids) == sorted(made)


def test_sort_ascending_and_descending(client, db, people, bob):
    for name in ("Cy", "Ann", "Ben"):
        make_contact(db, owner=people.bob, first_name=name)
    names = lambda sort: [  # noqa: E731
        c["first_name"] for c in client.get(f"{URL}?sort={sort}", headers=bob).json()["data"]
    ]
    assert names("first_name") == ["Ann", "Ben", "Cy"]
    assert names("-first_name") == ["Cy", "Ben", "Ann"]


def test_unknown_sort_field_is_422(client, bob):
    response = client.get(f"{URL}?sort=password", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"sort"}


@pytest.mark.parametrize("limit", [0, 201])
def test_limit_outside_1_to_200_is_422(client, bob, limit):
    response = client.get(f"{URL}?limit={limit}", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"limit"}


def test_a_made_up_cursor_is_422(client, bob):
    response = client.get(f"{URL}?cursor=bm90LWEtY3Vyc29y", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"cursor"}


def test_q_finds_contacts_by_the_start_of_their_words(client, db, people, bob):
    smith = make_contact(db, owner=people.bob, first_name="Ann", last_name="Smith")
    smithers = make_contact(db, owner=people.bob, first_name="Ben", last_name="Smithers")
    make_contact(db, owner=people.bob, first_name="Cy", last_name="Jones")
    found = client.get(f"{URL}?q=smi&sort=first_name", headers=bob).json()["data"]
    assert [c["id"] for c in found] == [smith.id, smithers.id]


def test_filters_narrow_the_list(client, db, people, bob):
    acme = make_account(db, owner=people.bob, name="Acme")
    ann = make_contact(
        db, owner=people.bob, account_id=acme.id, lifecycle_stage="customer", tags=["vip"]
    )
    cy = make_contact(db, owner=people.dave, tags=["vip"])

    def ids(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}", headers=bob)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["data"]}

    assert ids("tag=vip") == {ann.id, cy.id}
    assert ids(f"owner_id={people.dave.id}") == {cy.id}
    assert ids("owner_id=me&tag=vip") == {ann.id}
    assert ids("lifecycle_stage=customer") == {ann.id}
    assert ids(f"account_id={acme.id}") == {ann.id}
    assert ids("created_from=2000-01-01&tag=vip") == {ann.id, cy.id}
    assert ids("updated_to=2000-01-01") == set()


def test_unknown_or_malformed_filters_are_422_naming_each(client, bob):
    response = client.get(
        f"{URL}?nope=1&created_from=yesterday&lifecycle_stage=vip&account_id={2**40}", headers=bob
    )
    assert response.status_code == 422
    assert fields_of(response) == {"nope", "created_from", "lifecycle_stage", "account_id"}


# --- changes ---------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, db, people, bob):
    contact = make_contact(db, owner=people.bob, first_name="Ada", title="Engineer")
    response = client.patch(f"{URL}/{contact.id}", json={"title": "CTO"}, headers=bob)
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["title"], body["version"]) == ("Ada", "CTO", 2)
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "1", "*"])
def test_patch_with_the_current_version_in_if_match_passes(client, db, people, bob, tag):
    contact = make_contact(db, owner=people.bob)
    response = client.patch(
        f"{URL}/{contact.id}", json={"title": "CTO"}, headers={**bob, "If-Match": tag}
    )
    assert response.status_code == 200 and response.headers["etag"] == '"2"'


def test_patch_with_a_stale_if_match_is_412(client, db, people, bob):
    contact = make_contact(db, owner=people.bob)
    first = client.patch(
        f"{URL}/{contact.id}", json={"title": "A"}, headers={**bob, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = client.patch(
        f"{URL}/{contact.id}", json={"title": "B"}, headers={**bob, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert client.get(f"{URL}/{contact.id}", headers=bob).json()["title"] == "A"


def test_if_match_that_is_not_a_version_is_422(client, db, people, bob):
    contact = make_contact(db, owner=people.bob)
    response = client.patch(
        f"{URL}/{contact.id}", json={"title": "A"}, headers={**bob, "If-Match": '"abc"'}
    )
    assert response.status_code == 422 and fields_of(response) == {"If-Match"}


def test_unknown_body_field_is_422_naming_it(client, db, people, bob):
    response = client.post(URL, json={"first_name": "Ada", "nickname": "A"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"nickname"}
    contact = make_contact(db, owner=people.bob)
    response = client.patch(f"{URL}/{contact.id}", json={"nickname": "A"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"nickname"}


@pytest.mark.parametrize(
    "field",
    ["id", "created_at", "updated_at", "created_by", "version", "deleted_at", "search_vector"],
)
def test_bookkeeping_fields_cannot_be_set(client, db, people, bob, field):
    response = client.post(URL, json={"first_name": "Ada", field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}
    contact = make_contact(db, owner=people.bob)
    response = client.patch(f"{URL}/{contact.id}", json={field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}


def test_input_schema_offers_exactly_what_the_service_lets_users_set():
    assert set(ContactInput.model_fields) == set(contacts.EDITABLE)


# --- duplicates ------------------------------------------------------------------------------


def test_duplicate_email_is_409_listing_the_existing_contact(client, people, bob, key_for):
    ada = create(client, bob, first_name="Ada", last_name="Lovelace", email="ada@example.com")
    response = client.post(
        URL, json={"first_name": "Other", "email": "ADA@example.com"}, headers=key_for(people.carol)
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 409 and body["detail"]
    assert body["duplicates"] == [{"id": ada["id"], "label": "Ada Lovelace"}]
    assert [e["field"] for e in body["errors"]] == ["email"]


def test_changing_the_email_to_one_in_use_is_409(client, db, people, bob):
    ada = create(client, bob, first_name="Ada", email="ada@example.com")
    other = make_contact(db, owner=people.bob)
    response = client.patch(f"{URL}/{other.id}", json={"email": "ada@example.com"}, headers=bob)
    assert response.status_code == 409
    assert [d["id"] for d in response.json()["duplicates"]] == [ada["id"]]


# --- who may do what -------------------------------------------------------------------------


def test_rep_cannot_give_a_contact_to_another_rep(client, db, people, bob):
    response = client.post(
        URL, json={"first_name": "Ada", "owner_id": people.carol.id}, headers=bob
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    own = make_contact(db, owner=people.bob)
    response = client.patch(f"{URL}/{own.id}", json={"owner_id": people.carol.id}, headers=bob)
    assert response.status_code == 403


def test_an_owner_id_that_can_name_no_user_is_422(client, bob):
    response = client.post(URL, json={"first_name": "Ada", "owner_id": 2**40}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"owner_id"}


def test_viewer_cannot_create_but_can_read(client, db, people, key_for):
    vic = key_for(people.vic)
    assert client.post(URL, json={"first_name": "Ada"}, headers=vic).status_code == 403
    contact = make_contact(db, owner=people.bob)
    assert client.get(f"{URL}/{contact.id}", headers=vic).status_code == 200


def test_rep_cannot_change_or_delete_another_reps_contact(client, db, people, bob):
    daves = make_contact(db, owner=people.dave, title="Buyer")
    assert client.patch(f"{URL}/{daves.id}", json={"title": "X"}, headers=bob).status_code == 403
    assert client.delete(f"{URL}/{daves.id}", headers=bob).status_code == 403
    assert client.get(f"{URL}/{daves.id}", headers=bob).json()["title"] == "Buyer"


def test_manager_can_change_a_teammates_contact_and_give_it_within_the_team(
    client, db, people, key_for
):
    mona = key_for(people.mona)
    bobs = make_contact(db, owner=people.bob)
    response = client.patch(
        f"{URL}/{bobs.id}", json={"title": "CTO", "owner_id": people.carol.id}, headers=mona
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["owner_id"]) == ("CTO", people.carol.id)
    daves = make_contact(db, owner=people.dave)
    assert client.patch(f"{URL}/{daves.id}", json={"title": "X"}, headers=mona).status_code == 403


# --- the trash -------------------------------------------------------------------------------


def test_delete_moves_to_the_trash_and_restore_brings_it_back(client, db, people, bob):
    contact = make_contact(db, owner=people.bob, first_name="Gone")
    url = f"{URL}/{contact.id}"
    deleted = client.delete(url, headers=bob)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(url, headers=bob).status_code == 404
    assert client.patch(url, json={"title": "X"}, headers=bob).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert contact.id not in [c["id"] for c in client.get(URL, headers=bob).json()["data"]]
    restored = client.post(f"{url}/restore", headers=bob)
    assert restored.status_code == 200
    assert restored.json()["id"] == contact.id and restored.headers["etag"]
    assert client.get(url, headers=bob).status_code == 200


def test_restoring_a_live_contact_is_404(client, db, people, bob):
    contact = make_contact(db, owner=people.bob)
    assert client.post(f"{URL}/{contact.id}/restore", headers=bob).status_code == 404


# --- authentication and docs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", URL),
        ("POST", URL),
        ("GET", f"{URL}/1"),
        ("PATCH", f"{URL}/1"),
        ("DELETE", f"{URL}/1"),
        ("POST", f"{URL}/1/restore"),
    ],
)
def test_every_route_needs_a_key(client, people, method, path):
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_openapi_documents_the_contact_routes(client):
    spec = client.get("/api/v1/openapi.json").json()
    listing = spec["paths"][URL]["get"]
    assert listing["tags"] == ["contacts"]
    params = {p["name"] for p in listing["parameters"]}
    assert {"limit", "cursor", "sort", "q", "owner_id", "lifecycle_stage", "account_id"} <= params
    assert "409" in spec["paths"][URL]["post"]["responses"]
    assert "412" in spec["paths"][f"{URL}/{{contact_id}}"]["patch"]["responses"]


def test_an_owner_id_too_large_for_an_id_is_a_422_not_a_500(client, people, key_for):
    response = client.get("/api/v1/contacts?owner_id=99999999999", headers=key_for(people.bob))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_id"


def test_malformed_json_is_a_422_about_the_body(client, people, key_for):
    headers = {**key_for(people.bob), "Content-Type": "application/json"}
    response = client.post("/api/v1/contacts", content=b"{not json", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
