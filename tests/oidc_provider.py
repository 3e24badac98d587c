"""A local OpenID provider for tests: discovery, JWKS, /authorize and /token over real HTTP.

It runs on the standard library's threading HTTP server in a background thread on a free
port (uvicorn is not among the project's packages), signs ID tokens RS256 with an RSA key
made by joserfc (Authlib's JOSE library), and auto-approves whoever `user` is. Knobs on
`misbehave` make it answer the way a broken or hostile provider would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

CLIENT_ID = "crm-test"
CLIENT_SECRET = "local-provider-client-secret-0123456789"


@dataclass
class ProviderUser:
    """Who the provider signs in when the browser reaches /authorize."""

    sub: str = "subject-1"
    email: str | None = "ivy@example.com"
    email_verified: bool | None = True
    name: str = "Ivy Invited"


@dataclass
class Misbehaviour:
    """Ways to make the ID token wrong (all off by default)."""

    issuer: str | None = None  # an `iss` other than the discovery document's
    audience: str | list[str] | None = None  # an `aud` other than the client id
    azp: str | None = None
    alg: str = "RS256"  # "none" or "HS256" (keyed with the client secret) to forge
    nonce: str | None = None  # a nonce other than the one asked for
    expired: bool = False  # exp and iat an hour ago
    foreign_key: bool = False  # signed with a key that is not in the JWKS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class LocalProvider:
    """The provider and its knobs; `start()` serves it, `stop()` shuts it down."""

    user: ProviderUser = field(default_factory=ProviderUser)
    misbehave: Misbehaviour = field(default_factory=Misbehaviour)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    port: int = 0
    token_requests: int = 0
    discovery_requests: int = 0

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self._codes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- serving ---------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> LocalProvider:
        provider = self

        class Handler(_Handler):
            pass

        Handler.provider = provider
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        """Back to the default user and good behaviour."""
        self.user = ProviderUser()
        self.misbehave = Misbehaviour()

    def env(self, label: str = "Local SSO") -> dict[str, str]:
        """The app's CRM_OIDC_* variables for this provider."""
        return {
            "CRM_OIDC_DISCOVERY_URL": self.issuer,
            "CRM_OIDC_CLIENT_ID": self.client_id,
            "CRM_OIDC_CLIENT_SECRET": self.client_secret,
            "CRM_OIDC_LABEL": label,
        }

    # -- the protocol ----------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """Auto-approve: a code bound to the request, sent back to the redirect URI."""
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, "unknown client or response type"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, "PKCE S256 is required"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "redirect_uri": query.get("redirect_uri", ""),
                "nonce": query.get("nonce"),
                "challenge": query["code_challenge"],
                "user": ProviderUser(**vars(self.user)),
            }
        separator = "&" if "?" in query.get("redirect_uri", "") else "?"
        location = (
            query.get("redirect_uri", "")
            + separator
            + urlencode({"code": code, "state": query.get("state", "")})
        )
        return 302, location

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        """Check the client, the code (once) and the PKCE verifier; return the ID token."""
        with self._lock:
            self.token_requests += 1
            grant = self._codes.pop(form.get("code", ""), None)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        id_token = self.id_token(grant["user"], grant["nonce"])
        return 200, {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer",
                     "expires_in": 300, "id_token": id_token}  # fmt: skip

    def id_token(self, user: ProviderUser, nonce: str | None) -> str:
        bad = self.misbehave
        now = int(time.time()) - (3600 if bad.expired else 0)
        claims: dict[str, Any] = {
            "iss": bad.issuer or self.issuer,
            "sub": user.sub,
            "aud": bad.audience or self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": bad.nonce or nonce,
            "name": user.name,
        }
        if bad.azp:
            claims["azp"] = bad.azp
        if user.email is not None:
            claims["email"] = user.email
        if user.email_verified is not None:
            claims["email_verified"] = user.email_verified
        if bad.alg == "none":
            header = {"alg": "none", "typ": "JWT"}
            return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        if bad.alg == "HS256":
            key = OctKey.import_key(self.client_secret)
            return jwt.encode({"alg": "HS256", "kid": "test-key-1"}, claims, key)
        key = self.key
        if bad.foreign_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
        return jwt.encode({"alg": bad.alg, "kid": "test-key-1"}, claims, key)


class _Handler(BaseHTTPRequestHandler):
    provider: LocalProvider

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests

    def _send(self, status: int, body: Any, location: str | None = None) -> None:
        data = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header(
            "Content-Type", "application/json" if not isinstance(body, str) else "text/plain"
        )
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self.provider.discovery_requests += 1
            self._send(200, self.provider.discovery())
        elif url.path == "/jwks":
            self._send(200, self.provider.jwks())
        elif url.path == "/authorize":
            status, location = self.provider.authorize(query)
            if status == 302:
                self._send(302, "", location=location)
            else:
                self._send(status, location)
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._send(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.provider.token(form, self.headers.get("Authorization"))
        self._send(status, body)


# -- pytest helpers (import the fixtures into a test module to use them) ---------------------


def authorize(url: str) -> dict[str, str]:
    """Follow the app's authorization URL as the browser would, to the provider, which
    approves at once: the query the provider sends back to the callback (code, state)."""
    import httpx

    response = httpx.get(url, follow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture(scope="session")
def local_provider() -> Iterator[LocalProvider]:
    """One local provider for the whole run."""
    provider = LocalProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(local_provider: LocalProvider, monkeypatch) -> Iterator[LocalProvider]:
    """The app configured for the local provider, which behaves until a test says otherwise."""
    from crm_app.auth import oidc as protocol
    from crm_app.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "oidc_discovery_url", local_provider.issuer)
    monkeypatch.setattr(settings, "oidc_client_id", local_provider.client_id)
    monkeypatch.setattr(settings, "oidc_client_secret", local_provider.client_secret)
    monkeypatch.setattr(settings, "oidc_label", "Local SSO")
    local_provider.reset()
    protocol.clear_cache()
    yield local_provider
    local_provider.reset()
    protocol.clear_cache()
