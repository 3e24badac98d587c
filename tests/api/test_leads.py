"""`/api/v1/leads`: the whole contract, over HTTP, with the fixed cast of people."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.api.lead_schemas import LeadInput
from crm_app.models import Contact, LeadPublic, Pipeline, Stage
from crm_app.services import lead as leads
from crm_app.services import lead_assignment
from tests.api.helpers import PROBLEM, create_at, fields_of, visit_all_at
from tests.factories import make_account, make_lead, make_scoring_rule

URL = "/api/v1/leads"


def create(client, headers, **body):
    return create_at(client, URL, headers, body)


def visit_all(client, headers, query: str) -> list[int]:
    return visit_all_at(client, URL, headers, query)


# --- create and read -------------------------------------------------------------------------


def test_create_is_201_with_location_etag_normalised_values_and_a_score(client, db, people, bob):
    make_scoring_rule(db, condition={"kind": "present", "field": "email"}, points=20)
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
    assert (body["status"], body["score"], body["owner_id"]) == ("new", 20, people.bob.id)
    assert client.get(response.headers["location"], headers=bob).json() == body


def test_an_explicit_null_owner_goes_to_the_assignment_teams_next_rep(client, db, people, bob):
    lead_assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    assert create(client, bob, first_name="A", owner_id=None)["owner_id"] == people.bob.id
    assert create(client, bob, first_name="B", owner_id=None)["owner_id"] == people.carol.id


def test_get_returns_the_lead_with_its_etag_and_no_internals(client, db, people, bob):
    lead = make_lead(db, owner=people.bob, first_name="Ada")
    response = client.get(f"{URL}/{lead.id}", headers=bob)
    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Ada" and response.headers["etag"] == f'"{lead.version}"'
    assert "deleted_at" not in body and "search_vector" not in body
    assert body["converted_contact_id"] is None


@pytest.mark.parametrize("lead_id", ["999999999", str(2**40)])
def test_unknown_lead_is_404_or_422_problem_json(client, bob, lead_id):
    response = client.get(f"{URL}/{lead_id}", headers=bob)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == PROBLEM


def test_values_are_validated_by_the_service_with_every_field_named(client, bob):
    response = client.post(
        URL, json={"email": "not-an-email", "phone": "12", "status": "hot"}, headers=bob
    )
    assert response.status_code == 422
    assert fields_of(response) == {"email", "phone", "status", "first_name"}


def test_a_duplicate_email_is_409_naming_the_lead(client, db, people, bob):
    first = create(client, bob, first_name="Ada", email="ada@example.com")
    response = client.post(
        URL, json={"first_name": "Twin", "email": "ADA@example.com"}, headers=bob
    )
    assert response.status_code == 409
    assert response.json()["duplicates"][0]["id"] == first["id"]


def test_no_key_is_401_and_a_viewer_cannot_create(client, people, key_for):
    assert client.get(URL).status_code == 401
    response = client.post(URL, json={"first_name": "A"}, headers=key_for(people.vic))
    assert response.status_code == 403


# --- the list ----------------------------------------------------------------------------------


def test_list_is_an_envelope_of_data_and_next_cursor(client, db, people, bob):
    make_lead(db, owner=people.bob)
    body = client.get(URL, headers=bob).json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    assert set(body["data"][0]) == set(LeadPublic.model_fields)


@pytest.mark.parametrize("sort", ["", "-score", "source,last_name", "owner,-created_at", "status"])
def test_paging_by_cursor_visits_every_lead_exactly_once(client, db, people, bob, sort):
    made = [
        make_lead(
            db,
            owner=people.bob if i % 2 else people.dave,
            last_name=f"Same{i % 2}",
            score=(i % 3) * 10,
            source="Website" if i % 3 else None,
        ).id
        for i in range(7)
    ]
    assert sorted(visit_all(client, bob, f"limit=2&sort={sort}")) == sorted(made)


def test_sort_by_score_both_ways(client, db, people, bob):
    for score in (30, 90, 10):
        make_lead(db, owner=people.bob, score=score)
    scores = lambda sort: [  # noqa: E731
        lead["score"] for lead in client.get(f"{URL}?sort={sort}", headers=bob).json()["data"]
    ]
    assert scores("score") == [10, 30, 90]
    assert scores("-score") == [90, 30, 10]


def test_unknown_sort_field_and_bad_limits_are_422(client, bob):
    assert fields_of(client.get(f"{URL}?sort=password", headers=bob)) == {"sort"}
    assert fields_of(client.get(f"{URL}?limit=201", headers=bob)) == {"limit"}
    assert fields_of(client.get(f"{URL}?cursor=bm90LWEtY3Vyc29y", headers=bob)) == {"cursor"}


def test_q_finds_leads_by_the_start_of_their_words(client, db, people, bob):
    smith = make_lead(db, owner=people.bob, first_name="Ann", last_name="Smith")
    acme = make_lead(db, owner=people.bob, first_name="Ben", company_name="Smithfield Foods")
    make_lead(db, owner=people.bob, first_name="Cy", last_name="Jones")
    found = client.get(f"{URL}?q=smi&sort=first_name", headers=bob).json()["data"]
    assert [lead["id"] for lead in found] == [smith.id, acme.id]


def test_filters_narrow_the_list(client, db, people, bob):
    from crm_app.services import custom_field

    custom_field.create_field(
        db, actor=people.alice, entity="lead", label="Budget", field_type="number"
    )
    ann = make_lead(
        db,
        owner=people.bob,
        status="qualified",
        source="Referral",
        score=80,
        tags=["vip"],
        custom={"budget": 9000},
    )
    cy = make_lead(db, owner=people.dave, status="new", score=20, tags=["vip"])

    def ids(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}", headers=bob)
        assert response.status_code == 200, response.text
        return {lead["id"] for lead in response.json()["data"]}

    assert ids("status=qualified") == {ann.id}
    assert ids("status=new,qualified") == {ann.id, cy.id}
    assert ids("source=referral") == {ann.id}
    assert ids(f"owner_id={people.dave.id}") == {cy.id}
    assert ids("owner_id=me&tag=vip") == {ann.id}
    assert ids("score_min=50") == {ann.id}
    assert ids("score_max=50&tag=vip") == {cy.id}
    assert ids("custom.budget__gte=5000") == {ann.id}
    assert ids("created_from=2000-01-01&tag=vip") == {ann.id, cy.id}
    assert ids("updated_to=2000-01-01") == set()


def test_unknown_or_malformed_filters_are_422_naming_each(client, bob):
    response = client.get(
        f"{URL}?nope=1&created_from=yesterday&status=hot&score_min=x&custom.nope=1", headers=bob
    )
    assert response.status_code == 422
    assert fields_of(response) == {"nope", "created_from", "status", "score_min", "custom.nope"}


# --- changes ---------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_rescores(client, db, people, bob):
    make_scoring_rule(
        db, condition={"kind": "contains", "field": "title", "value": "vp"}, points=40
    )
    lead = make_lead(db, owner=people.bob, first_name="Ada", title="Engineer")
    response = client.patch(f"{URL}/{lead.id}", json={"title": "VP Sales"}, headers=bob)
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["title"], body["version"], body["score"]) == (
        "Ada",
        "VP Sales",
        2,
        40,
    )
    assert response.headers["etag"] == '"2"'


def test_patch_status_follows_the_flow(client, db, people, bob):
    lead = make_lead(db, owner=people.bob)
    assert client.patch(f"{URL}/{lead.id}", json={"status": "contacted"}, headers=bob).json()[
        "status"
    ] == ("contacted")
    response = client.patch(f"{URL}/{lead.id}", json={"status": "new"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"status"}
    assert "can only become qualified or unqualified" in response.json()["errors"][0]["message"]
    response = client.patch(f"{URL}/{lead.id}", json={"status": "converted"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"status"}


def test_patch_with_a_stale_if_match_is_412(client, db, people, bob):
    lead = make_lead(db, owner=people.bob)
    ok = client.patch(f"{URL}/{lead.id}", json={"title": "A"}, headers={**bob, "If-Match": '"1"'})
    assert ok.status_code == 200
    stale = client.patch(
        f"{URL}/{lead.id}", json={"title": "B"}, headers={**bob, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert client.get(f"{URL}/{lead.id}", headers=bob).json()["title"] == "A"


def test_a_rep_cannot_change_another_reps_lead(client, db, people, bob):
    lead = make_lead(db, owner=people.dave)
    assert client.patch(f"{URL}/{lead.id}", json={"title": "X"}, headers=bob).status_code == 403


def test_unknown_body_field_is_422_naming_it(client, db, people, bob):
    response = client.post(URL, json={"first_name": "Ada", "nickname": "A"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"nickname"}
    lead = make_lead(db, owner=people.bob)
    response = client.patch(f"{URL}/{lead.id}", json={"nickname": "A"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"nickname"}


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "score",
        "converted_at",
        "converted_contact_id",
        "converted_account_id",
        "converted_deal_id",
        "owner_name",
        "created_at",
        "updated_at",
        "created_by",
        "version",
        "deleted_at",
        "search_vector",
    ],
)
def test_system_fields_cannot_be_set(client, db, people, bob, field):
    response = client.post(URL, json={"first_name": "Ada", field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}
    lead = make_lead(db, owner=people.bob)
    response = client.patch(f"{URL}/{lead.id}", json={field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}


def test_input_schema_offers_exactly_what_the_service_lets_users_set():
    assert set(LeadInput.model_fields) == set(leads.EDITABLE)


def test_delete_is_204_then_404_until_restored(client, db, people, bob):
    lead = make_lead(db, owner=people.bob)
    assert client.delete(f"{URL}/{lead.id}", headers=bob).status_code == 204
    assert client.get(f"{URL}/{lead.id}", headers=bob).status_code == 404
    restored = client.post(f"{URL}/{lead.id}/restore", headers=bob)
    assert restored.status_code == 200 and restored.headers["etag"] == '"3"'
    assert client.get(f"{URL}/{lead.id}", headers=bob).status_code == 200


# --- convert ---------------------------------------------------------------------------------


def test_convert_returns_the_ids_of_what_the_lead_became(client, db, people, bob):
    acme = make_account(db, owner=people.bob, name="Acme", domain="acme.com")
    lead = make_lead(
        db, owner=people.bob, first_name="Ada", email="ada@acme.com", company_name="Acme"
    )
    pipeline = db.exec(select(Pipeline).where(Pipeline.is_default)).one()
    second = db.exec(
        select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)
    ).all()[1]
    response = client.post(
        f"{URL}/{lead.id}/convert",
        json={"deal": {"pipeline_id": pipeline.id, "stage_id": second.id, "amount": "1200"}},
        headers=bob,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    contact = db.exec(select(Contact).where(Contact.email == "ada@acme.com")).one()
    assert body["lead_id"] == lead.id
    assert (body["contact_id"], body["account_id"]) == (contact.id, acme.id)
    assert (body["created_contact"], body["created_account"]) == (True, False)
    assert body["deal_id"] is not None
    converted = client.get(f"{URL}/{lead.id}", headers=bob).json()
    assert converted["status"] == "converted"
    assert converted["converted_deal_id"] == body["deal_id"]
    assert client.get(f"/api/v1/contacts/{contact.id}", headers=bob).json()["account_id"] == (
        acme.id
    )


def test_convert_without_a_deal_and_twice(client, db, people, bob):
    lead = make_lead(db, owner=people.bob, first_name="Ada", email="ada@gmail.com")
    first = client.post(f"{URL}/{lead.id}/convert", json={}, headers=bob)
    assert first.status_code == 200
    assert (first.json()["deal_id"], first.json()["account_id"]) == (None, None)
    again = client.post(f"{URL}/{lead.id}/convert", json={}, headers=bob)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM


def test_convert_with_a_bad_deal_is_422_naming_the_deal_field_and_changes_nothing(
    client, db, people, bob
):
    lead = make_lead(db, owner=people.bob, first_name="Ada", email="ada@acme.com")
    response = client.post(
        f"{URL}/{lead.id}/convert", json={"deal": {"amount": "lots"}}, headers=bob
    )
    assert response.status_code == 422 and fields_of(response) == {"deal.amount"}
    assert client.get(f"{URL}/{lead.id}", headers=bob).json()["status"] == "new"
    assert db.exec(select(Contact).where(Contact.email == "ada@acme.com")).first() is None


def test_convert_refuses_unknown_body_fields_and_bad_ids(client, db, people, bob):
    lead = make_lead(db, owner=people.bob, first_name="Ada")
    response = client.post(f"{URL}/{lead.id}/convert", json={"score": 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"score"}
    response = client.post(f"{URL}/{lead.id}/convert", json={"contact_id": 10**12}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"contact_id"}


def test_a_rep_cannot_convert_another_reps_lead(client, db, people, bob):
    lead = make_lead(db, owner=people.dave, first_name="Ada")
    assert client.post(f"{URL}/{lead.id}/convert", json={}, headers=bob).status_code == 403
