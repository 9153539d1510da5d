"""Settings ▸ Providers: where each provider's key comes from (masked), session-only keys,
and a "Test connection" button per provider."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import credentials
from core.providers.catalog import provider_label
from core.providers.health import CHECK_MODELS, check_provider
from ui.settings_keys import forget_session_key, session_keys, set_session_key

_SOURCE_LABEL = {"session": "typed for this session", "secrets": "secrets.toml",
                 "env": "environment", "none": "—"}
_CHECKS = "settings_provider_checks"


def _status_rows(keys: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for provider in credentials.PROVIDER_KEY_ENV:
        found = credentials.resolve_key(provider, session_keys=keys)
        rows.append({
            "Provider": provider_label(provider),
            "Key": found.masked or "not set",
            "Source": _SOURCE_LABEL[found.source] + (f" ({found.name})" if found.source in
                                                      ("env", "secrets") else ""),
            "Variable": credentials.key_env_vars(provider)[0],
        })
    return rows


def _save(provider: str) -> None:
    value = st.session_state.get(f"settings_key_input_{provider}", "")
    if value and value.strip():
        set_session_key(provider, value)
    st.session_state[f"settings_key_input_{provider}"] = ""  # the plaintext leaves the widget


def render_providers() -> None:
    """The Providers tab."""
    keys = session_keys()
    try:
        rows = _status_rows(keys)
    except credentials.CredentialsError as exc:
        st.error(f"**secrets.toml can't be read.** {exc}")
        rows = _status_rows_without_secrets(keys)
    st.caption("Keys are looked up in this order: typed for this browser session, "
               "`.streamlit/secrets.toml`, environment variables. They are never written to "
               "the database, traces, logs or exports.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="settings_key_table")

    st.subheader("Use a key for this session only")
    names = list(credentials.PROVIDER_KEY_ENV)
    provider = st.selectbox("Provider", names, format_func=provider_label,
                            key="settings_key_provider")
    cols = st.columns([4, 1, 1], vertical_alignment="bottom")
    cols[0].text_input(f"{provider_label(provider)} API key", type="password",
                       key=f"settings_key_input_{provider}",
                       placeholder=credentials.key_env_vars(provider)[0],
                       help="Kept in this browser session only; gone when you close the tab.")
    cols[1].button("Use for session", key=f"settings_key_save_{provider}", on_click=_save,
                   args=(provider,), width="stretch")
    if provider in keys:
        cols[2].button("Forget", key=f"settings_key_forget_{provider}",
                       on_click=forget_session_key, args=(provider,), width="stretch")
        st.success(f"{provider_label(provider)}: using "
                   f"`{credentials.mask_key(keys[provider])}` for this session.")

    st.subheader("Test connection")
    st.caption("Sends a one-token request (not recorded) with the key shown above.")
    test_cols = st.columns([3, 1], vertical_alignment="bottom")
    testable = [p for p in CHECK_MODELS if p != "local"]
    target = test_cols[0].selectbox("Provider to test", ["local", *testable],
                                    format_func=provider_label, key="settings_test_provider")
    if test_cols[1].button("Test connection", key="settings_test_run", width="stretch"):
        with st.spinner(f"Calling {provider_label(target)}…"):
            result = check_provider(target, session_keys=keys)
        st.session_state.setdefault(_CHECKS, {})[target] = (result.ok, result.message)
    shown = st.session_state.get(_CHECKS, {}).get(target)
    if shown:
        (st.success if shown[0] else st.error)(shown[1])


def _status_rows_without_secrets(keys: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for provider in credentials.PROVIDER_KEY_ENV:
        found = credentials.resolve_key(provider, session_keys=keys, secrets={})
        rows.append({"Provider": provider_label(provider), "Key": found.masked or "not set",
                     "Source": _SOURCE_LABEL[found.source],
                     "Variable": credentials.key_env_vars(provider)[0]})
    return rows
