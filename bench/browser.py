"""Debian's Chromium driven by Playwright, and the page steps the browser scenarios share."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.harness import Skip
from crm_app.server import CHROMIUM, CHROMIUM_ARGS

TIMEOUT_MS = 30_000


def launch(stack: ExitStack) -> Any:
    """Headless Chromium, closed with `stack`; Skip when Debian's chromium is not installed."""
    if not Path(CHROMIUM).exists():
        raise Skip(f"{CHROMIUM} is missing; `make bench` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright  # never `playwright install`: Debian's build

    playwright = stack.enter_context(sync_playwright())
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    stack.callback(browser.close)
    return browser


def new_context(browser: Any, base_url: str) -> Any:
    """A fresh browser context (own cookies and cache) on the app."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    return context


def welcome_heading(page: Any) -> Any:
    """The home page's "Welcome, <name>" heading."""
    return page.get_by_role("heading", name=re.compile(r"^Welcome"))


def main_navigation(page: Any) -> Any:
    """The app shell's main navigation."""
    return page.get_by_role("navigation", name="Main")


def fill_sign_in(page: Any, email: str, password: str) -> None:
    """Open /login and fill in the form, without submitting it."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)


def submit_sign_in(page: Any, base_url: str) -> None:
    """Press "Sign in" and wait until the home page greets the user."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    welcome_heading(page).wait_for(state="visible")
