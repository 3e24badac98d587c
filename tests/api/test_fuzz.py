"""API fuzzing: schemathesis generates requests from /api/v1/openapi.json and checks every answer.

It runs as Bob (a rep) with his API key, over a database holding records of several owners, so
generated ids hit real rows, some his and some not. Any finding fails the test: a server error;
a status, content type, header or body the schema does not declare; invalid input accepted; an
operation that answers without a key or with a wrong one; a record still there after its DELETE.
Unknown sort fields and filters are 422s the schema declares, so the fuzzer confirms the
allow-lists rather than tripping on them.

The run is bounded and reproducible: a fixed seed, a fixed number of examples per operation and
phase, one worker, and a pytest timeout over the whole run. Targeted tests then cover what the
fuzzer reaches only by chance: every keyed operation refuses a missing or wrong key (a rep's key
never gets the 2xx that ignored_auth probes from on admin-only routes), only the named public
operations go without one, and a record of every resource the schema can DELETE is gone from
its GET, PATCH, DELETE and list once deleted (the fuzzer's own creates rarely pass validation,
so its stateful use-after-free check seldom has a record to delete).
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.engine import Status, StopReason, events

from crm_app import routes
from crm_app.api.app import create_app
from crm_app.api.deps import get_session
from crm_app.settings import get_settings
from tests.api.helpers import PROBLEM, fields_of
from tests.factories import make_account, make_activity, make_contact, make_deal, make_lead

SCHEMA_URL = f"{routes.API_PREFIX}/openapi.json"
SEED = 20260409
EXAMPLES_PER_OPERATION = 15
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
)


def seed_records(db, people) -> None:
    """A few records of each kind for Bob, his teammate Carol, Dave of another team and Alice."""
    for owner in (people.bob, people.carol, people.dave, people.alice):
        account = make_account(db, owner=owner)
        make_contact(db, owner=owner, account_id=account.id, email=f"c{owner.id}@example.com")
        make_deal(db, owner=owner)
        make_lead(db, owner=owner)
        make_activity(db, owner=owner)


def fuzz_app(db):
    """The API app with each request in a savepoint of the test's transaction: a request that
    fails rolls back alone, as its own transaction would in production, and the next goes on."""
    app = create_app()

    def request_session():
        savepoint = db.begin_nested()
        try:
            yield db
            db.flush()
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    app.dependency_overrides[get_session] = request_session
    return app


def fuzz_config(authorization: str) -> schemathesis.Config:
    """Every phase (examples, coverage, fuzzing, stateful) once, with a fixed seed and budget."""
    checks = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Data generation timed against the clock: on a busy machine it would fail the run
            # for no fault of the API.
            "suppress-health-check": ["too_slow"],
            "workers": 1,  # one database session serves every request
            "headers": {"Authorization": authorization},
            "cache": {"enabled": False},
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
            "phases": {"stateful": {"max-steps": 12}},
            "checks": checks,
        }
    )


def findings_of(schema) -> tuple[list[str], set[str], StopReason]:
    """Run every phase; the findings (one per operation, check and kind), the operations the
    fuzzing phase exercised, and why the run stopped."""
    found: dict[tuple[str, str, str], str] = {}
    exercised: set[str] = set()
    stop_reason = None
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.phase.name == "FUZZING" and event.status != Status.SKIP:
                exercised.add(event.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    found.setdefault(
                        (event.label, check.name, failure.title),
                        f"{event.label} [{check.name}] {failure.title}\n{failure.message}\n"
                        f"{check.failure_info.code_sample}",
                    )
        elif isinstance(event, events.NonFatalError):
            found[(event.label, "error", "")] = f"{event.label} [error]\n{event.info.format()}"
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            stop_reason = event.stop_reason
    return list(found.values()), exercised, stop_reason


@pytest.mark.timeout(240)
def test_fuzzing_the_api_with_a_reps_key_finds_nothing(db, people, key_for, monkeypatch):
    # The per-key request limit commits a counter per request in a transaction of its own,
    # which would be most of the run's time; tests/api/test_rate_limits.py covers it.
    monkeypatch.setattr("crm_app.api.deps._count_key_request", lambda plaintext: None)
    seed_records(db, people)
    authorization = key_for(people.bob)["Authorization"]
    schema = schemathesis.openapi.from_asgi(
        SCHEMA_URL, fuzz_app(db), config=fuzz_config(authorization)
    )

    found, exercised, stop_reason = findings_of(schema)

    assert not found, f"{len(found)} findings:\n\n" + "\n\n".join(found)
    assert stop_reason == StopReason.COMPLETED
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert operations - exercised == set(), "operations the fuzzer never sent"


# Operations open without an API key, on purpose: each has a credential of its own or none.
PUBLIC = {
    "GET /api/v1/health",  # load balancers
    "POST /api/v1/forms/{key}",  # web-to-lead forms on other sites
    "GET /api/v1/calendar/{token}.ics",  # the secret token in the URL is the credential
}


def test_every_operation_but_the_public_ones_declares_the_api_key(client):
    # ignored_auth checks what the schema declares; an operation declaring no security would
    # slip past it, so the open ones are named here.
    schema = client.get(SCHEMA_URL).json()
    open_operations = {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if not operation.get("security", schema.get("security"))
    }

    assert open_operations == PUBLIC


def test_every_keyed_operation_refuses_a_missing_or_wrong_key(client, people):
    # The fuzzer's ignored_auth probes an operation only once its key got a 2xx there, which a
    # rep never gets on admin-only routes; this asks every one of them directly.
    schema = client.get(SCHEMA_URL).json()
    answers = {}
    for path, item in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            if f"{method.upper()} {path}" in PUBLIC:
                continue
            for headers in ({}, {"Authorization": "Bearer crm_wrong"}):
                response = client.request(method.upper(), url, headers=headers)
                answers[(method.upper(), path, bool(headers))] = response.status_code

    assert {key: status for key, status in answers.items() if status != 401} == {}


# --- use after free: every resource with a DELETE -------------------------------------------

PIPELINE = "/api/v1/pipelines"


def _creation_bodies(pipeline_id: int) -> dict[str, tuple[str, dict]]:
    """For each item path with a DELETE: where to POST one, and a body that creates it."""
    return {
        "/api/v1/contacts/{contact_id}": ("/api/v1/contacts", {"first_name": "Gone"}),
        "/api/v1/accounts/{account_id}": ("/api/v1/accounts", {"name": "Gone Ltd"}),
        "/api/v1/deals/{deal_id}": ("/api/v1/deals", {"name": "Gone deal"}),
        "/api/v1/leads/{lead_id}": ("/api/v1/leads", {"first_name": "Gone"}),
        "/api/v1/activities/{activity_id}": (
            "/api/v1/activities",
            {"kind": "note", "subject": "Gone", "body": "Gone"},
        ),
        "/api/v1/pipelines/{pipeline_id}": (PIPELINE, {"name": "Gone pipeline"}),
        "/api/v1/pipelines/{pipeline_id}/stages/{stage_id}": (
            f"{PIPELINE}/{pipeline_id}/stages",
            {"name": "Gone stage", "probability": 10},
        ),
        "/api/v1/webhooks/{webhook_id}": (
            "/api/v1/webhooks",
            {"url": "http://127.0.0.1:9/hook", "events": ["contact.created"]},
        ),
        "/api/v1/email-templates/{template_id}": (
            "/api/v1/email-templates",
            {"name": "Gone", "entity": "contact", "subject": "Hi", "body": "Hello"},
        ),
    }


def _ids_listed(client, url: str, headers: dict[str, str]) -> list[int]:
    ids, cursor = [], None
    while True:
        query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [row["id"] for row in body["data"]]
        cursor = body.get("next_cursor")
        if not cursor:
            return ids


def test_a_deleted_record_of_every_resource_is_404_and_leaves_its_list(
    db, people, key_for, monkeypatch
):
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)
    alice = key_for(people.alice)  # the admin may create and delete every kind of record
    with TestClient(fuzz_app(db)) as client:
        schema = client.get(SCHEMA_URL).json()
        pipeline_id = client.get(PIPELINE, headers=alice).json()["data"][0]["id"]
        bodies = _creation_bodies(pipeline_id)
        deletable = {path for path, item in schema["paths"].items() if "delete" in item}
        assert deletable - set(bodies) == set(), "each resource with a DELETE needs a body here"

        for item_path in sorted(deletable):
            collection, body = bodies[item_path]
            created = client.post(collection, json=body, headers=alice)
            assert created.status_code == 201, (item_path, created.text)
            record = created.json()
            url = f"{collection}/{record['id']}"
            listed = "get" in schema["paths"].get(item_path.rsplit("/", 1)[0], {})
            if listed:
                assert record["id"] in _ids_listed(client, collection, alice)

            assert client.delete(url, headers=alice).status_code == 204, item_path

            for method in ("get", "patch"):
                if method in schema["paths"][item_path]:
                    answer = client.request(method.upper(), url, json={}, headers=alice)
                    assert answer.status_code == 404, (method, item_path, answer.text)
                    assert answer.headers["content-type"] == PROBLEM
            assert client.delete(url, headers=alice).status_code == 404, item_path
            if listed:
                assert record["id"] not in _ids_listed(client, collection, alice), item_path


# --- what the fuzzer found, pinned ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "send", "field"),
    [
        ("get", "/api/v1/contacts?q=a%00b", {}, "q"),
        ("get", "/api/v1/deals?tag=x%00", {}, "tag"),
        ("patch", "/api/v1/contacts/1", {"json": {"tags": ["a\x00b"]}}, "body"),
        ("post", "/api/v1/accounts", {"json": {"name": "A\x00"}}, "body"),
        ("post", "/api/v1/forms/a%00b", {"data": {"email": "a@example.com"}}, "key"),
        ("post", "/api/v1/forms/key", {"data": {"email": "a\x00@example.com"}}, "body"),
        ("get", "/api/v1/calendar/a%00b.ics", {}, "token"),
    ],
)
def test_a_nul_character_anywhere_is_a_422_not_a_server_error(
    client, people, bob, method, url, send, field
):
    response = client.request(method.upper(), url, headers=bob, **send)

    assert response.status_code == 422, response.text
    assert fields_of(response) == {field}


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(client, people, bob):
    response = client.post(
        "/api/v1/contacts",
        content=b'{"first_name": "\xff\xfe"}',
        headers={**bob, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert fields_of(response) == {"body"}


def test_a_broken_multipart_form_is_a_422(client):
    response = client.post(
        "/api/v1/forms/some-key",
        content=b"--xyz\r\nnot a part",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )

    assert response.status_code == 422
    assert fields_of(response) == {"body"}


@pytest.mark.parametrize(
    "url", ["/api/v1/users?cursor=-5", "/api/v1/users?cursor=99999999999", "/api/v1/users/0"]
)
def test_user_ids_out_of_range_are_a_422(client, people, bob, url):
    response = client.get(url, headers=bob)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
