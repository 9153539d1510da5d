"""Release labels (production, staging, custom) and weighted labels for gradual release (RG5).

A plain label points at one version. A weighted label splits traffic between versions,
e.g. production = v7 90% / v8 10%. Resolution with a key (a user id, a session id) is
deterministic: the key is hashed (SHA-256, salted with prompt and label name) to a point
in [0, 1) that falls into one version's share, so the same user keeps the same version
and, when the split later moves to 50/50, only the users in the moved share switch.
Without a key each call draws at random by weight. Every move is recorded.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.db.base import utcnow
from core.db.models import Prompt, PromptLabel, PromptLabelEvent, PromptVersion
from core.prompts.errors import LabelNotFoundError, LabelTargetError, ValidationError
from core.prompts.models import LabelEventInfo, LabelInfo, PromptVersionInfo, check_label_name
from core.prompts.registry import get_prompt_row, get_version

STANDARD_LABELS = ("production", "staging")


def key_point(key: str, salt: str) -> float:
    """A stable point in [0, 1) for ``key`` (same key and salt -> same point, any process)."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_weighted(weights: list[tuple[Any, float]], key: str | None, salt: str) -> Any:
    """Pick one target of ``(target, weight)`` pairs: by the key's point, or at random."""
    total = sum(w for _, w in weights)
    if not weights or total <= 0:
        raise ValidationError("a weighted label needs at least one positive weight")
    point = key_point(key, salt) if key is not None else random.random()
    threshold = point * total
    running = 0.0
    for target, weight in weights:
        running += weight
        if threshold < running:
            return target
    return weights[-1][0]


def _numbers(session: Session, prompt_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(PromptVersion.id, PromptVersion.version).where(
                PromptVersion.prompt_id == prompt_id
            )
        )
        .tuples()
        .all()
    )


def _label_info(label: PromptLabel, numbers: dict[int, int]) -> LabelInfo:
    weights = None
    if label.weights:
        weights = [(numbers.get(w["version_id"], -1), float(w["weight"])) for w in label.weights]
    return LabelInfo(
        name=label.name,
        version=numbers.get(label.version_id) if label.version_id is not None else None,
        weights=weights,
        updated_by=label.updated_by,
        updated_at=label.updated_at,
    )


def label_infos(session: Session, prompt: Prompt) -> list[LabelInfo]:
    """Every label of ``prompt`` (standard ones first, then by name)."""
    labels = list(session.scalars(select(PromptLabel).where(PromptLabel.prompt_id == prompt.id)))
    if not labels:
        return []
    numbers = _numbers(session, prompt.id)
    order = {name: i for i, name in enumerate(STANDARD_LABELS)}
    labels.sort(key=lambda lb: (order.get(lb.name, len(order)), lb.name))
    return [_label_info(lb, numbers) for lb in labels]


def pick_version_id(session: Session, prompt: Prompt, label: str, key: str | None) -> int:
    """The version id ``label`` resolves to (for ``key`` when the label is weighted)."""
    row = session.scalar(
        select(PromptLabel).where(PromptLabel.prompt_id == prompt.id, PromptLabel.name == label)
    )
    if row is None:
        raise LabelNotFoundError(f"prompt {prompt.name!r} has no label {label!r}")
    if row.weights:
        pairs = [(int(w["version_id"]), float(w["weight"])) for w in row.weights]
        return int(choose_weighted(pairs, key, f"{prompt.name}\x00{label}"))
    if row.version_id is None:
        raise LabelNotFoundError(f"label {label!r} of prompt {prompt.name!r} points at nothing")
    return row.version_id


def _target(
    session: Session, prompt: Prompt, version: int | None, version_id: int | None
) -> PromptVersion:
    if version_id is not None:
        row = session.get(PromptVersion, version_id)
        if row is None:
            raise LabelTargetError(f"no version with id {version_id}")
        if row.prompt_id != prompt.id:
            other = session.get(Prompt, row.prompt_id)
            raise LabelTargetError(
                f"version id {version_id} belongs to prompt {other.name if other else '?'!r}, "
                f"not {prompt.name!r}: a label can only point at its own prompt's versions"
            )
        return row
    if version is None:
        raise LabelTargetError("say which version the label points at")
    found = session.scalar(
        select(PromptVersion).where(
            PromptVersion.prompt_id == prompt.id, PromptVersion.version == int(version)
        )
    )
    if found is None:
        raise LabelTargetError(f"prompt {prompt.name!r} has no version {version}")
    return found


