"""Sessions: save/list/rename/delete/load on both databases; export/import round trip."""

from __future__ import annotations

import json

import pytest

from core.playground import sessions, sync
from core.playground.state import Endpoint, Message, RunOutput, Turn, default_state


def rich_state():
    state = default_state("local/smollm2")
    state = sync.add_card(state, "local/smollm2")
    a, b = (c.id for c in state.cards)
    state = sync.apply_edit(
        state, b,
        endpoint=Endpoint(base_url="http://127.0.0.1:9/v1", model_id="tiny"),
        tools='[{"name": "lookup", "parameters": {"type": "object"}}]',
        extra_params_json='{"api_key": "sk-secret-123", "logit_bias": {"1": 2}}',
        history=[Turn(user=Message(content="héllo"), outputs=[RunOutput(text="hi", span_id="ab" * 8)])],
    )
    return sync.set_sync(state, "variables", True)


def test_save_list_load_rename_delete(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    state = rich_state()
    sid = sessions.save_session(database, ws, state, name="My A/B", user="ada")
    assert sessions.save_session(database, ws, state, session_id=sid) == sid  # upsert
    listed = sessions.list_sessions(database, ws)
    assert [(s.id, s.name, s.n_cards, s.created_by) for s in listed] == [(sid, "My A/B", 2, "ada")]
    info, loaded = sessions.load_session(database, ws, sid)
    assert loaded.cards[1].endpoint == state.cards[1].endpoint
    assert loaded.cards[1].history[0].outputs[0].text == "hi"
    assert loaded.sync.variables is True
    sessions.rename_session(database, ws, sid, "Renamed")
    assert sessions.list_sessions(database, ws)[0].name == "Renamed"
    assert sessions.delete_session(database, ws, sid) is True
    assert sessions.delete_session(database, ws, sid) is False
    with pytest.raises(sessions.SessionNotFoundError):
        sessions.load_session(database, ws, sid)


def test_saved_state_never_contains_typed_secrets(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    sid = sessions.save_session(database, ws, rich_state())
    from core.db.models import PlaygroundSession

    with database.session() as s:
        raw = json.dumps(s.get(PlaygroundSession, sid).state)
    assert "sk-secret-123" not in raw
    assert "logit_bias" in raw  # the rest of what was typed is kept


def test_other_workspace_cannot_see_a_session(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    other = database.ensure_workspace("other")
    sid = sessions.save_session(database, ws, rich_state())
    assert sessions.list_sessions(database, other) == []
    with pytest.raises(sessions.SessionNotFoundError):
        sessions.load_session(database, other, sid)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_import_round_trip(fmt: str) -> None:
    state = rich_state()
    text = sessions.export_session(state, name="Shared", fmt=fmt)  # type: ignore[arg-type]
    assert "sk-secret-123" not in text
    name, back = sessions.import_session(text.encode(), filename=f"s.{fmt}")
    assert name == "Shared"
    assert sessions.state_hash(back) == sessions.state_hash(state)
    assert back.cards[1].history[0].user.content == "héllo"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("kind: nope\nstate: {}\n", "not a playground session file", id="wrong-kind"),
        pytest.param("{bad json", "invalid JSON: line 1 column 2", id="bad-json"),
        pytest.param("a: [1,\n", "invalid YAML", id="bad-yaml"),
        pytest.param("- 1\n", "must hold a mapping", id="not-mapping"),
        pytest.param(
            "a: &x [1, 1, 1]\nb: &y [*x, *x, *x]\nc: [*y, *y, *y]\n",
            "anchors and aliases are not allowed", id="alias-bomb",
        ),
        pytest.param(
            "kind: prompt-workbench/playground-session\nstate:\n  cards:\n    - modle: x\n",
            r"cards\.0\.modle: unknown field", id="unknown-field",
        ),
        pytest.param(
            "kind: prompt-workbench/playground-session\nextra: 1\nstate: {}\n",
            "unknown top-level field", id="unknown-top-level",
        ),
    ],
)
def test_import_rejects_bad_files_clearly(text: str, match: str) -> None:
    with pytest.raises(sessions.SessionError, match=match):
        sessions.import_session(text)


def test_state_hash_changes_with_content() -> None:
    state = rich_state()
    other = sync.apply_edit(state, state.cards[0].id, title="x")
    assert sessions.state_hash(state) != sessions.state_hash(other)


def test_scrub_masks_credentials_through_core_credentials() -> None:
    state = default_state("local/smollm2")
    cid = state.cards[0].id
    state = sync.apply_edit(
        state, cid,
        invocation_parameters={"temperature": 0.5},
        extra_params_json='{"extra_headers": {"Authorization": "Bearer abcdef123456"}, "top_k": 4}',
    )
    card = sessions.scrub_secrets(state).cards[0]
    assert json.loads(card.extra_params_json) == {"extra_headers": {"Authorization": "***"}, "top_k": 4}
    assert card.invocation_parameters == {"temperature": 0.5}
    broken = sync.apply_edit(state, cid, extra_params_json='{"api_key": "sk-secret-999999",')
    text = sessions.scrub_secrets(broken).cards[0].extra_params_json
    assert "sk-secret-999999" not in text and text.startswith('{"api_key"')  # still as typed
    untouched = sync.apply_edit(state, cid, extra_params_json='{ "top_k" : 4 }')
    assert sessions.scrub_secrets(untouched).cards[0].extra_params_json == '{ "top_k" : 4 }'
