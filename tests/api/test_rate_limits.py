"""Rate limits over HTTP: 429 with Retry-After and a problem+json body, per API key and per
address on the sign-in hand-off."""

from __future__ import annotations

from crm_app.services import auth
from crm_app.settings import get_settings
from tests.api.helpers import PROBLEM
from tests.factories import PASSWORD


def test_an_api_key_over_its_rate_is_told_to_wait_and_another_key_still_works(
    client, people, key_for, monkeypatch
):
    monkeypatch.setattr(get_settings(), "api_rate_limit", 3)
    bob, carol = key_for(people.bob), key_for(people.carol)
    assert [client.get("/api/v1/me", headers=bob).status_code for _ in range(3)] == [200] * 3

    refused = client.get("/api/v1/me", headers=bob)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    assert refused.json()["status"] == 429
    assert refused.json()["detail"].startswith("Too many requests with this API key. Try again")
    assert client.get("/api/v1/me", headers=carol).status_code == 200


def test_an_unknown_key_is_401_not_counted_against_anyone(client, people, bob, monkeypatch):
    monkeypatch.setattr(get_settings(), "api_rate_limit", 2)
    wrong = {"Authorization": "Bearer crm_not-a-key"}
    assert [client.get("/api/v1/me", headers=wrong).status_code for _ in range(4)] == [401] * 4
    assert client.get("/api/v1/me", headers=bob).status_code == 200


def test_the_sign_in_hand_off_is_limited_per_address_bad_codes_included(
    client, db, people, monkeypatch
):
    monkeypatch.setattr(get_settings(), "sign_in_ip_limit", 3)
    assert [
        client.post("/auth/session", json={"code": f"guess-{n}"}).status_code for n in range(3)
    ] == [401] * 3
    good = auth.sign_in(db, email="bob@example.com", password=PASSWORD, ip="192.0.2.1")

    refused = client.post("/auth/session", json={"code": good.handoff_code})

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"] == PROBLEM
