"""Process-wide resources for the pages: the database, the current workspace and user."""

from __future__ import annotations

import logging
import os
import threading

import streamlit as st

from core.config import Settings
from core.db import Database, DatabaseError, get_database


@st.cache_resource(show_spinner="Opening the database…")
def _database(url: str) -> Database:
    return get_database(url)


def settings() -> Settings:
    """Settings from the environment."""
    return Settings.from_env()


def db() -> Database:
    """The shared, migrated Database; stops the page with a clear message if unusable."""
    url = settings().database_url
    try:
        return _database(url)
    except DatabaseError as exc:
        st.error(
            f"**The database can't be used.** {exc.reason}\n\n"
            f"Database: `{exc.url}`. Check `WORKBENCH_DATABASE_URL` (unset it to use the "
            "default SQLite file). Nothing was changed."
        )
        st.stop()
        raise  # unreachable: st.stop() raises


def workspace_id() -> int:
    """Id of the active workspace (created on first use)."""
    database = db()
    slug = settings().workspace
    key = f"_workspace_id::{database.url}::{slug}"
    if key not in st.session_state:
        st.session_state[key] = (
            database.default_workspace_id()
            if slug == "default"
            else database.ensure_workspace(slug)
        )
    return int(st.session_state[key])


def current_user() -> str:
    """Name recorded as author/actor of changes."""
    return settings().user


WARM_UP_ENV = "WORKBENCH_WARM_UP"


def warm_up_contexts() -> int:
    """Embedded-model contexts to make at start: ``WORKBENCH_WARM_UP`` (0 = no warm-up), else 1.

    More than one makes the very first "Run all" on the embedded model start every card
    at once (each context costs ~110 MB); later ones are made on demand anyway.
    """
    raw = os.environ.get(WARM_UP_ENV, "").strip().lower()
    if raw in ("0", "false", "no", "off"):
        return 0
    return int(raw) if raw.isdigit() else 1


def _warm_up(contexts: int) -> None:
    from core.providers import warm_up

    try:
        warm_up(local_contexts=contexts)
    except Exception:  # the first real call will report the problem where it can be shown
        logging.getLogger("ui.deps").warning("warm-up failed", exc_info=True)


@st.cache_resource(show_spinner=False)
def _warm_up_thread(contexts: int) -> threading.Thread:
    thread = threading.Thread(target=_warm_up, args=(contexts,), name="workbench-warm-up",
                              daemon=True)
    thread.start()
    return thread


def warm_up_once() -> threading.Thread | None:
    """Start, once per process, a background thread paying first-call costs (no network).

    The first Run then skips litellm's import and the embedded model's load. Returns the
    thread, or None when ``WORKBENCH_WARM_UP=0`` (e.g. on a host short of memory).
    """
    contexts = warm_up_contexts()
    return _warm_up_thread(contexts) if contexts else None
