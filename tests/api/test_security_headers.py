"""Security headers on every response, checked in-process on the stack the one port serves:
the API (with Reflex's CORS middleware) over the compiled pages and assets, wrapped by
`security_headers` as `api_transformer` does."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib

import pytest
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from pydantic import ValidationError
from reflex.app import App
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles

from crm_app.api.app import create_app
from crm_app.security_headers import security_headers
from crm_app.settings import Settings, get_settings

THEME_SCRIPT = "document.documentElement.classList.add('light');"
PAGE = f"<!DOCTYPE html><html><head><script>{THEME_SCRIPT}</script></head><body></body></html>"
NOT_FOUND_PAGE = "<!DOCTYPE html><html><body>Not found</body></html>"


def sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


@pytest.fixture
def build(tmp_path):
    """A compiled frontend in miniature: a page (also gzipped), an asset and a 404 page."""
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "index.html").write_text(PAGE)
    (tmp_path / "contacts" / "index.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "root-abc123.js").write_text("export default 1;")
    (tmp_path / "404.html").write_text(NOT_FOUND_PAGE)
    return tmp_path


def serve(build, settings: Settings) -> TestClient:
    api = create_app()

    @api.get("/old-address")
    def moved() -> RedirectResponse:
        return RedirectResponse("/contacts/")

    @api.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    App._add_cors(api)  # what Reflex does to a Starlette api_transformer
    api.mount("", PrecompressedStaticFiles(directory=build, html=True, encodings=["gzip"]))
    return TestClient(security_headers(api, settings), raise_server_exceptions=False)


@pytest.fixture
def client(build) -> TestClient:
    return serve(build, get_settings())


def assert_hardened(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/contacts/", 200),
        ("/assets/root-abc123.js", 200),
        ("/no-such-page", 404),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/no-such-route", 404),
        ("/api/v1/contacts", 401),
        ("/old-address", 307),
        ("/boom", 500),
    ],
)
def test_every_response_carries_the_headers(client, path, status):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status
    assert_hardened(response)


def test_with_the_pages_mounted_a_wrong_method_is_still_405_and_a_wrong_path_404(client):
    # the web app's mount at "" takes any path and method; it must not count as an API route
    put = client.put("/api/v1/contacts/1")
    assert (put.status_code, put.headers["allow"]) == (405, "DELETE, GET, PATCH")
    assert client.post("/api/v1/no-such-route").status_code == 404
    assert_hardened(put)


def test_a_page_runs_only_its_own_inline_scripts(client):
    for encoding in ("identity", "gzip"):
        response = client.get("/contacts/", headers={"Accept-Encoding": encoding})
        assert response.text == PAGE
        assert response.headers.get("content-encoding", "identity") == encoding
        assert f"'sha256-{sha256(THEME_SCRIPT)}'" in directives(response)["script-src"]


def test_a_revalidated_page_keeps_the_policy_it_was_cached_with(client):
    etag = client.get("/contacts/").headers["etag"]
    response = client.get("/contacts/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert "content-security-policy" not in response.headers  # no body to hash
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_docs_page_may_run_swagger_ui(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    script_src = directives(response)["script-src"]
    assert sum(source.startswith("'sha256-") for source in script_src) == 1
    assert "/api/v1/docs-static/swagger-ui-bundle.js" in response.text  # 'self'


def test_styles_and_sockets_are_limited_to_the_apps_origins(build):
    settings = Settings(
        CRM_BASE_URL="https://crm.example.com", CRM_CORS_ORIGINS="https://crm.example.com"
    )
    policy = directives(serve(build, settings).get("/contacts/"))
    assert policy["connect-src"] == ["'self'", "wss://crm.example.com"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # emotion and Radix
    assert policy["img-src"] == ["'self'", "data:", "blob:"]


def test_hsts_only_over_https(build):
    plain = Settings(CRM_BASE_URL="http://crm.example.com")
    assert "strict-transport-security" not in serve(build, plain).get("/contacts/").headers
    secure = Settings(CRM_BASE_URL="https://crm.example.com")
    response = serve(build, secure).get("/api/v1/openapi.json")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_hsts_believes_x_forwarded_proto_only_from_a_trusted_proxy(build):
    forwarded = {"X-Forwarded-Proto": "https"}
    direct = serve(build, Settings(CRM_BASE_URL="http://crm.example.com"))
    assert "strict-transport-security" not in direct.get("/", headers=forwarded).headers
    proxied = serve(
        build, Settings(CRM_BASE_URL="http://crm.example.com", CRM_TRUSTED_PROXY_HOPS=1)
    )
    assert "strict-transport-security" in proxied.get("/", headers=forwarded).headers
    assert "strict-transport-security" not in proxied.get("/").headers


def test_the_api_answers_cors_only_for_the_configured_origins(client):
    allowed = get_settings().allowed_origins[0]
    own = client.get("/api/v1/openapi.json", headers={"Origin": allowed})
    assert own.headers["access-control-allow-origin"] == allowed
    foreign = client.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    preflight = client.options(
        "/api/v1/contacts",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_reflex_is_never_configured_for_every_origin():
    from reflex.config import get_config

    assert get_config().cors_allowed_origins == get_settings().allowed_origins
    assert Settings(CRM_CORS_ORIGINS="").allowed_origins == [get_settings().base_url]
    with pytest.raises(ValidationError):
        Settings(CRM_CORS_ORIGINS="*")
    with pytest.raises(ValidationError):
        Settings(CRM_CORS_ORIGINS="https://crm.example.com, *")


def test_websockets_pass_through_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(security_headers(app, get_settings())({"type": "websocket"}, None, None))
    assert seen == ["websocket"]
