"""What operators see of the running app: a request id on every request and log line, JSON
logs, Prometheus metrics, and errors sent to Sentry.

`observe` is the outermost `api_transformer`, so it times and logs every HTTP request (pages,
API, assets); the event websocket passes through untouched. Reflex's event handlers are timed
by `time_event_handlers`, a lifespan task (see its docstring for why it wraps the processor).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from sqlalchemy import func, text
from sqlmodel import Session, select
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_app.settings import get_settings

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it is short and plain, so it cannot forge log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# The calendar feed's token is its only credential: it must not reach a log or a metric.
CALENDAR_TOKEN = re.compile(r"(/api/v1/calendar/)[^/\s?\"']+(\.ics)")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("crm.access")

# procrastinate's job statuses, each always reported so a series never disappears.
JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
FAILED_DELIVERY_STATUSES = ("failed", "gave_up")

REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request latency by route template and status class.",
    ["route", "status"],
    registry=REGISTRY,
)
EVENT_SECONDS = Histogram(
    "crm_event_handler_seconds",
    "Reflex event handler latency (waiting for the tab's state lock included), by handler.",
    ["handler"],
    registry=REGISTRY,
)
JOBS = Gauge(
    "crm_jobs", "Background jobs by status (procrastinate_jobs).", ["status"], registry=REGISTRY
)
FAILED_DELIVERIES = Gauge(
    "crm_webhook_deliveries_failed",
    "Webhook deliveries whose last attempt failed (failed: will retry; gave_up: will not).",
    ["status"],
    registry=REGISTRY,
)


def redact(text_: str) -> str:
    """`text_` with any calendar feed token replaced by `<redacted>`."""
    return CALENDAR_TOKEN.sub(r"\1<redacted>\2", text_)


def _request_id(scope: Scope) -> str:
    incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def route_label(scope: Scope) -> str:
    """The route's template (`/api/v1/contacts/{contact_id}`), never the raw path, so the
    number of series stays bounded; requests outside a route are grouped."""
    route = scope.get("route")
    if isinstance(route, Route | WebSocketRoute):
        return _with_prefix(route.path, scope.get("path", ""))
    path = scope.get("path", "")
    if path.startswith("/assets/") or "." in path.rsplit("/", 1)[-1]:
        return "static"
    return "reflex" if path.startswith("/_") else "page"


def _with_prefix(template: str, path: str) -> str:
    """The full template: FastAPI's route knows its path within its router only
    (`/contacts/{contact_id}`), so the routers' prefix is taken from the matched path."""
    if ":path}" in template:  # a catch-all spans any number of segments
        return template
    parts = path.split("/")
    return "/".join(parts[: max(len(parts) - template.count("/"), 1)]) + template


def observe(app: ASGIApp) -> ASGIApp:
    """Wrap the app (the last `api_transformer`): request ids, access log, latency metric."""
    setup()

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id.set(rid)
        started, status = perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            REQUEST_SECONDS.labels(route_label(scope), f"{status // 100}xx").observe(seconds)
            path = redact(scope.get("path", ""))
            access_log.info(
                "%s %s %s",
                scope["method"],
                path,
                status,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            request_id.reset(token)

    return observed


def handler_label(registered_handler: Any) -> str:
    """The handler's class and method (`DealBoardState.move`): one series per handler in the
    code, whatever event name a client sends (unknown names never reach a handler)."""
    return registered_handler.handler.fn.__qualname__


@asynccontextmanager
async def time_event_handlers(app: Any) -> AsyncIterator[None]:
    """Lifespan task: time every Reflex event handler into `crm_event_handler_seconds`.

    Reflex 0.10 offers no end-of-event hook: an app middleware's `preprocess` runs before the
    handler but `postprocess` is never called, and its own event timing (`reflex_base.otel`)
    needs the OpenTelemetry SDK and the `reflex-otel` package. So this wraps the narrowest
    place that sees one handler run from start to end, the processor's per-event coroutine
    `_process_event_queue_entry`, on this app's processor instance only. Reflex registers the
    task that creates the processor when the app is built, so it exists when this one starts.
    """
    processor = app.event_processor
    process = processor._process_event_queue_entry

    async def timed(*, entry: Any, registered_handler: Any) -> None:
        started = perf_counter()
        try:
            await process(entry=entry, registered_handler=registered_handler)
        finally:
            seconds = perf_counter() - started
            EVENT_SECONDS.labels(handler_label(registered_handler)).observe(seconds)

    processor._process_event_queue_entry = timed
    try:
        yield
    finally:
        del processor._process_event_queue_entry  # the class's method again


ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id (and the access
    line's method, path, status, duration_ms)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, calendar tokens redacted."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": request_id.get(),
        }
        line.update({k: getattr(record, k) for k in ACCESS_FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_json_logging() -> None:
    """Send every log record (ours, Reflex's, granian's, procrastinate's) to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in list(logging.root.manager.loggerDict):
        named = logging.getLogger(name)
        if named.handlers and not named.propagate:
            named.handlers[:] = [handler]


def init_sentry(dsn: str, environment: str) -> bool:
    """Send errors to Sentry when a DSN is set and sentry-sdk is installed (the `sentry`
    extra); tracing stays off. Returns whether Sentry was started."""
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        logging.getLogger(__name__).warning(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install 'crm-app[sentry]'."
        )
        return False
    # No request bodies, cookies or headers: they carry passwords, sessions and API keys.
    sentry_sdk.init(
        dsn=dsn, environment=environment, traces_sample_rate=None, send_default_pii=False
    )
    return True


@cache
def setup() -> None:
    """Logging format and Sentry, once per process (when the app is assembled)."""
    settings = get_settings()
    if settings.log_format == "json":
        configure_json_logging()
    else:
        access_log.setLevel(logging.WARNING)  # the server's own access log is enough for people
    init_sentry(settings.sentry_dsn, settings.env)


def job_counts(session: Session) -> dict[str, int]:
    """Background jobs by status, every status present (one query)."""
    rows = session.execute(text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1"))
    return {status: 0 for status in JOB_STATUSES} | dict(rows.all())


def failed_deliveries(session: Session) -> dict[str, int]:
    """Webhook deliveries that failed, by status (one query)."""
    from crm_app.models import WebhookDelivery

    query = (
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(FAILED_DELIVERY_STATUSES))
        .group_by(WebhookDelivery.status)
    )
    found = {str(status): n for status, n in session.exec(query).all()}
    return {status: found.get(status, 0) for status in FAILED_DELIVERY_STATUSES}


def refresh_gauges(session: Session) -> None:
    """Read the queue depth and failed deliveries into their gauges (before a scrape)."""
    for status, n in job_counts(session).items():
        JOBS.labels(status).set(n)
    for status, n in failed_deliveries(session).items():
        FAILED_DELIVERIES.labels(status).set(n)
