"""The FastAPI app that Reflex mounts underneath (`rx.App(api_transformer=...)`)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount

from crm_app import routes
from crm_app.api import input_guard, problems
from crm_app.api.routes import (
    account,
    activity,
    auth_cookie,
    calendar,
    contact,
    deal,
    email_template,
    export,
    health,
    lead,
    lead_form,
    me,
    oidc,
    pipeline,
    report,
    unsubscribe,
    users,
    webhook,
)

DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"


# Answers every API path no route takes (404), or takes with other methods (405).
CATCH_ALL = f"{routes.API_PREFIX}/{{path:path}}"


def create_app() -> FastAPI:
    """Build the API application with every route and error handler."""
    app = FastAPI(
        title="CRM API",
        version="1",
        description="REST API of the CRM. Authenticate with `Authorization: Bearer <API key>`.",
        openapi_url=f"{routes.API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(input_guard.refuse_nul_characters)],
    )
    problems.install(app)
    v1 = APIRouter(prefix=routes.API_PREFIX)
    v1.include_router(me.router)
    v1.include_router(users.router)
    v1.include_router(contact.router)
    v1.include_router(account.router)
    v1.include_router(deal.router)
    v1.include_router(pipeline.router)
    v1.include_router(lead.router)
    v1.include_router(lead_form.router)
    v1.include_router(activity.router)
    v1.include_router(calendar.router)
    v1.include_router(report.router)
    v1.include_router(webhook.router)
    v1.include_router(email_template.router)
    app.include_router(v1)
    app.include_router(auth_cookie.router)
    app.include_router(oidc.router)
    app.include_router(export.router)
    app.include_router(health.router)
    app.include_router(unsubscribe.router)
    app.mount(f"{routes.API_PREFIX}/docs-static", StaticFiles(directory=DOCS_STATIC), name="docs")

    @app.get(routes.API_DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "",
            title="CRM API",
            swagger_js_url=f"{routes.API_PREFIX}/docs-static/swagger-ui-bundle.js",
            swagger_css_url=f"{routes.API_PREFIX}/docs-static/swagger-ui.css",
            swagger_favicon_url=f"{routes.API_PREFIX}/docs-static/favicon.png",
        )

    @app.api_route(
        CATCH_ALL,
        methods=list(problems.API_METHODS),
        include_in_schema=False,
    )
    def unknown_route(path: str, request: Request) -> JSONResponse:
        # Without this, unknown API paths would fall through to the web app's pages. A path
        # that exists with other methods is a 405 naming them.
        allowed = _methods_allowed(app, request)
        if allowed:
            return problems.method_not_allowed(allowed, request)
        return problems.problem(404, f"No API route {routes.API_PREFIX}/{path}.")

    return app


def _methods_allowed(app: FastAPI, request: Request) -> list[str]:
    """The methods some API route takes on the request's path (none: there is no such path).
    Mounts (the API docs' files, the web app's pages in production) are not API routes."""
    routes_ = [
        r
        for r in app.routes
        if not isinstance(r, Mount)
        and getattr(r, "path", routes.API_PREFIX).startswith(routes.API_PREFIX)
        and getattr(r, "path", "") != CATCH_ALL
    ]
    return [
        method
        for method in problems.API_METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes_)
    ]


api = create_app()
