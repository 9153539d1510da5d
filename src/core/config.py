"""Process-wide settings read from the environment (never from streamlit)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path.home() / ".prompt-workbench"


def workbench_home() -> Path:
    """Directory holding the default SQLite file and other local state."""
    return Path(os.environ.get("WORKBENCH_HOME", str(DEFAULT_HOME))).expanduser()


def default_sqlite_url() -> str:
    """SQLAlchemy URL of the default SQLite database file."""
    return f"sqlite:///{workbench_home() / 'workbench.db'}"


def database_url() -> str:
    """The database to use: ``WORKBENCH_DATABASE_URL`` or the default SQLite file."""
    url = os.environ.get("WORKBENCH_DATABASE_URL", "").strip()
    return url or default_sqlite_url()


def redact_url(url: str) -> str:
    """A database URL safe to show: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown only by its scheme
        return url.split(":", 1)[0] + ":…"


@dataclass(frozen=True)
class Settings:
    """Settings resolved once per call; cheap, so no caching."""

    database_url: str
    workspace: str
    user: str

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from environment variables."""
        return cls(
            database_url=database_url(),
            workspace=os.environ.get("WORKBENCH_WORKSPACE", "default"),
            user=os.environ.get("WORKBENCH_USER", os.environ.get("USER", "local")),
        )
