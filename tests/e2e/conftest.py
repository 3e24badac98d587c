"""Browser tests: the production build served by `reflex run --env prod`, driven by Playwright
in Debian's Chromium, over a database of their own (`crm_e2e_<pid>`)."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from crm_app.server import CHROMIUM, CHROMIUM_ARGS
from crm_app.settings import PROJECT_ROOT
from tests.conftest import SERVER_URL, drop_database, recreate_database
from tests.factories import PASSWORD

METRICS_TOKEN = "e2e-metrics-token"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class E2E:
    """The running app, its database and the people who can sign in (password PASSWORD)."""

    base_url: str
    engine: object
    admin_email: str = "alice@example.com"
    rep_email: str = "bob@example.com"
    viewer_email: str = "vic@example.com"
    password: str = PASSWORD

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture(scope="session")
def sso_provider():
    """A local OpenID provider the server is configured for: the sign-in page shows its
    button; single sign-on is not required, so password sign-in works in every other test."""
    from tests.oidc_provider import LocalProvider

    provider = LocalProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, sso_provider) -> Iterator[E2E]:
    """Migrate a fresh database, add the fixed cast, and serve the production build."""
    from crm_app.db import migrate
    from crm_app.server import running_server
    from tests.factories import make_people

    name = f"crm_e2e_{os.getpid()}"
    url = recreate_database(SERVER_URL, name)
    engine = create_engine(url)
    with engine.connect() as connection:
        migrate(connection)
        connection.commit()
    with Session(engine) as session:
        make_people(session)
        session.commit()
    port = _free_port()
    # another folder lets two runs build side by side, each with its own server log
    web_dir = os.environ.get("CRM_E2E_WEB_DIR", ".web-e2e")
    with running_server(
        database_url=url,
        port=port,
        data_dir=tmp_path_factory.mktemp("e2e-data"),
        log_path=PROJECT_ROOT / "data" / f"e2e-server{web_dir.removeprefix('.web-e2e')}.log",
        web_dir=PROJECT_ROOT / web_dir,
        # every test signs in from 127.0.0.1, mostly as the same few people
        extra_env={
            "CRM_SIGN_IN_IP_LIMIT": "100000",
            "CRM_SIGN_IN_EMAIL_LIMIT": "100000",
            "CRM_METRICS_TOKEN": METRICS_TOKEN,  # /metrics is read by test_event_metrics
            # webhook tests deliver to a receiver on 127.0.0.1
            "CRM_WEBHOOKS_ALLOW_PRIVATE": "1",
            **sso_provider.env(),
        },
    ) as base_url:
        yield E2E(base_url=base_url, engine=engine)
    engine.dispose()
    drop_database(SERVER_URL, name)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless (Playwright never downloads a browser here)."""
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait up to 10 s, not Playwright's 5: a 2-core machine building, serving and
    # browsing at once is sometimes slower than that. What an issue times (a tab leaving within
    # seconds, a board redrawing) keeps its own explicit timeout.
    expect.set_options(timeout=10_000)

    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, app_server):
    """Open pages in fresh browser contexts (separate cookie jars), closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 800):
        context = browser.new_context(
            base_url=app_server.base_url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Fill the sign-in form as a person would."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
