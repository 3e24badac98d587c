"""Operations endpoints, without an API key:

GET /api/v1/health    for load balancers and uptime checks: the database and job queue
GET /metrics          Prometheus metrics, for `Authorization: Bearer <CRM_METRICS_TOKEN>`
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm_app import observability, routes
from crm_app.api.deps import DbSession
from crm_app.services.errors import NotFound, Unauthenticated
from crm_app.settings import get_settings

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


class JobCounts(BaseModel):
    """Background jobs waiting to run, and those that failed for good."""

    queued: int
    failed: int


class Health(BaseModel):
    """`ok` when the database answers and the job queue can be read."""

    status: str
    database: str
    jobs: JobCounts | None = None


@router.get(
    f"{routes.API_PREFIX}/health",
    response_model=Health,
    summary="Whether the app can serve: its database and job queue",
    responses={503: {"model": Health, "description": "The database or the job queue failed."}},
)
def health(session: DbSession) -> Health | JSONResponse:
    """200 when the database answers and the job queue is readable, else 503."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("Health check: the database did not answer")
        return _unhealthy(session, Health(status="error", database="error"))
    try:
        counts = observability.job_counts(session)
    except SQLAlchemyError:
        log.exception("Health check: the job queue could not be read")
        return _unhealthy(session, Health(status="error", database="ok"))
    return Health(
        status="ok",
        database="ok",
        jobs=JobCounts(queued=counts["todo"], failed=counts["failed"]),
    )


def _unhealthy(session: DbSession, body: Health) -> JSONResponse:
    session.rollback()
    return JSONResponse(body.model_dump(), status_code=503, headers={"Cache-Control": "no-store"})


@router.get("/metrics", include_in_schema=False)
def metrics(session: DbSession, authorization: Annotated[str | None, Header()] = None) -> Response:
    """The Prometheus exposition; 404 unless CRM_METRICS_TOKEN is set, 401 without it."""
    token = get_settings().metrics_token
    if not token:
        raise NotFound("No route /metrics.")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.encode(), token.encode()):
        raise Unauthenticated("Send 'Authorization: Bearer <CRM_METRICS_TOKEN>'.")
    observability.refresh_gauges(session)
    return Response(generate_latest(observability.REGISTRY), media_type=CONTENT_TYPE_LATEST)
