"""The playground's canonical state in st.session_state, its widgets, runs and autosave.

The canonical :class:`PlaygroundState` lives in ``st.session_state["playground_state"]``.
Widgets never own data: each callback applies its edit through ``core.playground.sync``
and flags a refresh, and at the top of the next script run :func:`push_widgets` writes
the canonical values back into every widget key (allowed then, before widgets exist).
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from core.playground import sessions
from core.playground.requests import CardFieldError
from core.playground.runner import CardJob, RunHandle
from core.playground.state import STANDARD_PARAMS, Card, PlaygroundState, default_state
from core.playground.sync import PlaygroundEditError, apply_edit, replace_card
from ui import deps

STATE = "playground_state"
SESSION_ID = "playground_session_id"
SESSION_NAME = "playground_session_name"
SAVED_HASH = "playground_saved_hash"
PRISTINE = "playground_pristine_hash"
PUSH = "playground_push_widgets"
ERRORS = "playground_errors"  # card_id -> {field: message}
TOKENS = "playground_tokens"  # card_id -> token typed for a custom endpoint (never saved)
NOTICE = "playground_notice"
SETTINGS_KEYS = "settings_session_keys"  # provider -> key typed on the Settings page
CUSTOM = "Custom endpoint…"


def default_model() -> str:
    """The model a new card starts on (the embedded one)."""
    from core.providers import DEFAULT_MODEL

    return str(DEFAULT_MODEL)


def wkey(card_id: str, name: str) -> str:
    """The widget key of a card's field."""
    return f"playground_{card_id}_{name}"


def get_state() -> PlaygroundState:
    """The canonical state (created on first use, or restored from ``?session=``)."""
    if STATE not in st.session_state:
        _init_state()
    state = st.session_state[STATE]
    assert isinstance(state, PlaygroundState)
    return state


def _init_state() -> None:
    sid = st.query_params.get("session")
    if sid:
        try:
            info, state = sessions.load_session(deps.db(), deps.workspace_id(), sid)
        except sessions.SessionNotFoundError:
            st.session_state[NOTICE] = ("warning", f"Session `{sid}` was not found; a new one was started.")
        except sessions.SessionError as exc:
            st.session_state[NOTICE] = ("error", f"Session `{sid}` could not be opened: {exc}")
        else:
            open_state(state, session_id=info.id, name=info.name, saved=True)
            return
    open_state(default_state(default_model()), session_id=None, name=sessions.DEFAULT_NAME)


def open_state(state: PlaygroundState, *, session_id: str | None, name: str, saved: bool = False) -> None:
    """Make ``state`` the current playground (a loaded, imported or new session)."""
    st.session_state[STATE] = state
    st.session_state[SESSION_ID] = session_id
    st.session_state[SESSION_NAME] = name
    st.session_state[SAVED_HASH] = sessions.state_hash(state) if saved else None
    # An untouched new playground is not worth a row in the sessions list.
    st.session_state[PRISTINE] = None if saved else sessions.state_hash(state)
    st.session_state[ERRORS] = {}
    st.session_state[PUSH] = True
    if session_id:
        st.query_params["session"] = session_id
    elif "session" in st.query_params:
        del st.query_params["session"]


def set_state(state: PlaygroundState) -> None:
    """Replace the canonical state and refresh every widget on the next run."""
    st.session_state[STATE] = state
    st.session_state[PUSH] = True


def edit(card_id: str, **changes: Any) -> None:
    """Apply an edit (with sync propagation) and clear that card's errors for those fields."""
    try:
        set_state(apply_edit(get_state(), card_id, **changes))
    except (PlaygroundEditError, ValueError) as exc:
        set_error(card_id, next(iter(changes), "card"), str(exc))
        return
    errors = st.session_state.setdefault(ERRORS, {})
    for cid in list(errors):
        for field in changes:
            errors[cid].pop(field, None)


def set_error(card_id: str, field: str, message: str) -> None:
    """Remember an error to show next to ``field`` in a card."""
    st.session_state.setdefault(ERRORS, {}).setdefault(card_id, {})[field] = message


def card_errors(card_id: str) -> dict[str, str]:
    """Errors to show in a card, by field."""
    return dict(st.session_state.get(ERRORS, {}).get(card_id, {}))


def clear_errors(card_id: str) -> None:
    """Forget a card's errors (a new run starts)."""
    st.session_state.setdefault(ERRORS, {}).pop(card_id, None)


def notice(kind: str, text: str) -> None:
    """A message shown once at the top of the page on the next run."""
    st.session_state[NOTICE] = (kind, text)


# -- widgets -------------------------------------------------------------------------------
def widget_values(card: Card, model_options: list[str]) -> dict[str, Any]:
    """Every value widget of a card, keyed by widget key, from the canonical card."""
    cid = card.id
    values: dict[str, Any] = {
        wkey(cid, "title"): card.title,
        wkey(cid, "model"): CUSTOM if card.endpoint is not None else card.model,
        wkey(cid, "base_url"): card.endpoint.base_url if card.endpoint else "",
        wkey(cid, "model_id"): card.endpoint.model_id if card.endpoint else "",
        wkey(cid, "operation"): card.operation,
        wkey(cid, "format"): card.template_format,
        wkey(cid, "prompt"): card.prompt,
        wkey(cid, "extra"): card.extra_params_json,
        wkey(cid, "tools"): card.tools,
        wkey(cid, "tool_choice"): card.tool_choice or "",
        wkey(cid, "response_format"): card.response_format,
    }
    if card.endpoint is None and card.model not in model_options:
        model_options.append(card.model)
    for i, msg in enumerate(card.messages):
        values[wkey(cid, f"msg_{i}_role")] = msg.role
        values[wkey(cid, f"msg_{i}_content")] = msg.content
    for name, value in card.variables.items():
        values[wkey(cid, f"var_{name}")] = value
    for param in STANDARD_PARAMS:
        value = card.invocation_parameters.get(param)
        if param == "stop":
            value = "\n".join(value) if isinstance(value, list) else (value or "")
        values[wkey(cid, f"p_{param}")] = value
    for turn in card.history:
        for rep, out in enumerate(turn.outputs):
            values[wkey(cid, f"fb_{turn.id}_{rep}")] = out.feedback
    return values


