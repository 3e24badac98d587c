"""`POST /api/v1/forms/{key}`: the public web-to-lead endpoint, with no API key."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.models import Lead
from crm_app.services import lead_form
from crm_app.settings import client_address, get_settings

PROBLEM = "application/problem+json"
ADA = {"first_name": "Ada", "email": "Ada@Example.com"}


@pytest.fixture
def form(db, people):
    return lead_form.create_form(
        db,
        actor=people.alice,
        data={
            "name": "Contact us",
            "fields": [
                {"name": "first_name", "required": True},
                {"name": "email", "required": True},
                {"name": "company_name"},
            ],
            "source": "Web form",
            "team_id": people.east.id,
        },
    )


def url(form) -> str:
    return f"/api/v1/forms/{form.key}"


def leads(db) -> list[Lead]:
    return list(db.exec(select(Lead).order_by(Lead.id)).all())


def test_a_json_submission_is_201_and_creates_the_lead(client, db, people, form):
    response = client.post(url(form), json=ADA)
    assert response.status_code == 201, response.text
    assert "Thank you" in response.json()["message"]
    (lead,) = leads(db)
    assert (lead.email, lead.source, lead.owner_id) == (
        "ada@example.com",
        "Web form",
        people.bob.id,
    )


def test_an_html_form_submission_works_too(client, db, form):
    response = client.post(url(form), data={**ADA, "company_name": "Engines"})
    assert response.status_code == 201, response.text
    assert leads(db)[0].company_name == "Engines"


def test_invalid_fields_are_422_problem_json_naming_each(client, db, form):
    response = client.post(url(form), json={"first_name": "", "email": "nope"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert {e["field"] for e in response.json()["errors"]} == {"first_name", "email"}
    assert leads(db) == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_an_object_is_422(client, form, body):
    response = client.post(url(form), content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


def test_a_bot_filling_the_honeypot_gets_the_same_answer_and_nothing_is_made(client, db, form):
    human = client.post(url(form), json=ADA)
    bot = client.post(url(form), json={**ADA, lead_form.HONEYPOT_FIELD: "http://spam"})
    assert (bot.status_code, bot.json()) == (human.status_code, human.json())
    assert len(leads(db)) == 1


def test_an_unknown_or_switched_off_form_is_404(client, db, people, form):
    assert client.post("/api/v1/forms/nope", json=ADA).status_code == 404
    lead_form.deactivate_form(db, actor=people.alice, form_id=form.id)
    response = client.post(url(form), json=ADA)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


def test_too_many_submissions_are_429_with_retry_after(client, db, form):
    for i in range(lead_form.RATE_LIMIT):
        ok = client.post(url(form), json={**ADA, "email": f"p{i}@example.com"})
        assert ok.status_code == 201
    limited = client.post(url(form), json=ADA)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert len(leads(db)) == lead_form.RATE_LIMIT


def _fill_quota(client, form, headers: dict[str, str]) -> None:
    for i in range(lead_form.RATE_LIMIT):
        response = client.post(
            url(form), json={**ADA, "email": f"q{i}@example.com"}, headers=headers
        )
        assert response.status_code == 201


def test_a_forged_forwarded_for_does_not_escape_the_limit(client, form):
    _fill_quota(client, form, {"X-Forwarded-For": "198.51.100.1"})
    other = client.post(url(form), json=ADA, headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, form, monkeypatch):
    monkeypatch.setattr(get_settings(), "trusted_proxy_hops", 1)
    # the client claims an address; the proxy appends the one it saw, which is believed
    _fill_quota(client, form, {"X-Forwarded-For": "10.9.9.9, 198.51.100.1"})
    same = client.post(url(form), json=ADA, headers={"X-Forwarded-For": "10.0.0.1, 198.51.100.1"})
    assert same.status_code == 429
    other = client.post(url(form), json=ADA, headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 201


def test_no_api_key_is_needed_and_one_is_ignored(client, people, key_for, form):
    assert client.post(url(form), json=ADA, headers=key_for(people.vic)).status_code == 201


def test_the_endpoint_is_described_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/forms/{key}"]["post"]
    assert "security" not in operation
    assert set(operation["requestBody"]["content"]) >= {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert {"200", "201"} & set(operation["responses"]) == {"201"}
    assert "429" in operation["responses"]
    assert "/api/v1/leads/{lead_id}/convert" in spec["paths"]


@pytest.mark.parametrize(
    ("forwarded", "hops", "expected"),
    [
        (None, 1, "203.0.113.7"),  # no proxy header: the peer
        ("198.51.100.1", 0, "203.0.113.7"),  # not trusted: the peer
        ("10.0.0.1, 198.51.100.1", 1, "198.51.100.1"),  # the nearest proxy's entry
        ("10.0.0.1, 198.51.100.1, 192.0.2.5", 2, "198.51.100.1"),
        ("198.51.100.1", 2, "203.0.113.7"),  # fewer entries than proxies: the peer
    ],
)
def test_client_address_believes_only_trusted_hops(forwarded, hops, expected):
    assert client_address("203.0.113.7", forwarded, hops) == expected
