"""Layout of the Settings page: providers, endpoints, models, API tokens, tracing."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pandas as pd
import streamlit as st

from core.providers.catalog import list_models, provider_label
from ui import deps
from ui.settings_endpoints import render_endpoints
from ui.settings_providers import render_providers


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@st.cache_data(ttl=3600, show_spinner="Loading the model catalog…")
def _catalog_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for m in list_models():
        inp, out = m.price_per_million
        rows.append({"Provider": provider_label(m.provider), "Model": m.id,
                     "Context": m.max_input_tokens, "Max output": m.max_output_tokens,
                     "Input $/M": inp, "Output $/M": out, "Tools": m.supports_tools,
                     "JSON schema": m.supports_response_schema})
    return rows


def _render_models() -> None:
    st.caption("Models litellm knows from its bundled price list (no network), the embedded "
               "model first. Custom endpoints' models are under Endpoints.")
    frame = pd.DataFrame(_catalog_rows())
    cols = st.columns([1, 2])
    providers = sorted(frame["Provider"].unique())
    chosen = cols[0].multiselect("Providers", providers, key="settings_models_providers")
    query = cols[1].text_input("Search", key="settings_models_search", placeholder="gpt-4o, claude…")
    if chosen:
        frame = frame[frame["Provider"].isin(chosen)]
    if query:
        frame = frame[frame["Model"].str.contains(query, case=False, regex=False)]
    st.dataframe(frame, hide_index=True, width="stretch", key="settings_models_table")


def _render_tracing() -> None:
    if not _module_exists("core.tracing"):
        st.info("Tracing is not available in this build.")
        return
    tracing = importlib.import_module("core.tracing")
    try:
        status = tracing.phoenix_status()
    except Exception as exc:  # the recorder could not start (e.g. database)
        st.error(f"Tracing status is unavailable: {type(exc).__name__}.")
        return
    if status.get("enabled"):
        st.success(f"Exporting spans to Phoenix at `{status.get('endpoint')}` "
                   f"(project **{status.get('project')}**).")
    else:
        st.info("Spans are stored in the workbench database only. Set a Phoenix collector "
                "below (or `PHOENIX_COLLECTOR_ENDPOINT` in the environment or secrets.toml) "
                "to also export them to Arize Phoenix.")
    _render_phoenix_form(tracing)
    c = st.columns(4)
    try:
        from core.tracing.store import count_spans

        c[3].metric("Spans stored here", count_spans(deps.db(), deps.workspace_id(), span_kind=None))
    except Exception:  # a metric is not worth failing the tab for
        c[3].metric("Spans stored here", "—")
    c[0].metric("Exported spans", status.get("exported", 0))
    c[1].metric("Failed exports", status.get("failed", 0))
    c[2].metric("Last export", status.get("last_export_at") or "—")
    if status.get("last_error"):
        st.warning(f"Last export error: {status['last_error']}")


def _render_phoenix_form(tracing: Any) -> None:
    from core import app_settings
    from core.tracing.phoenix import endpoint_source

    source = endpoint_source()
    if source in {"environment", "secrets"}:
        where = "the environment" if source == "environment" else "secrets.toml"
        st.caption(f"The collector is set in {where}; change it there.")
        return
    saved = app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) or ""
    with st.form("settings_phoenix_form", border=True):
        url = st.text_input(
            "Phoenix collector URL", value=saved, key="settings_phoenix_url",
            placeholder="http://127.0.0.1:6006",
            help="Base URL of a Phoenix server; spans go to <URL>/v1/traces over OTLP/HTTP. "
                 "Saved for this workbench (not a secret) and applied at once.",
        )
        c = st.columns(2)
        save = c[0].form_submit_button("Save and export", type="primary", width="stretch")
        stop = c[1].form_submit_button("Stop exporting", width="stretch", disabled=not saved)
    if save:
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            st.error("Phoenix collector URL: it must start with http:// or https://.")
            return
        try:
            app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, url)
        except app_settings.SettingsError as exc:
            st.error(f"Phoenix collector URL: {exc}.")
            return
        tracing.get_recorder(deps.settings().database_url).configure_phoenix(url)
        st.toast("Phoenix export on")
        st.rerun()
    if stop:
        app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, None)
        tracing.get_recorder(deps.settings().database_url).configure_phoenix(None)
        st.toast("Phoenix export off")
        st.rerun()


def render_settings_page() -> None:
    """The whole page."""
    st.title("Settings")
    deps.db()  # a clear error (and stop) if the database can't be used
    tabs = st.tabs(["🔑 Providers", "🔌 Endpoints", "📚 Models", "🎟️ API tokens", "📡 Tracing"])
    with tabs[0]:
        render_providers()
    with tabs[1]:
        render_endpoints()
    with tabs[2]:
        _render_models()
    with tabs[3]:
        if _module_exists("ui.api_tokens"):
            importlib.import_module("ui.api_tokens").render_api_tokens()
        else:
            st.info("API tokens are not available in this build.")
    with tabs[4]:
        _render_tracing()
