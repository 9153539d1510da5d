#!/usr/bin/env python3
"""Set up and run Prompt Workbench with nothing but Python 3.11+.

    python3 dev.py app    # create/refresh .venv, install, start the app (SQLite + local model)
    python3 dev.py test   # create/refresh .venv, install test extras and Chromium, run every check

Both are idempotent: a second run reuses the virtual environment and skips installs whose
inputs (pyproject.toml) have not changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("WORKBENCH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
CHROMIUM = Path("/usr/bin/chromium")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def run(*cmd: str | Path, **kw: object) -> None:
    """Run a command from the repo root, echoing it; exit with its code on failure."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[arg-type]
    if code:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    """Create .venv if needed and install the project (editable) with ``extras``."""
    if not PY.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
        run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip", "wheel", "setuptools")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{digest[:16]}"
    if stamp.exists():
        return
    spec = f".[{extras}]" if extras else "."
    print("Installing (the first time builds llama-cpp-python from source: ~7 min)", flush=True)
    run(PY, "-m", "pip", "install", "-e", spec)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def ensure_chromium() -> None:
    """Install Debian's Chromium (and an emoji font) for the browser tests when missing."""
    if CHROMIUM.exists() and EMOJI_FONT.exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-q", env=env)
        run("apt-get", "install", "-y", "-q", "chromium", "fonts-noto-color-emoji", env=env)
    else:
        print("Chromium not found and cannot be installed here: browser tests will skip.")


def app(args: list[str]) -> None:
    """Set up and start the app on its embedded defaults."""
    ensure_venv("")
    port = os.environ.get("WORKBENCH_PORT", "8501")
    os.execv(
        str(PY),
        [str(PY), "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", port,
         "--server.headless", "true", "--browser.gatherUsageStats", "false", *args],
    )


def test(args: list[str]) -> None:
    """Set up and run lint, type checks and the whole test suite."""
    ensure_venv("test")
    ensure_chromium()
    run(PY, "-m", "ruff", "check", "src", "tests", "pages", "app.py", "bench", "dev.py")
    run(PY, "-m", "mypy", "src/core")
    run(PY, "-m", "pytest", *(args or ["-q"]))


def main() -> None:
    """Dispatch ``app`` or ``test``."""
    if len(sys.argv) < 2 or sys.argv[1] not in {"app", "test"}:
        print(__doc__)
        sys.exit(2)
    {"app": app, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
