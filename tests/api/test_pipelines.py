"""`/api/v1/pipelines`: everyone reads pipelines with their stages; admins change them."""

from __future__ import annotations

import pytest

from crm_app.api.deal_schemas import NewStageInput, PipelineInput, StageInput
from crm_app.models import PipelinePublic, StagePublic
from crm_app.services import deal as deals
from crm_app.services import pipeline as pipelines
from tests.factories import make_second_pipeline, stages_of_default_pipeline

URL = "/api/v1/pipelines"
PROBLEM = "application/problem+json"


@pytest.fixture
def admin(people, key_for):
    return key_for(people.alice)


@pytest.fixture
def stages(db, people):
    return stages_of_default_pipeline(db)


def fields_of(response) -> set[str]:
    assert response.headers["content-type"] == PROBLEM
    return {e["field"] for e in response.json()["errors"]}


def test_everyone_lists_the_pipelines_with_their_stages_in_order(
    client, db, people, key_for, stages
):
    make_second_pipeline(db)
    response = client.get(URL, headers=key_for(people.vic))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    sales, renewals = body["data"]
    assert (sales["name"], sales["is_default"], renewals["name"]) == ("Sales", True, "Renewals")
    assert [s["name"] for s in sales["stages"]] == [
        "Qualification",
        "Discovery",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert set(sales) == set(PipelinePublic.model_fields)
    assert set(sales["stages"][0]) == set(StagePublic.model_fields)
    assert sales["stages"][4]["kind"] == "won" and sales["stages"][0]["rotting_days"] == 14


def test_get_one_pipeline_and_one_stage(client, people, key_for, stages):
    bob = key_for(people.bob)
    sales = stages["Won"].pipeline_id
    response = client.get(f"{URL}/{sales}", headers=bob)
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    stage = client.get(f"{URL}/{sales}/stages/{stages['Won'].id}", headers=bob)
    assert stage.status_code == 200 and stage.json()["name"] == "Won"
    assert client.get(f"{URL}/999999", headers=bob).status_code == 404
    assert client.get(f"{URL}/{sales}/stages/999999", headers=bob).status_code == 404


def test_only_admins_change_pipelines(client, people, key_for, stages):
    mona = key_for(people.mona)
    sales = stages["Won"].pipeline_id
    assert client.post(URL, json={"name": "Mine"}, headers=mona).status_code == 403
    assert client.patch(f"{URL}/{sales}", json={"name": "X"}, headers=mona).status_code == 403
    response = client.post(f"{URL}/{sales}/stages", json={"name": "X"}, headers=mona)
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert client.get(URL).status_code == 401


def test_create_is_201_with_location_and_the_usual_stages(client, admin, stages):
    response = client.post(URL, json={"name": "Partners"}, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{URL}/{body['id']}"
    assert [s["name"] for s in body["stages"]] == [s.name for s in stages.values()]
    given = client.post(
        URL,
        json={"name": "Hiring", "stages": [{"name": "Screen"}, {"name": "Hired", "kind": "won"}]},
        headers=admin,
    ).json()
    assert [(s["name"], s["kind"], s["position"]) for s in given["stages"]] == [
        ("Screen", "open", 0),
        ("Hired", "won", 1),
    ]


def test_bad_pipelines_are_422_naming_each_field(client, admin, stages):
    response = client.post(
        URL,
        json={"name": "", "stages": [{"name": "A", "probability": 300}], "colour": "red"},
        headers=admin,
    )
    assert response.status_code == 422 and fields_of(response) == {"colour"}
    response = client.post(
        URL, json={"name": "", "stages": [{"name": "A", "probability": 300}]}, headers=admin
    )
    assert response.status_code == 422 and fields_of(response) == {"name", "stages.0.probability"}


def test_patch_renames_and_makes_default_with_if_match(client, db, admin, stages):
    second = make_second_pipeline(db)
    url = f"{URL}/{second.pipeline.id}"
    response = client.patch(
        url, json={"name": "Upsell", "is_default": True}, headers={**admin, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["is_default"]) == ("Upsell", True)
    stale = client.patch(url, json={"name": "Again"}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    old = client.get(f"{URL}/{stages['Won'].pipeline_id}", headers=admin).json()
    assert old["is_default"] is False


def test_pipelines_are_reordered(client, db, admin, stages):
    second = make_second_pipeline(db)
    sales = stages["Won"].pipeline_id
    response = client.put(
        f"{URL}/order", json={"pipeline_ids": [second.pipeline.id, sales]}, headers=admin
    )
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["data"]] == ["Renewals", "Sales"]
    response = client.put(f"{URL}/order", json={"pipeline_ids": [sales]}, headers=admin)
    assert response.status_code == 422 and fields_of(response) == {"pipeline_ids"}


def test_deleting_a_pipeline_with_deals_needs_a_target(client, db, people, admin, stages):
    second = make_second_pipeline(db)
    deal = deals.create_deal(
        db, actor=people.bob, data={"name": "D", "stage_id": second.stages[2].id}
    )
    url = f"{URL}/{second.pipeline.id}"
    response = client.delete(url, headers=admin)
    assert response.status_code == 422 and fields_of(response) == {"move_to_stage_id"}
    target = stages["Discovery"].id
    assert client.delete(f"{url}?move_to_stage_id={target}", headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    db.refresh(deal)
    assert deal.stage_id == target
    default = client.delete(f"{URL}/{stages['Won'].pipeline_id}", headers=admin)
    assert default.status_code == 422


def test_stages_are_added_changed_reordered_and_deleted(client, db, people, admin, stages):
    sales = stages["Won"].pipeline_id
    response = client.post(
        f"{URL}/{sales}/stages", json={"name": "Demo", "probability": 60}, headers=admin
    )
    assert response.status_code == 201, response.text
    demo = response.json()
    assert response.headers["location"] == f"{URL}/{sales}/stages/{demo['id']}"
    assert demo["position"] == 4  # before Won and Lost
    response = client.patch(
        f"{URL}/{sales}/stages/{demo['id']}",
        json={"rotting_days": 3},
        headers={**admin, "If-Match": '"1"'},
    )
    assert response.status_code == 200 and response.json()["rotting_days"] == 3
    order = [s.id for s in pipelines.live_stages(db, sales)][::-1]
    response = client.put(f"{URL}/{sales}/stages/order", json={"stage_ids": order}, headers=admin)
    assert [s["id"] for s in response.json()] == order
    deal = deals.create_deal(db, actor=people.bob, data={"name": "D", "stage_id": demo["id"]})
    url = f"{URL}/{sales}/stages/{demo['id']}"
    response = client.delete(url, headers=admin)
    assert response.status_code == 422 and fields_of(response) == {"move_to_stage_id"}
    target = stages["Proposal"].id
    assert client.delete(f"{url}?move_to_stage_id={target}", headers=admin).status_code == 204
    db.refresh(deal)
    assert deal.stage_id == target


def test_a_stage_under_another_pipeline_is_404(client, db, admin, stages):
    second = make_second_pipeline(db)
    response = client.patch(
        f"{URL}/{second.pipeline.id}/stages/{stages['Won'].id}", json={"name": "X"}, headers=admin
    )
    assert response.status_code == 404


def test_input_schemas_offer_exactly_what_the_service_lets_admins_set():
    assert set(PipelineInput.model_fields) == set(pipelines.PIPELINE_FIELDS)
    assert set(StageInput.model_fields) == set(pipelines.STAGE_FIELDS)
    assert set(NewStageInput.model_fields) == {*pipelines.STAGE_FIELDS, "position"}
