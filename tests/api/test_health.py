"""`GET /api/v1/health`: 200 when the database and the job queue answer, 503 otherwise; no key."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from crm_app.api.deps import get_session

HEALTH = "/api/v1/health"


def test_health_reports_the_database_and_the_job_queue_without_a_key(client, db):
    from crm_app.jobs import app as jobs

    jobs.defer(db, "rescore_leads", queue="leads", lead_ids=[1])
    jobs.defer(db, "rescore_leads", queue="leads", lead_ids=[2])

    response = client.get(HEALTH)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "jobs": {"queued": 2, "failed": 0}}


def test_health_is_503_when_the_database_does_not_answer(client):
    dead = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )

    def unreachable():
        with Session(dead) as session:
            yield session

    client.app.dependency_overrides[get_session] = unreachable
    response = client.get(HEALTH)

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "error"


def test_health_is_503_when_the_job_queue_cannot_be_read(client, monkeypatch):
    def unreadable(session):
        raise ProgrammingError("SELECT", {}, Exception("relation procrastinate_jobs is missing"))

    monkeypatch.setattr("crm_app.observability.job_counts", unreadable)
    response = client.get(HEALTH)

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "jobs": None}


def test_health_is_in_the_api_description(client):
    assert HEALTH in client.get("/api/v1/openapi.json").json()["paths"]
