"""Request ids, JSON logs, Prometheus metrics behind a token, and Sentry when configured."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from crm_app import observability
from crm_app.api.app import create_app
from crm_app.api.deps import get_session
from crm_app.settings import get_settings

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def observed(db):
    """The API behind the `observe` middleware, on the test's transaction."""
    app = create_app()

    def test_session():
        yield db
        db.flush()

    app.dependency_overrides[get_session] = test_session
    with TestClient(observability.observe(app)) as client:
        yield client


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setenv("CRM_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield {"Authorization": f"Bearer {TOKEN}"}
    get_settings.cache_clear()


@pytest.fixture
def json_lines():
    """What the JSON formatter writes for `crm.access` and this module's logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    loggers = [observability.access_log, logging.getLogger(__name__)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_each_response_carries_a_new_request_id(observed):
    first, second = observed.get("/api/v1/health"), observed.get("/api/v1/health")

    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(observed):
    kept = observed.get("/api/v1/health", headers={"X-Request-ID": "lb-1234.abc"})
    replaced = observed.get("/api/v1/health", headers={"X-Request-ID": 'x" injected\\n' * 20})

    assert kept.headers["X-Request-ID"] == "lb-1234.abc"
    assert replaced.headers["X-Request-ID"] != 'x" injected\\n' * 20
    assert len(replaced.headers["X-Request-ID"]) == 32


def test_the_access_line_is_json_with_the_request_id(observed, json_lines):
    response = observed.get("/api/v1/health", headers={"X-Request-ID": "req-42"})

    (line,) = [x for x in json_lines() if x["logger"] == "crm.access"]
    assert line["request_id"] == "req-42" == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/health", 200)
    assert line["level"] == "INFO" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_a_calendar_feed_token_never_reaches_the_log(observed, json_lines):
    observed.get("/api/v1/calendar/s3cr3t-feed-token.ics")
    logging.getLogger(__name__).info("fetched /api/v1/calendar/s3cr3t-feed-token.ics")

    lines = json_lines()
    assert "s3cr3t-feed-token" not in json.dumps(lines)
    access = next(x for x in lines if x["logger"] == "crm.access")
    assert access["path"] == "/api/v1/calendar/<redacted>.ics"


def test_log_lines_inside_a_request_carry_its_id(json_lines):
    token = observability.request_id.set("inside-1")
    try:
        logging.getLogger(__name__).info("working")
    finally:
        observability.request_id.reset(token)

    assert json_lines()[-1]["request_id"] == "inside-1"


def test_metrics_are_not_found_without_a_configured_token(observed):
    assert observed.get("/metrics").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(observed, metrics_token):
    assert observed.get("/metrics").status_code == 401
    assert observed.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_metrics_show_latency_by_route_template_queue_depth_and_failed_deliveries(
    observed, metrics_token, db, people
):
    from crm_app.jobs import app as jobs

    jobs.defer(db, "rescore_leads", queue="leads", lead_ids=[1])
    observed.get("/api/v1/contacts/12345")  # 401 without a key: still timed, by its template

    body = observed.get("/metrics", headers=metrics_token).text

    assert (
        'crm_http_request_duration_seconds_count{route="/api/v1/contacts/{contact_id}",'
        'status="4xx"}'
    ) in body
    assert "/api/v1/contacts/12345" not in body
    assert 'crm_jobs{status="todo"} 1.0' in body
    assert 'crm_jobs{status="failed"} 0.0' in body
    assert 'crm_webhook_deliveries_failed{status="gave_up"} 0.0' in body


def test_metrics_and_health_are_outside_the_api_key_rules(observed):
    assert "/metrics" not in observed.get("/api/v1/openapi.json").json()["paths"]
    assert observed.get("/api/v1/health").status_code == 200


def test_sentry_starts_only_with_a_dsn(monkeypatch):
    sentry_sdk = pytest.importorskip("sentry_sdk")
    started = {}
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: started.update(options))

    assert observability.init_sentry("", "prod") is False
    assert started == {}
    assert observability.init_sentry("https://key@sentry.example/1", "prod") is True
    assert started["dsn"] == "https://key@sentry.example/1"
    assert started["traces_sample_rate"] is None
    assert started["send_default_pii"] is False
