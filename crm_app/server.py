"""Starting the production server (Reflex's one-port mode) as a child process.

Used by `crm run` / `crm serve`, the browser tests and the benchmark.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crm_app.settings import PROJECT_ROOT

TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"

# Debian's Chromium, as the browser tests and the benchmark drive it. Without the
# background-networking flags it keeps trying to reach Google's hosts.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def reflex_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Reflex needs here: our bun, and no calls to the outside world."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    env.setdefault("REFLEX_HTTP_CLIENT_BIND_ADDRESS", "0.0.0.0")  # noqa: S104 - skips a probe
    env.setdefault(
        "NPM_CONFIG_REGISTRY", env.get("npm_config_registry", "https://registry.npmjs.org/")
    )
    return env


def reflex_command(*, dev: bool = False) -> list[str]:
    """The `reflex run` command line for production (one port) or the dev server."""
    command = [sys.executable, "-m", "reflex", "run", "--loglevel", "info"]
    if not dev:
        command += ["--env", "prod"]
    return command


def serve(*, dev: bool = False, env: dict[str, str] | None = None) -> int:
    """Run Reflex in the foreground until it exits or we are told to stop."""
    process = subprocess.Popen(reflex_command(dev=dev), cwd=PROJECT_ROOT, env=reflex_env(env))

    def forward(signum: int, _frame) -> None:
        # SIGTERM to the main reflex process stops it cleanly; the whole group can hang.
        process.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return process.wait()


def wait_until_up(
    url: str, *, timeout: float = 180.0, process: subprocess.Popen | None = None
) -> None:
    """Poll `url` until it answers 200, the process dies, or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            msg = f"server exited with {process.returncode} before answering {url}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    msg = f"{url} did not answer within {timeout:.0f}s"
    raise TimeoutError(msg)


@contextmanager
def running_server(
    *,
    database_url: str,
    port: int,
    data_dir: Path,
    log_path: Path,
    web_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """A production server on `port` over `database_url`; yields its base URL.

    `web_dir` gives it a frontend build folder of its own, so it can run beside another server.
    """
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "CRM_ENV": "prod",
        "CRM_BASE_URL": base_url,
        "CRM_DATA_DIR": str(data_dir),
        "CRM_CORS_ORIGINS": f"{base_url},http://localhost:{port}",
        **(extra_env or {}),
    }
    if web_dir is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            reflex_command(),
            cwd=PROJECT_ROOT,
            env=reflex_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(f"{base_url}/ping", process=process)
            wait_until_up(f"{base_url}/", process=process)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
