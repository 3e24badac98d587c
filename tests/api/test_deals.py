"""`/api/v1/deals`: the whole contract over HTTP, moving deals included, with the fixed cast."""

from __future__ import annotations

import pytest

from crm_app.api.deal_schemas import DealInput
from crm_app.models import DealPublic
from crm_app.services import deal as deals
from tests.api.helpers import PROBLEM, create_at, fields_of
from tests.factories import make_account, make_second_pipeline, stages_of_default_pipeline

URL = "/api/v1/deals"


@pytest.fixture
def stages(db, people):
    return stages_of_default_pipeline(db)


def create(client, headers, **body):
    return create_at(client, URL, headers, {"name": "A deal", **body})


def patch(client, headers, deal, **body):
    return client.patch(f"{URL}/{deal['id']}", json=body, headers=headers)


# --- create and read -------------------------------------------------------------------------


def test_create_is_201_with_location_etag_and_decimal_amounts(client, people, bob, stages):
    response = client.post(
        URL, json={"name": "Big one", "amount": "1200.5", "currency": "eur"}, headers=bob
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{URL}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert (body["amount"], body["currency"]) == ("1200.50", "EUR")
    assert body["stage_id"] == stages["Qualification"].id
    assert body["owner_id"] == people.bob.id and body["version"] == 1
    assert client.get(response.headers["location"], headers=bob).json() == body
    assert set(body) == set(DealPublic.model_fields)


def test_numbers_are_accepted_as_amounts_too(client, bob, stages):
    assert create(client, bob, amount=0.1)["amount"] == "0.10"


def test_values_are_validated_by_the_service_with_every_field_named(client, bob, stages):
    response = client.post(
        URL,
        json={"amount": "-3", "currency": "dollars", "probability": 101, "pipeline_id": 10**9},
        headers=bob,
    )
    assert response.status_code == 422
    assert fields_of(response) == {"name", "amount", "currency", "probability", "pipeline_id"}


def test_unknown_deal_is_404_problem_json_and_an_impossible_id_422(client, bob, stages):
    response = client.get(f"{URL}/999999999", headers=bob)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    response = client.get(f"{URL}/{2**40}", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"deal_id"}


def test_without_a_key_it_is_401_and_a_viewer_cannot_create(client, people, key_for, stages):
    assert client.get(URL).status_code == 401
    response = client.post(URL, json={"name": "No"}, headers=key_for(people.vic))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM


def test_a_deal_links_only_to_an_existing_company(client, db, people, bob, stages):
    acme = make_account(db, owner=people.bob, name="Acme")
    assert create(client, bob, account_id=acme.id)["account_id"] == acme.id
    response = client.post(URL, json={"name": "X", "account_id": 10**9}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"account_id"}


# --- the list ----------------------------------------------------------------------------------


def test_list_is_an_envelope_of_data_and_next_cursor(client, bob, stages):
    create(client, bob)
    body = client.get(URL, headers=bob).json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    assert set(body["data"][0]) == set(DealPublic.model_fields)


@pytest.mark.parametrize("sort", ["", "name", "-amount", "company,-created_at", "stage"])
def test_paging_by_cursor_visits_every_deal_exactly_once(client, db, people, bob, stages, sort):
    acme = make_account(db, owner=people.bob, name="Acme")
    made = [
        create(
            client,
            bob,
            name=f"D{i % 2}",
            amount=None if i % 3 == 0 else str(i * 10),
            account_id=acme.id if i % 2 else None,
            stage_id=stages["Proposal" if i % 4 == 0 else "Discovery"].id,
        )["id"]
        for i in range(7)
    ]
    ids, cursor = [], None
    while True:
        url = f"{URL}?limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bob).json()
        ids += [d["id"] for d in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(ids) == sorted(made)


def test_q_and_filters_narrow_the_list(client, bob, stages):
    widget = create(client, bob, name="Widgets renewal", amount="900", tags=["vip"])
    create(client, bob, name="Gadgets", amount="100", expected_close_date="2027-01-10")
    won = create(client, bob, name="Won one", stage_id=stages["Won"].id)

    def ids(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}", headers=bob)
        assert response.status_code == 200, response.text
        return {d["id"] for d in response.json()["data"]}

    assert ids("q=wid") == {widget["id"]}
    assert ids("status=won") == {won["id"]}
    assert ids("amount_min=500&status=open") == {widget["id"]}
    assert ids("tag=vip&owner_id=me") == {widget["id"]}
    assert ids("expected_close_to=2027-01-01") == set()


def test_unknown_or_malformed_filters_and_sorts_are_422_naming_each(client, bob, stages):
    response = client.get(f"{URL}?nope=1&status=pending&amount_max=lots", headers=bob)
    assert response.status_code == 422
    assert fields_of(response) == {"nope", "status", "amount_max"}
    response = client.get(f"{URL}?sort=position", headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"sort"}


# --- changes and moves -------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, bob, stages):
    deal = create(client, bob, amount="10", expected_close_date="2027-01-31")
    response = patch(client, bob, deal, amount="12.25")
    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["expected_close_date"], body["version"]) == (
        "12.25",
        "2027-01-31",
        2,
    )
    assert response.headers["etag"] == '"2"'


def test_moving_is_a_patch_of_stage_id_and_position(client, bob, stages):
    first, second = create(client, bob), create(client, bob)
    mover = create(client, bob)
    response = patch(client, bob, mover, stage_id=stages["Discovery"].id)
    assert response.status_code == 200
    moved = response.json()
    assert moved["stage_id"] == stages["Discovery"].id
    assert moved["stage_entered_at"] >= mover["stage_entered_at"]
    between = (float(first["position"]) + float(second["position"])) / 2
    response = patch(client, bob, mover, stage_id=stages["Qualification"].id, position=between)
    assert response.status_code == 200
    order = client.get(
        f"{URL}?stage_id={stages['Qualification'].id}&sort=created_at", headers=bob
    ).json()["data"]
    by_position = sorted(order, key=lambda d: float(d["position"]))
    assert [d["id"] for d in by_position] == [first["id"], mover["id"], second["id"]]


def test_a_lost_move_needs_a_reason_and_a_won_move_closes(client, bob, stages):
    deal = create(client, bob)
    response = patch(client, bob, deal, stage_id=stages["Lost"].id)
    assert response.status_code == 422 and fields_of(response) == {"lost_reason"}
    assert client.get(f"{URL}/{deal['id']}", headers=bob).json()["stage_id"] == deal["stage_id"]
    response = patch(client, bob, deal, stage_id=stages["Lost"].id, lost_reason="Price")
    assert response.status_code == 200
    lost = response.json()
    assert lost["lost_reason"] == "Price" and lost["closed_at"] and lost["won_at"] is None
    won = patch(client, bob, deal, stage_id=stages["Won"].id).json()
    assert won["won_at"] and won["lost_reason"] is None


def test_a_stage_of_another_pipeline_must_match_the_pipeline_named(client, db, bob, stages):
    other = make_second_pipeline(db)
    deal = create(client, bob)
    response = patch(
        client, bob, deal, pipeline_id=other.pipeline.id, stage_id=stages["Discovery"].id
    )
    assert response.status_code == 422 and fields_of(response) == {"stage_id"}
    response = patch(client, bob, deal, stage_id=other.stages[2].id)
    assert response.json()["pipeline_id"] == other.pipeline.id


def test_a_rep_cannot_move_another_reps_deal(client, people, key_for, bob, stages):
    daves = create(client, key_for(people.dave))
    response = patch(client, bob, daves, stage_id=stages["Discovery"].id)
    assert response.status_code == 403


def test_patch_with_a_stale_if_match_is_412(client, bob, stages):
    deal = create(client, bob)
    url = f"{URL}/{deal['id']}"
    first = client.patch(url, json={"amount": "1"}, headers={**bob, "If-Match": '"1"'})
    assert first.status_code == 200
    stale = client.patch(
        url, json={"stage_id": stages["Discovery"].id}, headers={**bob, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert client.get(url, headers=bob).json()["stage_id"] == stages["Qualification"].id


def test_unknown_body_field_is_422_naming_it(client, bob, stages):
    response = client.post(URL, json={"name": "A", "colour": "red"}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {"colour"}
    deal = create(client, bob)
    response = patch(client, bob, deal, colour="red")
    assert response.status_code == 422 and fields_of(response) == {"colour"}


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "created_at",
        "updated_at",
        "created_by",
        "version",
        "deleted_at",
        "search_vector",
        "closed_at",
        "won_at",
        "stage_entered_at",
    ],
)
def test_bookkeeping_and_derived_fields_cannot_be_set(client, bob, stages, field):
    response = client.post(URL, json={"name": "A", field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}
    deal = create(client, bob)
    response = client.patch(f"{URL}/{deal['id']}", json={field: 1}, headers=bob)
    assert response.status_code == 422 and fields_of(response) == {field}


def test_input_schema_offers_exactly_what_the_service_lets_users_set():
    assert set(DealInput.model_fields) == set(deals.EDITABLE)


# --- trash -------------------------------------------------------------------------------------


def test_delete_is_204_then_404_and_restore_brings_it_back(client, bob, stages):
    deal = create(client, bob)
    url = f"{URL}/{deal['id']}"
    assert client.delete(url, headers=bob).status_code == 204
    assert client.get(url, headers=bob).status_code == 404
    restored = client.post(f"{url}/restore", headers=bob)
    assert restored.status_code == 200 and restored.json()["stage_id"] == deal["stage_id"]
    assert client.get(url, headers=bob).status_code == 200
