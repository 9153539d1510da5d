"""Settings ▸ Endpoints: OpenAI-compatible endpoints (base URL, models, prices, token
variable), model discovery and a connection test. Tokens are never stored."""

from __future__ import annotations

import streamlit as st

from core import credentials
from core.endpoints import (
    Endpoint,
    EndpointError,
    create_endpoint,
    delete_endpoint,
    discover_models,
    list_endpoints,
    price_per_million,
    update_endpoint,
)
from core.providers.health import check_endpoint
from ui import deps
from ui.settings_keys import session_keys

_FLASH = "settings_endpoints_flash"
_DISCOVERED = "settings_endpoints_discovered"


def _token_for(env_name: str | None, typed: str | None) -> str | None:
    if typed:
        return typed
    if not env_name:
        return None
    try:
        return credentials.resolve_named(env_name, session_keys=session_keys()).key
    except credentials.CredentialsError:
        return credentials.resolve_named(env_name, secrets={}).key


def _prices_from(models: list[str], prefix: str, existing: dict[str, dict[str, float]]
                 ) -> dict[str, dict[str, float]]:
    """Per-model price inputs (USD per million tokens)."""
    out: dict[str, dict[str, float]] = {}
    if not models:
        return out
    st.caption("Prices in USD per million tokens (leave 0 for free, clear for unknown).")
    for model in models:
        current = existing.get(model, {})
        c = st.columns([2, 1, 1])
        c[0].markdown(f"`{model}`")
        inp = c[1].number_input("Input $/M", min_value=0.0, step=0.01, format="%.4f",
                                value=_per_m(current.get("input_cost_per_token")),
                                key=f"{prefix}_in_{model}")
        outp = c[2].number_input("Output $/M", min_value=0.0, step=0.01, format="%.4f",
                                 value=_per_m(current.get("output_cost_per_token")),
                                 key=f"{prefix}_out_{model}")
        entry = price_per_million(inp, outp)
        if entry:
            out[model] = entry
    return out


def _per_m(value: float | None) -> float | None:
    return None if value is None else round(value * 1e6, 6)


def _models_field(prefix: str, default: list[str]) -> list[str]:
    found = st.session_state.get(_DISCOVERED, {}).get(prefix)
    text = st.text_area("Model ids (one per line)", value="\n".join(found or default),
                        key=f"{prefix}_models_{len(found or [])}", height=100)
    return [m.strip() for m in text.splitlines() if m.strip()]


def _discover_button(prefix: str, base_url: str, token: str | None) -> None:
    if st.button("🔎 Discover models", key=f"{prefix}_discover"):
        try:
            ids = discover_models(base_url, token)
        except EndpointError as exc:
            st.error(str(exc))
            return
        st.session_state.setdefault(_DISCOVERED, {})[prefix] = ids
        st.session_state[_FLASH] = f"Found {len(ids)} model(s) at {base_url}."
        st.rerun()


def _new_endpoint_form() -> None:
    with st.expander("➕ Add an endpoint", expanded=not list_endpoints(deps.db(), deps.workspace_id())):
        name = st.text_input("Name", key="settings_ep_new_name", placeholder="e.g. vLLM on gpu-box")
        base_url = st.text_input("Base URL", key="settings_ep_new_url",
                                 placeholder="https://api.example.com/v1",
                                 help="Include the version path, e.g. …/v1")
        env_name = st.text_input("Token variable (optional)", key="settings_ep_new_env",
                                 placeholder="MY_ENDPOINT_TOKEN",
                                 help="NAME of an environment variable or secrets.toml entry "
                                      "holding the token. The token itself is never stored.")
        typed = st.text_input("Token for discovery (not saved)", type="password",
                              key="settings_ep_new_token")
        if base_url:
            _discover_button("settings_ep_new", base_url, _token_for(env_name, typed))
        models = _models_field("settings_ep_new", [])
        prices = _prices_from(models, "settings_ep_new_price", {})
        if st.button("Save endpoint", key="settings_ep_new_save", type="primary"):
            try:
                ep = create_endpoint(name, base_url, models, prices=prices, token_env_var=env_name,
                                     db=deps.db(), workspace_id=deps.workspace_id())
            except EndpointError as exc:
                st.error(str(exc))
                return
            st.session_state.get(_DISCOVERED, {}).pop("settings_ep_new", None)
            st.session_state[_FLASH] = f"Saved endpoint {ep.name}."
            st.rerun()


def _endpoint_editor(ep: Endpoint) -> None:
    prefix = f"settings_ep_{ep.id}"
    with st.expander(f"**{ep.name}** — `{ep.base_url}` · {len(ep.model_ids)} model(s)"):
        name = st.text_input("Name", value=ep.name, key=f"{prefix}_name")
        base_url = st.text_input("Base URL", value=ep.base_url, key=f"{prefix}_url")
        env_name = st.text_input("Token variable", value=ep.token_env_var or "",
                                 key=f"{prefix}_env")
        typed = st.text_input("Token for testing (not saved)", type="password",
                              key=f"{prefix}_token")
        token = _token_for(env_name or None, typed)
        if ep.token_env_var and not token:
            st.warning(f"`{ep.token_env_var}` is not set in the environment or secrets.toml.")
        _discover_button(prefix, base_url, token)
        models = _models_field(prefix, ep.models)
        prices = _prices_from(models, f"{prefix}_price", ep.prices)
        cols = st.columns(3)
        if cols[0].button("Save changes", key=f"{prefix}_save", type="primary"):
            try:
                update_endpoint(ep.id, db=deps.db(), name=name, base_url=base_url,
                                model_ids=models, prices=prices, token_env_var=env_name)
            except EndpointError as exc:
                st.error(str(exc))
            else:
                st.session_state.get(_DISCOVERED, {}).pop(prefix, None)
                st.session_state[_FLASH] = f"Saved {name}."
                st.rerun()
        test_model = models[0] if models else None
        if cols[1].button("Test connection", key=f"{prefix}_test"):
            with st.spinner("Testing…"):
                result = check_endpoint(base_url, token, model=test_model)
            (st.success if result.ok else st.error)(result.message)
        confirm = cols[2].checkbox("Confirm delete", key=f"{prefix}_confirm")
        if cols[2].button("Delete", key=f"{prefix}_delete", disabled=not confirm):
            try:
                delete_endpoint(ep.id, db=deps.db())
            except EndpointError as exc:
                st.error(str(exc))
            else:
                st.session_state[_FLASH] = f"Deleted {ep.name}."
                st.rerun()


def render_endpoints() -> None:
    """The Endpoints tab."""
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(flash)
    st.caption("Any OpenAI-compatible server (vLLM, Ollama's /v1, LM Studio, llama.cpp, a "
               "gateway) given as base URL + model ids + an optional token variable.")
    _new_endpoint_form()
    for ep in list_endpoints(deps.db(), deps.workspace_id()):
        _endpoint_editor(ep)
