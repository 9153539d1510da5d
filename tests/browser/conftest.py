"""Browser harness: the real app under `streamlit run`, driven by headless Debian Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 90) -> None:
    """Poll Streamlit's health endpoint until it says ok (or the process dies)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling interval while the server boots, not a wait-for
    raise TimeoutError(f"{url} not healthy after {deadline_s}s")


class AppServer:
    """A running `streamlit run app.py` on its own port, data directory and database."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "streamlit.log"
        home.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "WORKBENCH_HOME": str(home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **(env or {}),
        }
        full_env.pop("WORKBENCH_DATABASE_URL", None) if "WORKBENCH_DATABASE_URL" not in (env or {}) else None
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(self.url, self.proc)
        except Exception:
            self.stop()
            raise

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app served on 127.0.0.1 with a fresh SQLite database (one per test module)."""
    server = AppServer(tmp_path_factory.mktemp("app-home"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_url(app_server: AppServer) -> str:
    """Base URL of the running app."""
    return app_server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium via Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API keeps an asyncio loop marked as running in this
    thread while it is open, which would break later tests that call ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed (python3 dev.py test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser page (own context: own cookies and storage) sized like a laptop."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_for_app(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished running the script for the current page."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    _install_run_counter(page)


def _install_run_counter(page) -> None:  # type: ignore[no-untyped-def]
    # Counts script runs that *finished* so rerun() can wait for the one an action starts,
    # even when that run begins and ends between two polls.
    page.evaluate(
        """() => {
          if (window.__wbRuns !== undefined) return;
          window.__wbRuns = 0;
          const app = document.querySelector('[data-testid="stApp"]');
          let last = app.getAttribute('data-test-script-state');
          new MutationObserver(() => {
            const now = app.getAttribute('data-test-script-state');
            if (now === 'notRunning' && last !== 'notRunning') window.__wbRuns += 1;
            last = now;
          }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        }"""
    )


def rerun(page, action, timeout_ms: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """Do ``action()`` (a click, a fill…) and wait for the script run it triggers to finish."""
    _install_run_counter(page)
    before = page.evaluate("() => window.__wbRuns")
    action()
    page.wait_for_function(
        """(n) => window.__wbRuns > n && document.querySelector(
             '[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'""",
        arg=before,
        timeout=timeout_ms,
    )


def commit_input(page, locate, value: str, key: str = "Enter", attempts: int = 3,  # type: ignore[no-untyped-def]
                 verify: bool = True) -> None:
    """Type ``value`` into the widget ``locate()`` finds and commit it with ``key``.

    A rerun still in flight (e.g. the one a URL change starts) can redraw the widget between
    the fill and the key press and swallow the edit; then no run follows. Retry until the
    widget shows the value after a finished run (``verify=False`` for inputs a form clears on
    submit: then only a press that started no run is retried, so nothing is submitted twice).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        wait_for_app(page)
        box = locate()
        box.fill(value)
        try:
            rerun(page, lambda box=box: box.press(key), timeout_ms=15_000)
        except PlaywrightTimeout:
            # No run followed. If the widget still shows the value, Streamlit already had it
            # (an unchanged value starts no run) or sends it with the next interaction.
            if locate().input_value() == value:
                wait_for_app(page)
                return
            if attempt == attempts - 1:
                raise
            continue
        if not verify or locate().input_value() == value:
            return
    raise AssertionError(f"the widget did not keep {value!r}")


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under artifacts/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_exception(page) -> None:  # type: ignore[no-untyped-def]
    """Fail if Streamlit shows an exception box on the page."""
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()
