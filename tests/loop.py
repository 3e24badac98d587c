"""Running a coroutine from a synchronous test, whatever else runs in the main thread."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own, in a copy of this context (where Reflex's states
    are registered): once a browser test has run, Playwright's sync API keeps an event loop
    running in the main thread for the rest of the session, where `asyncio.run` refuses to
    start."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, coroutine).result()
