"""Release labels: move with history, weighted labels resolved deterministically by key."""

from __future__ import annotations

from collections import Counter

import pytest

from core import prompts as P
from core.prompts.labels import choose_weighted, key_point


def _prompt(db, ws, name="greet", n=3):  # type: ignore[no-untyped-def]
    for i in range(n):
        P.save_version(db, ws, name, template_type="text", template_format="f-string",
                       template=f"v{i + 1} {{x}}", note=f"n{i + 1}")


def test_labels_point_at_versions_and_moves_are_recorded(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _prompt(database, ws)
    P.set_label(database, ws, "greet", "production", version=1, actor="ann")
    P.set_label(database, ws, "greet", "staging", version=3, actor="bob")
    P.set_label(database, ws, "greet", "production", version=2, actor="carol")
    P.set_label(database, ws, "greet", "production", version=2, actor="dave")  # no-op: not recorded
    assert P.get_version(database, ws, "greet", label="production").version == 2
    assert P.resolve_label(database, ws, "greet", "staging").version == 3
    assert [(li.name, li.version) for li in P.list_labels(database, ws, "greet")] == [("production", 2), ("staging", 3)]
    assert P.get_version(database, ws, "greet", version=2).labels == ["production"]
    history = P.label_history(database, ws, "greet", "production")
    assert [(e.actor, e.from_target, e.to_target) for e in history] == [
        ("carol", {"version": 1}, {"version": 2}),
        ("ann", None, {"version": 1}),
    ]
    assert history[0].created_at >= history[1].created_at
    P.remove_label(database, ws, "greet", "staging", actor="eve")
    assert P.label_history(database, ws, "greet", "staging")[0].to_target is None
    with pytest.raises(P.LabelNotFoundError):
        P.get_version(database, ws, "greet", label="staging")
    summary = P.get_prompt_summary(database, ws, "greet")
    assert summary.labels == {"production": "v2"}


def test_label_errors(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _prompt(database, ws, "a", 2)
    _prompt(database, ws, "b", 1)
    other = P.get_version(database, ws, "b", version=1)
    with pytest.raises(P.LabelTargetError, match="belongs to prompt 'b'"):
        P.set_label(database, ws, "a", "production", version_id=other.version_id)
    with pytest.raises(P.LabelTargetError, match="no version 9"):
        P.set_label(database, ws, "a", "production", version=9)
    for bad in ["latest", "v3", "12", "has space", ""]:
        with pytest.raises(P.ValidationError):
            P.set_label(database, ws, "a", bad, version=1)
    with pytest.raises(P.ValidationError):
        P.set_label(database, ws, "a", "production", version=1, weights={1: 1})
    with pytest.raises(P.ValidationError):
        P.set_label(database, ws, "a", "production", weights={1: 0, 2: 0})
    with pytest.raises(P.ValidationError):
        P.set_label(database, ws, "a", "production", weights={1: -5, 2: 10})
    with pytest.raises(P.ValidationError):
        P.get_version(database, ws, "a", label="production", version=1)
    assert P.list_labels(database, ws, "a") == []  # nothing half-written


def test_weighted_label_is_deterministic_per_key_and_follows_weights(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _prompt(database, ws)
    info = P.set_label(database, ws, "greet", "production", weights={2: 90, 3: 10}, actor="ann")
    assert info.weights == [(2, 90.0), (3, 10.0)] and info.describe() == "v2 90% / v3 10%"
    picks = {f"user-{i}": P.get_version(database, ws, "greet", label="production", key=f"user-{i}").version
             for i in range(400)}
    counts = Counter(picks.values())
    assert set(counts) == {2, 3}
    assert 0.84 < counts[2] / 400 < 0.96
    # Same key, same version - every time and in every process (the hash is not Python's hash()).
    for key in list(picks)[:40]:
        assert P.get_version(database, ws, "greet", label="production", key=key).version == picks[key]
    assert P.get_version(database, ws, "greet", version=3).labels == ["production"]
    # Widening the share of v3 moves users only from v2 to v3, never back.
    P.set_label(database, ws, "greet", "production", weights={2: 50, 3: 50})
    for key, before in picks.items():
        after = P.get_version(database, ws, "greet", label="production", key=key).version
        assert before == after or (before, after) == (2, 3)
    history = P.label_history(database, ws, "greet")
    assert history[0].to_target == {"weights": [{"version": 2, "weight": 50.0}, {"version": 3, "weight": 50.0}]}


def test_choose_weighted_is_stable_and_exact() -> None:
    assert key_point("user-1", "p\x00production") == key_point("user-1", "p\x00production")
    assert key_point("user-1", "p\x00production") != key_point("user-1", "p\x00staging")
    assert 0 <= key_point("anything", "s") < 1
    assert choose_weighted([("a", 1.0)], "k", "s") == "a"
    assert choose_weighted([("a", 0.0), ("b", 1.0)], "k", "s") == "b"
    with pytest.raises(P.ValidationError):
        choose_weighted([], "k", "s")
    random_picks = Counter(choose_weighted([("a", 1), ("b", 3)], None, "s") for _ in range(2000))
    assert 0.68 < random_picks["b"] / 2000 < 0.82
