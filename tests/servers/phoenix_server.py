"""A real Arize Phoenix server (``phoenix serve``) for interop tests, from its own virtualenv.

The full ``arize-phoenix`` distribution pins many packages, so it never goes into the project's
environment: :func:`ensure_phoenix` creates ``.venv-phoenix/`` at the repo root on first use and
installs it there once (a stamp file records the install). Then

    with PhoenixServer() as phx:      # waits until GET /v1/projects answers
        phx.base_url                  # http://127.0.0.1:<port>

Anything that stops the venv or the install from being made raises :class:`PhoenixUnavailable`
(the fixture turns it into a skip unless ``WORKBENCH_PHOENIX_REQUIRED=1``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
import venv
from pathlib import Path

import httpx

from tests.servers.llama_server import free_port

log = logging.getLogger("tests.phoenix")

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".venv-phoenix"
# What to install; override to pin a version (e.g. "arize-phoenix==12.*").
SPEC = os.environ.get("WORKBENCH_PHOENIX_SPEC", "arize-phoenix")
INSTALL_TIMEOUT = 420.0  # below pytest-timeout (600 s), so a slow index skips, not fails


class PhoenixUnavailable(RuntimeError):
    """Phoenix could not be installed or started here (no index, pip error, server crash)."""


def _bin(name: str) -> Path:
    return VENV_DIR / "bin" / name


def ensure_phoenix(spec: str = SPEC) -> float:
    """Create the Phoenix venv and install ``spec`` once; return the seconds it took (0 if done)."""
    stamp = VENV_DIR / ".installed"
    if stamp.is_file() and stamp.read_text().strip() == spec and _bin("phoenix").exists():
        return 0.0
    try:
        VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
        lock = VENV_DIR.with_name(VENV_DIR.name + ".lock").open("w")
    except OSError as exc:
        raise PhoenixUnavailable(f"cannot create {VENV_DIR.name}: {exc}") from exc
    # Two test sessions at once must not install into the same venv concurrently.
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text().strip() == spec and _bin("phoenix").exists():
            return 0.0
        t0 = time.monotonic()
        try:
            if not _bin("python").exists():
                venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
        except Exception as exc:  # ensurepip missing, disk full, ...
            shutil.rmtree(VENV_DIR, ignore_errors=True)
            raise PhoenixUnavailable(f"could not create {VENV_DIR.name}: {exc}") from exc
        cmd = [str(_bin("python")), "-m", "pip", "install", "--disable-pip-version-check",
               "--quiet", spec]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise PhoenixUnavailable(f"pip install {spec} took over {INSTALL_TIMEOUT:.0f}s") from exc
        if proc.returncode != 0 or not _bin("phoenix").exists():
            tail = (proc.stderr or proc.stdout or "")[-1500:]
            raise PhoenixUnavailable(f"pip install {spec} failed ({proc.returncode}):\n{tail}")
        stamp.write_text(spec + "\n")
        took = time.monotonic() - t0
        log.warning("installed %s into %s in %.1fs", spec, VENV_DIR.name, took)
        return took


class PhoenixServer:
    """Start/stop ``phoenix serve`` on free 127.0.0.1 HTTP and gRPC ports with a temp working dir."""

    def __init__(self, *, ready_timeout: float = 120.0) -> None:
        self.port = free_port()
        self.grpc_port = free_port()
        self.ready_timeout = ready_timeout
        self.install_seconds = 0.0
        self.start_seconds = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        self._workdir = tempfile.mkdtemp(prefix="phoenix-work-")
        self._log_path = Path(self._workdir) / "server.log"

    @property
    def base_url(self) -> str:
        """The server's base URL (REST under /v1, OTLP/HTTP at /v1/traces)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PhoenixServer:
        """Install if needed, launch the server and wait until its REST API answers."""
        self.install_seconds = ensure_phoenix()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PHOENIX_", "OTEL_", "VIRTUAL_ENV"))}
        env.update({
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(self.port),
            # The gRPC collector binds every interface whatever PHOENIX_HOST says: a free port.
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_WORKING_DIR": self._workdir,
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        })
        t0 = time.monotonic()
        with self._log_path.open("wb") as out:
            self.proc = subprocess.Popen([str(_bin("phoenix")), "serve"], stdout=out,
                                         stderr=subprocess.STDOUT, env=env, cwd=self._workdir)
        deadline = t0 + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise PhoenixUnavailable(f"phoenix serve exited ({self.proc.returncode}):\n{tail}")
            try:
                if httpx.get(f"{self.base_url}/v1/projects", timeout=1.0).status_code == 200:
                    self.start_seconds = time.monotonic() - t0
                    log.warning("phoenix serve ready on %s in %.1fs", self.base_url,
                                self.start_seconds)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling a condition with a deadline, not waiting blindly
        tail = self.log_tail()
        self.stop()
        raise PhoenixUnavailable(f"phoenix serve not ready in {self.ready_timeout:.0f}s:\n{tail}")

    def log_tail(self, n: int = 3000) -> str:
        """The end of the server's output (for failure messages)."""
        try:
            return self._log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit promptly) and remove its data."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> PhoenixServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
