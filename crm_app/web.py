"""How browsers get the compiled pages: hashed assets cached for good, and page addresses
answered directly instead of through a trailing-slash redirect.

Reflex's static mount sends no Cache-Control, so each page load revalidated every script
(about 20 requests), and `/contacts` answered 307 to `/contacts/` before any of it: two round
trips a user waited through on every full load.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = "/assets/"  # file names carry a content hash: a changed file is a new address
FOREVER = "public, max-age=31536000, immutable"
NOT_PAGES = ("/api/", "/_", "/ping", "/auth/")


@cache
def _static_dir() -> Path:
    from reflex import constants
    from reflex.utils import prerequisites

    return prerequisites.get_web_dir() / constants.Dirs.STATIC


def _page_folder(path: str) -> bool:
    """Whether `path` names a compiled page kept as `<path>/index.html` (like /contacts)."""
    if path.endswith("/") or path.startswith(NOT_PAGES) or "." in path.rsplit("/", 1)[-1]:
        return False
    return (_static_dir() / path.strip("/") / "index.html").is_file()


def _cached_forever(send: Send) -> Send:
    async def send_with_cache_control(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            MutableHeaders(scope=message)["Cache-Control"] = FOREVER
        await send(message)

    return send_with_cache_control


def fast_pages(app: ASGIApp) -> ASGIApp:
    """Wrap the app (an `api_transformer`) so assets are cached and pages served in one trip."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope["path"]
            if path.startswith(ASSETS):
                send = _cached_forever(send)
            elif _page_folder(path):
                scope = {**scope, "path": f"{path}/", "raw_path": f"{path}/".encode()}
        await app(scope, receive, send)

    return serve