def push_widgets(model_options: list[str]) -> None:
    """Write canonical values into widget keys if an edit flagged it (call before widgets)."""
    if not st.session_state.pop(PUSH, False):
        return
    state = get_state()
    for part in ("models", "messages", "params", "variables", "tools", "chat_input"):
        st.session_state[f"playground_sync_{part}"] = getattr(state.sync, part)
    st.session_state["playground_repeat"] = state.repetitions
    for card in state.cards:
        for key, value in widget_values(card, model_options).items():
            st.session_state[key] = value


def init_widget(key: str, value: Any) -> None:
    """Give a widget its canonical value the first time it appears."""
    if key not in st.session_state:
        st.session_state[key] = value


# -- runs ----------------------------------------------------------------------------------
@st.cache_resource
def _run_registry() -> dict[str, list[RunHandle]]:
    # Process-wide: a run keeps going when the script reruns or the tab reloads, and the
    # next script run of the same session re-attaches to it and commits its results.
    return {}


_registry_lock = threading.Lock()


def run_key() -> str:
    """The registry key of this playground: its session id, else this browser session's id."""
    sid = st.session_state.get(SESSION_ID)
    if not sid:
        sid = sessions_new_id()
        st.session_state[SESSION_ID] = sid
    return str(sid)


def sessions_new_id() -> str:
    """A new session id (the row is written on the first save)."""
    from core.db.base import new_id

    return new_id()


def active_handles() -> list[RunHandle]:
    """Run handles of this playground that are not committed yet."""
    with _registry_lock:
        return [h for h in _run_registry().get(run_key(), []) if not h.committed]


def add_handle(handle: RunHandle) -> None:
    """Register a started run under this playground."""
    with _registry_lock:
        handles = _run_registry().setdefault(run_key(), [])
        handles[:] = [h for h in handles if not h.committed]
        handles.append(handle)


def running_cards() -> set[str]:
    """Ids of cards with a run in progress."""
    return {cid for h in active_handles() for cid in h.cards if h.running(cid)}


def commit_finished() -> bool:
    """Move finished runs into their cards' histories; True if anything changed."""
    changed = False
    state = get_state()
    for handle in active_handles():
        if not handle.done:
            continue
        for cid, job in handle.finished_turns().items():
            state = _commit_job(state, cid, job)
        handle.committed = True
        changed = True
    if changed:
        set_state(state)
    return changed


def _commit_job(state: PlaygroundState, card_id: str, job: CardJob) -> PlaygroundState:
    try:
        card = state.card(card_id)
    except KeyError:
        return state  # the card was removed while it ran; its runs stay recorded
    history = [job.turn] if job.fresh else [*card.history, job.turn]
    ok = any(o.status == "ok" for o in job.turn.outputs)
    for out in job.turn.outputs:
        if out.status == "error" and out.error:
            set_error(card_id, "run", f"{_kind_label(out.error_kind)}{out.error}")
    if ok:
        clear_run_error(card_id)
    return replace_card(state, card.model_copy(update={"history": history, "trace_id": job.trace_id}))


def clear_run_error(card_id: str) -> None:
    """Forget a card's last run error."""
    st.session_state.setdefault(ERRORS, {}).get(card_id, {}).pop("run", None)


def _kind_label(kind: str | None) -> str:
    labels = {
        "unknown_model": "Model: unknown model. ",
        "authentication": "Model: missing or wrong API key. ",
        "context_window_exceeded": "Parameters: prompt + max tokens exceed the context window. ",
        "rate_limited": "Rate limited. ",
        "timeout": "Timed out. ",
        "connection": "Connection failed. ",
        "bad_request": "Rejected by the provider. ",
    }
    return labels.get(kind or "", "")


def field_error_from(exc: CardFieldError) -> None:
    """Record a CardFieldError next to its field."""
    set_error(exc.card_id, exc.field, str(exc))


# -- autosave ------------------------------------------------------------------------------
def autosave() -> None:
    """Save the session if the state changed since the last save (end of every script run)."""
    state = get_state()
    digest = sessions.state_hash(state)
    if digest == st.session_state.get(SAVED_HASH):
        return
    if digest == st.session_state.get(PRISTINE):
        return
    try:
        sid = sessions.save_session(
            deps.db(), deps.workspace_id(), state,
            session_id=run_key(), name=st.session_state.get(SESSION_NAME) or sessions.DEFAULT_NAME,
            user=deps.current_user(),
        )
    except Exception as exc:  # never lose the page over a failed save; say so instead
        st.toast(f"Could not save the session: {exc}", icon="⚠️")
        return
    st.session_state[SAVED_HASH] = digest
    if st.query_params.get("session") != sid:
        st.query_params["session"] = sid
