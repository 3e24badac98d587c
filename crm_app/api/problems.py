"""Errors as application/problem+json (RFC 9457), mapped from domain error codes in one table."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_app.services.errors import DomainError, DuplicateFound, ErrorCode

PROBLEM_JSON = "application/problem+json"

STATUS_BY_CODE = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.VALIDATION: 422,
    ErrorCode.CONFLICT: 409,
    ErrorCode.STALE: 412,
    ErrorCode.LOCKED: 429,
    ErrorCode.RATE_LIMITED: 429,
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# The methods the API answers; a path taking only some of them is a 405 for the others.
API_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def method_not_allowed(allowed_methods: list[str], request: Request) -> JSONResponse:
    """405 naming the methods the path takes."""
    allowed = ", ".join(sorted(allowed_methods))
    return problem(
        405,
        f"{request.method} is not allowed on {request.url.path}; use {allowed}.",
        headers={"Allow": allowed},
    )


def only_methods(router: APIRouter, path: str, *allowed: str) -> None:
    """Answer 405 on `path` for every method but `allowed`. Register it right after the
    path's own routes, before a `/{id}` route the path would otherwise fall into (where
    PATCH /pipelines/order would be a 422 for a pipeline id "order")."""
    others = [m for m in API_METHODS if m not in allowed]

    @router.api_route(path, methods=others, include_in_schema=False)
    def not_allowed(request: Request) -> JSONResponse:
        return method_not_allowed(list(allowed), request)


def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_CODE[exc.code]
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after_seconds:
        headers["Retry-After"] = str(exc.retry_after_seconds)
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    response = problem(
        status, exc.message, errors=errors if status == 422 or errors else None, headers=headers
    )
    if isinstance(exc, DuplicateFound):
        # A 409 for a duplicate names the records it collides with.
        body = json.loads(response.body)
        body["duplicates"] = [{"id": m.id, "label": m.label} for m in exc.matches]
        response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    return response


def _field_name(loc: tuple[Any, ...]) -> str:
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # malformed JSON: the position is a character offset, not a field
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    return problem(422, "The request has invalid fields.", errors=errors)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI and Starlette answer 400 only for a body they cannot parse (bytes that are not
        # UTF-8 JSON, a broken multipart form): invalid input, a 422 naming the body like the rest.
        errors = [{"field": "body", "message": str(exc.detail)}]
        return problem(422, "The request body could not be read.", errors=errors)
    return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
