"""Workbench-wide settings saved from the Settings page (never secrets).

Stored as a small JSON file in ``WORKBENCH_HOME`` so they survive restarts and need no
database (the database URL itself is configured by environment). Values here are the
lowest-priority source: environment variables and ``.streamlit/secrets.toml`` win.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from core.config import workbench_home

PHOENIX_ENDPOINT = "phoenix_collector_endpoint"
KNOWN_KEYS = frozenset({PHOENIX_ENDPOINT})
_lock = threading.Lock()


class SettingsError(ValueError):
    """A setting that can't be saved (unknown name, or a value that looks like a secret)."""


def settings_path() -> Path:
    """Where the settings file lives."""
    return workbench_home() / "settings.json"


def load_settings() -> dict[str, Any]:
    """All saved settings; an unreadable file counts as empty rather than breaking start-up."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in KNOWN_KEYS} if isinstance(data, dict) else {}


def get_setting(name: str) -> Any:
    """One saved setting, or None."""
    return load_settings().get(name)


def save_setting(name: str, value: Any) -> None:
    """Save (or with None, remove) one setting atomically."""
    if name not in KNOWN_KEYS:
        raise SettingsError(f"unknown setting {name!r}")
    if isinstance(value, str) and "@" in value.split("://", 1)[-1].split("/", 1)[0]:
        raise SettingsError("put credentials in the environment or secrets.toml, not in a URL")
    with _lock:
        data = load_settings()
        if value in (None, ""):
            data.pop(name, None)
        else:
            data[name] = value
        path = settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, path)