def _normalise_weights(
    weights: Mapping[int, float] | Iterable[tuple[int, float]],
) -> list[tuple[int, float]]:
    pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
    out: list[tuple[int, float]] = []
    for item in pairs:
        try:
            version, weight = item
            version, weight = int(version), float(weight)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"weights must be (version, weight) pairs, got {item!r}") from exc
        if not weight >= 0 or weight == float("inf"):
            raise ValidationError(f"weight of v{version} must be a non-negative number")
        if any(v == version for v, _ in out):
            raise ValidationError(f"v{version} appears twice in the weights")
        out.append((version, weight))
    if len(out) < 1 or sum(w for _, w in out) <= 0:
        raise ValidationError("a weighted label needs at least one version with a positive weight")
    return out


def _record(
    session: Session, prompt: Prompt, label: str, before: Any, after: Any, actor: str | None
) -> None:
    session.add(
        PromptLabelEvent(
            prompt_id=prompt.id, label=label, from_target=before, to_target=after, actor=actor
        )
    )


def _describe_target(row: PromptLabel | None, numbers: dict[int, int]) -> Any:
    if row is None:
        return None
    if row.weights:
        return {
            "weights": [
                {"version": numbers.get(w["version_id"]), "weight": w["weight"]}
                for w in row.weights
            ]
        }
    return {"version": numbers.get(row.version_id) if row.version_id else None}


def set_label(
    db: Database,
    workspace_id: int,
    prompt_name: str,
    label: str,
    *,
    version: int | None = None,
    version_id: int | None = None,
    weights: Mapping[int, float] | Iterable[tuple[int, float]] | None = None,
    actor: str | None = None,
) -> LabelInfo:
    """Point ``label`` at one version (number or id) or at weighted versions; record the move."""
    label = check_label_name(label)
    given = sum(x is not None for x in (version, version_id, weights))
    if given != 1:
        raise ValidationError("give exactly one of version, version_id or weights")
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, prompt_name, lock=True)
        numbers = _numbers(s, prompt.id)
        row = s.scalar(
            select(PromptLabel).where(PromptLabel.prompt_id == prompt.id, PromptLabel.name == label)
        )
        before = _describe_target(row, numbers)
        if row is None:
            row = PromptLabel(prompt_id=prompt.id, name=label)
            s.add(row)
        if weights is not None:
            pairs = _normalise_weights(weights)
            targets = [(_target(s, prompt, v, None), w) for v, w in pairs]
            if len(targets) == 1:
                row.version_id, row.weights = targets[0][0].id, None
            else:
                row.version_id = None
                row.weights = [{"version_id": t.id, "weight": w} for t, w in targets]
        else:
            row.version_id, row.weights = _target(s, prompt, version, version_id).id, None
        row.updated_by = actor
        row.updated_at = utcnow()
        s.flush()
        after = _describe_target(row, numbers)
        if after != before:
            _record(s, prompt, label, before, after, actor)
        return _label_info(row, numbers)


def remove_label(
    db: Database, workspace_id: int, prompt_name: str, label: str, *, actor: str | None = None
) -> None:
    """Delete a label from a prompt (recorded in the history)."""
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, prompt_name, lock=True)
        row = s.scalar(
            select(PromptLabel).where(PromptLabel.prompt_id == prompt.id, PromptLabel.name == label)
        )
        if row is None:
            raise LabelNotFoundError(f"prompt {prompt_name!r} has no label {label!r}")
        _record(s, prompt, label, _describe_target(row, _numbers(s, prompt.id)), None, actor)
        s.delete(row)


def list_labels(db: Database, workspace_id: int, prompt_name: str) -> list[LabelInfo]:
    """The labels of a prompt and where each points."""
    with db.read_session() as s:
        return label_infos(s, get_prompt_row(s, workspace_id, prompt_name))


def label_history(
    db: Database, workspace_id: int, prompt_name: str, label: str | None = None
) -> list[LabelEventInfo]:
    """Label moves of a prompt (one label or all), newest first."""
    with db.read_session() as s:
        prompt = get_prompt_row(s, workspace_id, prompt_name)
        query = (
            select(PromptLabelEvent)
            .where(PromptLabelEvent.prompt_id == prompt.id)
            .order_by(PromptLabelEvent.created_at.desc(), PromptLabelEvent.id.desc())
        )
        if label is not None:
            query = query.where(PromptLabelEvent.label == label)
        return [
            LabelEventInfo(e.label, e.from_target, e.to_target, e.actor, e.created_at)
            for e in s.scalars(query)
        ]


def resolve_label(
    db: Database,
    workspace_id: int,
    prompt_name: str,
    label: str,
    *,
    key: str | None = None,
    expand_snippets: bool = False,
) -> PromptVersionInfo:
    """The version ``label`` resolves to (deterministic for ``key`` on weighted labels)."""
    return get_version(
        db, workspace_id, prompt_name, label=label, key=key, expand_snippets=expand_snippets
    )
