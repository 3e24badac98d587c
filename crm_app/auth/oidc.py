"""OpenID Connect, the protocol side: discovery, the provider's keys, the authorization URL,
the code exchange and the checks of the ID token. No database here: `services/oidc.py`
decides who signs in.

Authlib's OAuth 2 client builds the authorization URL (with PKCE S256) and exchanges the code;
joserfc, Authlib's JOSE library (what `authlib.jose` became), verifies the ID token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import OAuth2Client

# Asymmetric algorithms only: never "none", and never HS*, whose key would be the client
# secret (or, in the classic confusion, the provider's public key).
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "PS256")
HTTP_TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60
WELL_KNOWN = "/.well-known/openid-configuration"


class OidcError(Exception):
    """The provider could not be reached (`unavailable`) or an answer failed a check
    (`invalid`); `detail` is for the log, never for the person signing in."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the provider's discovery document this app uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...] = ()


_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget fetched discovery documents and key sets (tests; a provider changed)."""
    with _cache_lock:
        _cache.clear()


def discovery_url(configured: str) -> str:
    """The discovery document's URL: as configured, or the issuer URL plus the well-known
    path."""
    url = configured.strip()
    return url if url.endswith(WELL_KNOWN) else url.rstrip("/") + WELL_KNOWN


def _fetch_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OidcError("unavailable", f"GET {url} failed: {error}") from error
    if not isinstance(document, dict):
        raise OidcError("invalid", f"GET {url} did not return a JSON object")
    return document


def _cached(key: str, fetch, *, refresh: bool = False):
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and not refresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = fetch()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def provider_metadata(configured_url: str) -> ProviderMetadata:
    """The provider's endpoints and issuer, fetched once an hour at most."""
    url = discovery_url(configured_url)

    def fetch() -> ProviderMetadata:
        document = _fetch_json(url)
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        missing = [name for name in needed if not isinstance(document.get(name), str)]
        if missing:
            raise OidcError("invalid", f"discovery document lacks {', '.join(missing)}")
        methods = document.get("token_endpoint_auth_methods_supported") or ()
        return ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            token_auth_methods=tuple(m for m in methods if isinstance(m, str)),
        )

    return _cached(f"discovery:{url}", fetch)


def _key_set(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    def fetch() -> KeySet:
        try:
            return KeySet.import_key_set(_fetch_json(jwks_uri))
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise OidcError("invalid", f"unreadable key set at {jwks_uri}: {error}") from error

    return _cached(f"jwks:{jwks_uri}", fetch, refresh=refresh)


def new_secret() -> str:
    """A random value for state, nonce or PKCE verifier (48 URL-safe characters)."""
    return generate_token(48)


def _client(
    metadata: ProviderMetadata, *, client_id: str, client_secret: str, redirect_uri: str, scope: str
) -> OAuth2Client:
    # Imported here: loading it warns about httpx's future, and a password sign-in (which
    # asks this module whether SSO is required) needs none of it.
    from authlib.integrations.httpx_client import OAuth2Client

    if not client_secret:
        auth_method = "none"  # a public client: PKCE alone proves the code is ours
    elif metadata.token_auth_methods and "client_secret_basic" not in metadata.token_auth_methods:
        auth_method = "client_secret_post"
    else:
        auth_method = "client_secret_basic"
    return OAuth2Client(
        client_id=client_id,
        client_secret=client_secret or None,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def authorization_url(
    metadata: ProviderMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    """Where to send the browser: the provider's sign-in, with state, nonce and PKCE."""
    with _client(
        metadata, client_id=client_id, client_secret="", redirect_uri=redirect_uri, scope=scope
    ) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
        )
    return url


def exchange_code(
    metadata: ProviderMetadata,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> str:
    """Trade the authorization code (and the PKCE verifier) for the ID token."""
    with _client(
        metadata,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        scope="",
    ) as client:
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
        except OAuthError as error:
            raise OidcError("invalid", f"token endpoint refused the code: {error}") from error
        except httpx.HTTPError as error:
            raise OidcError("unavailable", f"token endpoint unreachable: {error}") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("invalid", "token response has no id_token")
    return id_token


def _decode(id_token: str, jwks_uri: str) -> jwt.Token:
    try:
        try:
            return jwt.decode(id_token, _key_set(jwks_uri), algorithms=ALLOWED_ALGORITHMS)
        except InvalidKeyIdError:
            # The provider rotated its keys since we fetched them: fetch once more.
            return jwt.decode(
                id_token, _key_set(jwks_uri, refresh=True), algorithms=ALLOWED_ALGORITHMS
            )
    except (JoseError, ValueError) as error:
        raise OidcError("invalid", f"ID token signature refused: {error}") from error


def verify_id_token(
    id_token: str, *, metadata: ProviderMetadata, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims, once its signature (an allowed algorithm, the provider's key),
    issuer, audience (and authorized party), nonce, expiry and issue time all check out."""
    token = _decode(id_token, metadata.jwks_uri)
    claims = token.claims
    registry = JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata.issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise OidcError("invalid", f"ID token claim refused: {error}") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise OidcError("invalid", f"ID token authorized party {azp!r} is not this client")
    return claims
