"""One playground card: model, template, variables, parameters, tools, then its conversation."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.playground import sync
from core.playground.requests import parse_tools, template_variables
from core.playground.state import STANDARD_PARAMS, Card, Endpoint, Message
from ui import playground_output as output
from ui import playground_runs as runs
from ui import playground_state as ps
from ui.playground_state import CUSTOM, wkey

ROLES = ["system", "developer", "user", "assistant", "tool"]
FORMATS = ["f-string", "mustache", "jinja2", "none"]
OPERATIONS = {"chat": "Chat", "text_completion": "Text completion"}
PARAM_WIDGETS: dict[str, dict[str, Any]] = {
    "temperature": {"min_value": 0.0, "max_value": 2.0, "step": 0.1, "format": "%.2f"},
    "top_p": {"min_value": 0.0, "max_value": 1.0, "step": 0.05, "format": "%.2f"},
    "max_tokens": {"min_value": 1, "step": 16},
    "seed": {"step": 1},
    "presence_penalty": {"min_value": -2.0, "max_value": 2.0, "step": 0.1, "format": "%.2f"},
    "frequency_penalty": {"min_value": -2.0, "max_value": 2.0, "step": 0.1, "format": "%.2f"},
}
SETUP_HEIGHT = 420  # px; the same in every card so outputs line up across a row
SETUP_FOLDED = "playground_setup_folded"  # ids of cards whose setup was folded at first output
EXAMPLE_TOOLS = json.dumps([{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}], indent=2)
EXAMPLE_SCHEMA = json.dumps({
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer"],
}, indent=2)


# -- callbacks (run before the script; they only touch canonical state) ----------------------
def _value(card_id: str, name: str) -> Any:
    return st.session_state.get(wkey(card_id, name))


def _on_simple(card_id: str, name: str, field: str) -> None:
    value = _value(card_id, name)
    ps.edit(card_id, **{field: value if value is not None else ""})


def _on_model(card_id: str) -> None:
    choice = _value(card_id, "model")
    if choice == CUSTOM:
        card = ps.get_state().card(card_id)
        ps.edit(card_id, endpoint=card.endpoint or Endpoint(base_url="", model_id=""))
        st.session_state[wkey(card_id, "setup")] = True  # its fields live in the setup
    else:
        ps.edit(card_id, model=choice, endpoint=None)


def _on_endpoint(card_id: str) -> None:
    try:
        endpoint = Endpoint(base_url=_value(card_id, "base_url") or "",
                            model_id=_value(card_id, "model_id") or "")
    except ValueError as exc:
        ps.set_error(card_id, "endpoint", f"Endpoint: {_first_error(exc)}")
        return
    ps.edit(card_id, endpoint=endpoint)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return str(errors()[0].get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def _on_token(card_id: str) -> None:
    st.session_state.setdefault(ps.TOKENS, {})[card_id] = _value(card_id, "token") or ""


def _on_message(card_id: str, index: int) -> None:
    card = ps.get_state().card(card_id)
    role = _value(card_id, f"msg_{index}_role")
    content = _value(card_id, f"msg_{index}_content")
    messages = sync.edit_message(card.messages, index, role=role, content=content or "")
    ps.edit(card_id, messages=messages)


def _on_message_op(card_id: str, op: str, index: int = 0) -> None:
    card = ps.get_state().card(card_id)
    if op == "add":
        last = card.messages[-1].role if card.messages else "assistant"
        messages = sync.add_message(card.messages, "assistant" if last == "user" else "user")
    elif op == "remove":
        messages = sync.remove_message(card.messages, index)
    else:
        messages = sync.move_message(card.messages, index, -1 if op == "up" else 1)
    ps.edit(card_id, messages=messages)


def _on_variable(card_id: str, name: str) -> None:
    card = ps.get_state().card(card_id)
    ps.edit(card_id, variables={**card.variables, name: _value(card_id, f"var_{name}") or ""})


def _on_param(card_id: str, param: str) -> None:
    card = ps.get_state().card(card_id)
    value = _value(card_id, f"p_{param}")
    if param == "stop":
        value = [s for s in (value or "").split("\n") if s] or None
    params = {**card.invocation_parameters, param: value}
    ps.edit(card_id, invocation_parameters={k: v for k, v in params.items() if v is not None})


def _on_example(card_id: str, field: str) -> None:
    ps.edit(card_id, **{field: EXAMPLE_TOOLS if field == "tools" else EXAMPLE_SCHEMA})


def _on_card_op(card_id: str, op: str) -> None:
    state = ps.get_state()
    try:
        if op == "duplicate":
            state = sync.duplicate_card(state, card_id)
        elif op == "remove":
            state = sync.remove_card(state, card_id)
            st.session_state.get(ps.TOKENS, {}).pop(card_id, None)
        elif op == "clear":
            state = sync.clear_history(state, card_id)
            ps.clear_errors(card_id)
        elif op in ("left", "right"):
            state = sync.move_card(state, card_id, -1 if op == "left" else 1)
    except sync.PlaygroundEditError as exc:
        ps.notice("error", str(exc))
        return
    ps.set_state(state)


# -- rendering ---------------------------------------------------------------------------------
def _error(errors: dict[str, str], field: str) -> None:
    if field in errors:
        st.error(errors[field], icon="🚫")


def render_card(card: Card, index: int, n_cards: int, model_options: list[str], running: bool,
                placeholders: dict[str, Any]) -> None:
    """Draw a card in the current column: compact header, foldable setup, then the output."""
    cid = card.id
    errors = ps.card_errors(cid)
    with st.container(border=True, key=f"playground_card_{cid}"):
        _header(card, index, n_cards, running)
        _model_picker(card, model_options, errors)
        _setup(card, running, errors)
        if card.replay is not None:
            output.replay_report(card)
        output.conversation(card, running, placeholders)
        # Fields may sit in a folded setup or a closed tab: repeat their errors by the output.
        setup = [msg for field, msg in errors.items() if field not in ("run", "chat_input")]
        if setup:
            st.error("**Not sent.** " + " · ".join(setup), icon="🚫")
        _error(errors, "chat_input")
        _error(errors, "run")
        _run_bar(card, running)


def _setup(card: Card, running: bool, errors: dict[str, str]) -> None:
    cid = card.id
    key = wkey(cid, "setup")
    folded = st.session_state.setdefault(SETUP_FOLDED, set())
    if (card.history or running) and cid not in folded:
        # Fold once, when the card first produces output, so the output sits right under the
        # header; after that the user's choice (open or folded) sticks.
        st.session_state[key] = False
        folded.add(cid)
    ps.init_widget(key, True)
    with st.expander("⚙ Setup", key=key, on_change="rerun"):
        if card.endpoint is not None:
            _endpoint(card, errors)
        # Every tab of every card scrolls inside the same fixed height: the outputs of cards in
        # one row start at the same height whatever each card's setup holds.
        # Variables get a tab of their own: they are what A/B runs change most, and under the
        # messages they would sit below the fold of the fixed-height box.
        n_vars = len(template_variables(card))
        tab_template, tab_vars, tab_params, tab_tools = st.tabs(
            ["Template", f"Variables ({n_vars})" if n_vars else "Variables", "Params",
             "Tools"])
        with tab_template, _scroll():
            _template(card, errors)
        with tab_vars, _scroll():
            _variables(card, errors)
        with tab_params, _scroll():
            _params(card, errors)
        with tab_tools, _scroll():
            _tools(card, errors)


def _scroll() -> Any:
    # The inner plain container keeps the fields at their natural heights: directly inside a
    # fixed-height container they would be squeezed to fit instead of scrolling.
    outer = st.container(height=SETUP_HEIGHT, border=False)
    return outer.container()


def _header(card: Card, index: int, n_cards: int, running: bool) -> None:
    cid = card.id
    ps.init_widget(wkey(cid, "title"), card.title)
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.text_input("Title", key=wkey(cid, "title"), placeholder=f"Card {index + 1}",
                   label_visibility="collapsed", on_change=_on_simple, args=(cid, "title", "title"))
    with row.popover("⋯", width="content", help="Card actions"):
        st.button("⧉ Duplicate", key=wkey(cid, "duplicate"), on_click=_on_card_op,
                  args=(cid, "duplicate"), width="stretch", disabled=n_cards >= sync.MAX_CARDS)
        st.button("🧹 Delete chat history", key=wkey(cid, "clear"), on_click=_on_card_op,
                  args=(cid, "clear"), width="stretch", disabled=running or not card.history,
                  help="Erase this card's conversation; keep its setup")
        c1, c2 = st.columns(2)
        c1.button("◀ Move", key=wkey(cid, "left"), on_click=_on_card_op, args=(cid, "left"),
                  disabled=index == 0, width="stretch")
        c2.button("Move ▶", key=wkey(cid, "right"), on_click=_on_card_op, args=(cid, "right"),
                  disabled=index == n_cards - 1, width="stretch")
        from ui import playground_dialogs as dialogs

        if st.button("💾 Save as prompt version", key=wkey(cid, "save_prompt"), width="stretch"):
            dialogs.save_prompt_dialog(cid)
        st.divider()
        st.caption("Remove this card and its conversation?")
        st.button("✕ Remove card", key=wkey(cid, "remove"), on_click=_on_card_op, args=(cid, "remove"),
                  type="primary", disabled=n_cards <= 1 or running, width="stretch")


def _model_picker(card: Card, model_options: list[str], errors: dict[str, str]) -> None:
    cid = card.id
    options = [*model_options, CUSTOM]
    current = CUSTOM if card.endpoint is not None else card.model
    if current not in options:
        options.insert(0, current)
    ps.init_widget(wkey(cid, "model"), current)
    st.selectbox("Model", options, key=wkey(cid, "model"), on_change=_on_model, args=(cid,),
                 label_visibility="collapsed",
                 help="A catalog model, or any OpenAI-compatible endpoint (base URL + model id)")
    _error(errors, "model")
    # Labels folded into the values ("Chat", "f-string template") keep the header short.
    c1, c2 = st.columns(2)
    ps.init_widget(wkey(cid, "operation"), card.operation)
    ps.init_widget(wkey(cid, "format"), card.template_format)
    c1.selectbox("Operation", list(OPERATIONS), format_func=OPERATIONS.__getitem__,
                 key=wkey(cid, "operation"), on_change=_on_simple, args=(cid, "operation", "operation"),
                 label_visibility="collapsed")
    c2.selectbox("Template format", FORMATS, key=wkey(cid, "format"), on_change=_on_simple,
                 args=(cid, "format", "template_format"), label_visibility="collapsed",
                 format_func=lambda f: "no templating" if f == "none" else f"{f} template")


def _endpoint(card: Card, errors: dict[str, str]) -> None:
    cid = card.id
    assert card.endpoint is not None
    ps.init_widget(wkey(cid, "base_url"), card.endpoint.base_url)
    ps.init_widget(wkey(cid, "model_id"), card.endpoint.model_id)
    st.text_input("Base URL", key=wkey(cid, "base_url"), placeholder="http://127.0.0.1:8000/v1",
                  on_change=_on_endpoint, args=(cid,))
    c1, c2 = st.columns(2)
    c1.text_input("Model id", key=wkey(cid, "model_id"), on_change=_on_endpoint, args=(cid,))
    c2.text_input("Token", key=wkey(cid, "token"), type="password", on_change=_on_token, args=(cid,),
                  help="For this browser session only: never saved, exported or recorded")
    _error(errors, "endpoint")


def _template(card: Card, errors: dict[str, str]) -> None:
    cid = card.id
    if card.operation == "text_completion":
        ps.init_widget(wkey(cid, "prompt"), card.prompt)
        st.text_area("Prompt", key=wkey(cid, "prompt"), height=140, on_change=_on_simple,
                     args=(cid, "prompt", "prompt"), placeholder="Once upon a time, {topic}…")
        _error(errors, "prompt")
        return
    for i, msg in enumerate(card.messages):
        _message_row(card, i, msg, len(card.messages))
    st.button("+ Message", key=wkey(cid, "add_msg"), on_click=_on_message_op, args=(cid, "add"))
    _error(errors, "messages")


def _message_row(card: Card, i: int, msg: Message, n: int) -> None:
    cid = card.id
    ps.init_widget(wkey(cid, f"msg_{i}_role"), msg.role)
    ps.init_widget(wkey(cid, f"msg_{i}_content"), msg.content)
    # Role and its small buttons on one tight row (wide columns spread the buttons apart).
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.selectbox(f"Message {i + 1}", ROLES, key=wkey(cid, f"msg_{i}_role"), width=150,
                     label_visibility="collapsed", on_change=_on_message, args=(cid, i))
        st.caption(f"#{i + 1}", width="stretch")
        st.button("↑", key=wkey(cid, f"msg_{i}_up"), on_click=_on_message_op, args=(cid, "up", i),
                  disabled=i == 0, help="Move up", type="tertiary")
        st.button("↓", key=wkey(cid, f"msg_{i}_down"), on_click=_on_message_op, args=(cid, "down", i),
                  disabled=i == n - 1, help="Move down", type="tertiary")
        st.button("✕", key=wkey(cid, f"msg_{i}_del"), on_click=_on_message_op, args=(cid, "remove", i),
                  help="Remove message", type="tertiary")
    st.text_area(f"Content of message {i + 1}", key=wkey(cid, f"msg_{i}_content"),
                 label_visibility="collapsed", height=68 if msg.role == "system" else 90,
                 on_change=_on_message, args=(cid, i))
    if msg.tool_calls:
        st.caption("Tool calls in this message")
        st.json(msg.tool_calls, expanded=False)
    if msg.tool_call_id:
        st.caption(f"Answers tool call `{msg.tool_call_id}`")


def _variables(card: Card, errors: dict[str, str]) -> None:
    names = template_variables(card)
    cid = card.id
    if not names:
        st.caption("No variables in this template. Use `{name}` (f-string), `{{name}}` "
                   "(mustache/jinja2) to add some.")
        _error(errors, "variables")
        return
    st.markdown("**Variables**")
    for name in names:
        ps.init_widget(wkey(cid, f"var_{name}"), card.variables.get(name, ""))
        st.text_area(name, key=wkey(cid, f"var_{name}"), height=68, on_change=_on_variable,
                     args=(cid, name))
    _error(errors, "variables")


def _params(card: Card, errors: dict[str, str]) -> None:
    cid = card.id
    supported = runs.supported_params(card)
    cols = st.columns(2)
    for n, param in enumerate(p for p in STANDARD_PARAMS if p != "stop"):
        value = card.invocation_parameters.get(param)
        ps.init_widget(wkey(cid, f"p_{param}"), value)
        with cols[n % 2]:
            st.number_input(param, key=wkey(cid, f"p_{param}"), on_change=_on_param, args=(cid, param),
                            placeholder="default", disabled=supported is not None and param not in supported,
                            **PARAM_WIDGETS[param])
    stop = card.invocation_parameters.get("stop")
    ps.init_widget(wkey(cid, "p_stop"), "\n".join(stop) if isinstance(stop, list) else (stop or ""))
    st.text_area("stop (one per line)", key=wkey(cid, "p_stop"), height=68, on_change=_on_param,
                 args=(cid, "stop"))
    _error(errors, "invocation_parameters")
    ps.init_widget(wkey(cid, "extra"), card.extra_params_json)
    st.text_area("Extra parameters (JSON object)", key=wkey(cid, "extra"), height=80,
                 placeholder='{"top_k": 40}', on_change=_on_simple, args=(cid, "extra", "extra_params_json"),
                 help="Any other parameter the model accepts. Credentials don't go here.")
    _error(errors, "extra_params_json")
    if supported is not None:
        st.caption("Accepted by this model: " + ", ".join(sorted(supported)))


def _tools(card: Card, errors: dict[str, str]) -> None:
    cid = card.id
    ps.init_widget(wkey(cid, "tools"), card.tools)
    st.text_area("Tools (JSON list)", key=wkey(cid, "tools"), height=120, on_change=_on_simple,
                 args=(cid, "tools", "tools"), placeholder='[{"type": "function", "function": {...}}]',
                 disabled=card.operation != "chat")
    _error(errors, "tools")
    try:
        names = [t["function"]["name"] for t in parse_tools(cid, card.tools) or []]
    except ValueError:
        names = []
    options = ["", "auto", "none", "required", *names]
    if card.tool_choice and card.tool_choice not in options:
        options.append(card.tool_choice)
    ps.init_widget(wkey(cid, "tool_choice"), card.tool_choice or "")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c1.selectbox("Tool choice", options, key=wkey(cid, "tool_choice"),
                 format_func=lambda o: o or "(provider default)", on_change=_on_simple,
                 args=(cid, "tool_choice", "tool_choice"))
    c2.button("Example tool", key=wkey(cid, "ex_tools"), on_click=_on_example, args=(cid, "tools"))
    _error(errors, "tool_choice")
    ps.init_widget(wkey(cid, "response_format"), card.response_format)
    st.text_area("Response format / output schema (JSON)", key=wkey(cid, "response_format"), height=120,
                 on_change=_on_simple, args=(cid, "response_format", "response_format"),
                 placeholder='{"type": "json_object"} or a JSON schema',
                 help="A bare JSON schema is sent as a json_schema response format; outputs are checked against it")
    st.button("Example schema", key=wkey(cid, "ex_schema"), on_click=_on_example,
              args=(cid, "response_format"))
    _error(errors, "response_format")


def _run_bar(card: Card, running: bool) -> None:
    cid = card.id
    c_run, c_stop = st.columns(2)
    c_run.button("▶ Run", key=wkey(cid, "run"), type="primary", disabled=running, width="stretch",
                 on_click=runs.start, args=([cid],), kwargs={"fresh": True},
                 help="Run the template from the start (replaces this card's conversation)")
    c_stop.button("■ Stop", key=wkey(cid, "stop"), disabled=not running, width="stretch",
                  on_click=runs.stop, args=(cid,))
    if card.operation == "chat":
        sync_on = ps.get_state().sync.chat_input
        st.chat_input("Message all cards…" if sync_on else "Continue the conversation…",
                      key=wkey(cid, "chat"), on_submit=runs.on_chat, args=(cid,), disabled=running)
