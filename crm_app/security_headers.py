"""Security headers on every HTTP response of the one port: pages, assets, the API, errors.

The content security policy allows only the app's own origin, with two holes Reflex needs:
- `'unsafe-eval'`: scripts a state handler returns (`rx.call_script` at sign-in and sign-out,
  toasts sent from the server) reach the browser as text and run through `eval`.
- inline styles: emotion and Radix write `<style>` elements and `style` attributes.
Inline scripts are allowed by hash, not wholesale: React Router prerenders a few into each page
(and Swagger UI one into the API docs), so each HTML response's policy lists the hashes of its
own inline scripts, and a script injected into a page does not run.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_app.settings import Settings, client_address, get_settings

HSTS = "max-age=31536000; includeSubDomains"
# A 304's headers replace the cached page's, and it has no body to hash: it keeps the policy
# (with the page's script hashes) that came with the 200.
NOT_MODIFIED = 304
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def websocket_origin(origin: str) -> str:
    """The ws:// or wss:// twin of an http(s) origin: where Reflex's event socket connects."""
    return "ws" + origin.removeprefix("http")


def content_security_policy(settings: Settings, script_hashes: Iterable[str] = ()) -> str:
    """The policy for one response; `script_hashes` are its inline scripts' sha256 digests."""
    origins = dict.fromkeys([settings.base_url, *settings.allowed_origins])
    sockets = [websocket_origin(o) for o in origins if o.startswith(("http://", "https://"))]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *(f"'sha256-{h}'" for h in script_hashes)],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *sockets],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


@lru_cache(maxsize=256)
def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """The base64 sha256 digest of each inline `<script>` in a page, as CSP wants them."""
    return tuple(
        dict.fromkeys(
            base64.b64encode(hashlib.sha256(body).digest()).decode()
            for body in INLINE_SCRIPT.findall(html)
        )
    )


def served_over_https(settings: Settings, scope: Scope) -> bool:
    """Whether the browser reached us over HTTPS: the base URL says so, or the connection,
    or the X-Forwarded-Proto entry of the outermost trusted proxy (the same rule that picks
    the client's address out of X-Forwarded-For)."""
    if settings.base_url.startswith("https://"):
        return True
    forwarded = Headers(scope=scope).get("x-forwarded-proto")
    scheme = client_address(scope.get("scheme", "http"), forwarded, settings.trusted_proxy_hops)
    return scheme == "https"


def _is_html(start: Message) -> bool:
    return Headers(raw=start.get("headers", [])).get("content-type", "").startswith("text/html")


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError):
            return None
    return None  # another encoding: the page gets no inline-script hashes


def security_headers(app: ASGIApp, settings: Settings | None = None) -> ASGIApp:
    """Wrap the app (an `api_transformer`) so every HTTP response carries the headers."""
    settings = settings or get_settings()
    policy = content_security_policy(settings)

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        https = served_over_https(settings, scope)
        page_start: Message | None = None  # an HTML response waits for its body
        page_body: list[bytes] = []

        def finish(start: Message, html: bytes | None = None) -> Message:
            headers = MutableHeaders(scope=start)
            if html is not None:
                decoded = _decoded(html, headers.get("content-encoding", ""))
                hashes = inline_script_hashes(decoded) if decoded is not None else ()
                headers["Content-Security-Policy"] = content_security_policy(settings, hashes)
            elif start["status"] != NOT_MODIFIED:
                headers["Content-Security-Policy"] = policy
            headers["X-Content-Type-Options"] = "nosniff"
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
            headers["X-Frame-Options"] = "DENY"
            if https:
                headers["Strict-Transport-Security"] = HSTS
            return start

        async def send_with_headers(message: Message) -> None:
            nonlocal page_start
            kind = message["type"]
            if kind == "http.response.start":
                if _is_html(message):
                    page_start = message
                    return
                await send(finish(message))
            elif page_start is not None and kind == "http.response.body":
                page_body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    html = b"".join(page_body)
                    await send(finish(page_start, html))
                    await send({"type": "http.response.body", "body": html})
            elif page_start is not None and kind == "http.response.pathsend":
                # Static files may be handed to the server by path instead of as a body.
                await send(finish(page_start, Path(message["path"]).read_bytes()))
                await send(message)
            else:
                await send(message)

        await app(scope, receive, send_with_headers)

    return guard
