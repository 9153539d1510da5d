"""Prompts and their append-only versions: create, rename, move, archive, save, rollback."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from core.db import Database
from core.db.base import utcnow
from core.db.models import Prompt, PromptLabel, PromptVersion
from core.prompts.errors import (
    DuplicateNameError,
    PromptNotFoundError,
    ValidationError,
    VersionNotFoundError,
)
from core.prompts.folders import folder_paths, resolve_folder
from core.prompts.models import (
    PromptSummary,
    PromptVersionInfo,
    VersionSpec,
    check_name,
    content_hash,
)
from core.prompts.render import validate_template
from core.prompts.snippets import (
    Resolver,
    SessionResolver,
    expand_template,
    template_references,
)


def _is_union_tag(part: object) -> bool:
    # pydantic names the branch of a union in the location ("list[ChatMessage]", "str").
    return isinstance(part, str) and (
        part in ("str", "int", "float", "bool") or "[" in part or part.startswith("function-")
    )


def pydantic_message(exc: pydantic.ValidationError) -> str:
    """One line per problem, each naming the field path (``llm_config.tools.0``)."""
    errors = exc.errors()
    # For "list of messages or a string", a list with a bad message also fails the string
    # branch; that second complaint only confuses, so it goes when there are others.
    branch_errors = [
        e for e in errors if "str" in e.get("loc", ()) and e.get("type") == "string_type"
    ]
    if len(branch_errors) < len(errors):
        errors = [e for e in errors if e not in branch_errors]
    lines = []
    for err in errors:
        parts = [str(p) for p in err.get("loc", ()) if not _is_union_tag(p)]
        where = ".".join(parts) or "(input)"
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{where}: {msg}")
    return "; ".join(dict.fromkeys(lines))


def get_prompt_row(session: Session, workspace_id: int, name: str, *, lock: bool = False) -> Prompt:
    """The prompt named ``name`` or PromptNotFoundError; ``lock`` takes a row lock (FOR UPDATE)."""
    query = select(Prompt).where(Prompt.workspace_id == workspace_id, Prompt.name == name)
    if lock:
        query = query.with_for_update()
    prompt = session.scalar(query)
    if prompt is None:
        raise PromptNotFoundError(f"no prompt named {name!r}")
    return prompt


def labels_by_version(session: Session, prompt_id: int) -> dict[int, list[str]]:
    """version_id -> names of the labels that can resolve to it."""
    out: dict[int, list[str]] = {}
    for label in session.scalars(
        select(PromptLabel).where(PromptLabel.prompt_id == prompt_id).order_by(PromptLabel.name)
    ):
        targets = [w["version_id"] for w in label.weights] if label.weights else [label.version_id]
        for vid in targets:
            if vid is not None:
                out.setdefault(vid, []).append(label.name)
    return out


def version_info(
    prompt: Prompt, row: PromptVersion, labels: list[str] | None = None
) -> PromptVersionInfo:
    """A detached value for a version row."""
    return PromptVersionInfo(
        prompt_id=prompt.id,
        prompt_name=prompt.name,
        version_id=row.id,
        version=row.version,
        template_type=row.template_type,
        template_format=row.template_format,
        template=row.template,
        llm_config=dict(row.llm_config or {}),
        sample_variables=dict(row.sample_variables or {}),
        note=row.note or "",
        author=row.author,
        created_at=row.created_at,
        labels=list(labels or []),
        content_hash=row.content_hash,
        source=row.source,
    )


def _summaries(
    session: Session, workspace_id: int, prompts: Iterable[Prompt]
) -> list[PromptSummary]:
    from core.prompts.labels import label_infos

    paths = folder_paths(session, workspace_id)
    out = []
    for p in prompts:
        out.append(
            PromptSummary(
                id=p.id,
                name=p.name,
                folder_id=p.folder_id,
                folder_path=paths.get(p.folder_id) if p.folder_id else None,
                description=p.description or "",
                tags=list(p.tags or []),
                template_type=p.template_type,
                latest_version=p.version_count,
                labels={li.name: li.describe() for li in label_infos(session, p)},
                created_by=p.created_by,
                updated_at=p.updated_at,
                archived=p.archived_at is not None,
            )
        )
    return out


def _check_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
            raise ValidationError(f"invalid tag {tag!r}: tags are 1-100 characters of text")
        if tag.strip() not in out:
            out.append(tag.strip())
    return out


def create_prompt(
    db: Database,
    workspace_id: int,
    name: str,
    *,
    folder: str | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    template_type: str = "chat",
    created_by: str | None = None,
) -> PromptSummary:
    """Create an empty prompt (no versions yet); DuplicateNameError if the name is taken."""
    name = check_name(name)
    if template_type not in ("chat", "text"):
        raise ValidationError(f"template_type must be 'chat' or 'text', not {template_type!r}")
    tag_list = _check_tags(tags)
    try:
        with db.session() as s:
            existing = s.scalar(
                select(Prompt).where(Prompt.workspace_id == workspace_id, Prompt.name == name)
            )
            if existing is not None:
                raise DuplicateNameError(_duplicate_message(s, workspace_id, existing))
            target = resolve_folder(s, workspace_id, folder, create=True)
            prompt = Prompt(
                workspace_id=workspace_id,
                name=name,
                folder_id=target.id if target else None,
                description=description,
                tags=tag_list,
                template_type=template_type,
                created_by=created_by,
            )
            s.add(prompt)
            s.flush()
            return _summaries(s, workspace_id, [prompt])[0]
    except IntegrityError as exc:
        raise DuplicateNameError(f"a prompt named {name!r} already exists") from exc


def _duplicate_message(session: Session, workspace_id: int, prompt: Prompt) -> str:
    where = folder_paths(session, workspace_id).get(prompt.folder_id) if prompt.folder_id else None
    place = f"in folder {where!r}" if where else "at the top level"
    return (
        f"a prompt named {prompt.name!r} already exists ({place}); prompt names are unique "
        "in a workspace so code can fetch them by name"
    )


def get_prompt_summary(db: Database, workspace_id: int, name: str) -> PromptSummary:
    """The list row of one prompt."""
    with db.read_session() as s:
        return _summaries(s, workspace_id, [get_prompt_row(s, workspace_id, name)])[0]


def rename_prompt(db: Database, workspace_id: int, name: str, new_name: str) -> PromptSummary:
    """Rename a prompt (its versions, labels and comments follow)."""
    new_name = check_name(new_name)
    try:
        with db.session() as s:
            prompt = get_prompt_row(s, workspace_id, name, lock=True)
            if new_name != name:
                clash = s.scalar(
                    select(Prompt).where(
                        Prompt.workspace_id == workspace_id, Prompt.name == new_name
                    )
                )
                if clash is not None:
                    raise DuplicateNameError(_duplicate_message(s, workspace_id, clash))
                prompt.name = new_name
                s.flush()
            return _summaries(s, workspace_id, [prompt])[0]
    except IntegrityError as exc:
        raise DuplicateNameError(f"a prompt named {new_name!r} already exists") from exc


def move_prompt(db: Database, workspace_id: int, name: str, folder: str | None) -> PromptSummary:
    """Move a prompt into the folder at path ``folder`` (None or "" for the top level)."""
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, name, lock=True)
        target = resolve_folder(s, workspace_id, folder or None, create=True)
        prompt.folder_id = target.id if target else None
        s.flush()
        return _summaries(s, workspace_id, [prompt])[0]


def update_prompt(
    db: Database,
    workspace_id: int,
    name: str,
    *,
    description: str | None = None,
    tags: Iterable[str] | None = None,
) -> PromptSummary:
    """Change a prompt's description and/or tags."""
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, name, lock=True)
        if description is not None:
            prompt.description = description
        if tags is not None:
            prompt.tags = _check_tags(tags)
        prompt.updated_at = utcnow()
        s.flush()
        return _summaries(s, workspace_id, [prompt])[0]


def archive_prompt(db: Database, workspace_id: int, name: str, archived: bool = True) -> None:
    """Hide a prompt from the list (still fetchable by name); ``archived=False`` restores it."""
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, name, lock=True)
        prompt.archived_at = utcnow() if archived else None


def delete_prompt(db: Database, workspace_id: int, name: str) -> None:
    """Delete a prompt with every version, label and comment (archive to keep them)."""
    with db.session() as s:
        s.delete(get_prompt_row(s, workspace_id, name, lock=True))


def list_prompts(
    db: Database,
    workspace_id: int,
    *,
    folder: str | None = None,
    recursive: bool = True,
    search: str | None = None,
    tag: str | None = None,
    include_archived: bool = False,
) -> list[PromptSummary]:
    """Prompts by name, filtered by folder, tag and a search over name, tags, description and text."""
    with db.read_session() as s:
        query = select(Prompt).where(Prompt.workspace_id == workspace_id).order_by(Prompt.name)
        if not include_archived:
            query = query.where(Prompt.archived_at.is_(None))
        prompts = list(s.scalars(query))
        if folder is not None:
            paths = folder_paths(s, workspace_id)
            target = resolve_folder(s, workspace_id, folder)
            if target is None:  # the root
                if not recursive:
                    prompts = [p for p in prompts if p.folder_id is None]
            else:
                base = paths[target.id]
                prompts = [
                    p
                    for p in prompts
                    if p.folder_id == target.id
                    or (recursive and p.folder_id and paths[p.folder_id].startswith(base + "/"))
                ]
        if tag:
            prompts = [p for p in prompts if tag in (p.tags or [])]
        if search and search.strip():
            prompts = _search(s, prompts, search.strip().lower())
        return _summaries(s, workspace_id, prompts)


def _search(session: Session, prompts: list[Prompt], needle: str) -> list[Prompt]:
    if not prompts:
        return prompts
    ids = [p.id for p in prompts]
    latest: dict[int, Any] = dict(
        session.execute(
            select(PromptVersion.prompt_id, PromptVersion.template)
            .join(Prompt, Prompt.id == PromptVersion.prompt_id)
            .where(PromptVersion.prompt_id.in_(ids), PromptVersion.version == Prompt.version_count)
        )
        .tuples()
        .all()
    )

    def text_of(template: Any) -> str:
        if isinstance(template, str):
            return template
        return "\n".join(str(m.get("content") or "") for m in template or [] if isinstance(m, dict))

    return [
        p
        for p in prompts
        if needle in p.name.lower()
        or any(needle in t.lower() for t in p.tags or [])
        or needle in (p.description or "").lower()
        or needle in text_of(latest.get(p.id)).lower()
    ]


def check_version_spec(
    db: Database, workspace_id: int, spec: VersionSpec, resolver: Resolver | None = None
) -> None:
    """Refuse a version whose includes are unknown or loop, or whose template won't parse."""
    template = spec.template_json()
    if spec.template_type == "text" and not isinstance(template, str):
        raise ValidationError("template: a text prompt's template must be a string")
    if spec.template_type == "chat" and isinstance(template, str):
        raise ValidationError("template: a chat prompt's template must be a list of messages")
    if template_references(template):
        if resolver is None:
            with db.read_session() as s:
                template = expand_template(template, SessionResolver(s, workspace_id))
        else:
            template = expand_template(template, resolver)
    validate_template(template, spec.template_format)


def prepare_version(
    *,
    template_type: str,
    template_format: str,
    template: Any,
    llm_config: dict[str, Any] | None = None,
    sample_variables: dict[str, Any] | None = None,
    note: str = "",
) -> tuple[VersionSpec, Any, dict[str, Any], str]:
    """Validate a version's fields; return (spec, stored template, stored config, content hash)."""
    try:
        spec = VersionSpec.model_validate(
            {
                "template_type": template_type,
                "template_format": template_format,
                "template": template,
                "llm_config": llm_config or {},
                "sample_variables": sample_variables or {},
                "note": note or "",
            }
        )
    except pydantic.ValidationError as exc:
        raise ValidationError(pydantic_message(exc)) from exc
    stored_template = spec.template_json()
    config = spec.llm_config.model_dump(exclude_defaults=True)
    digest = content_hash(
        spec.template_type, spec.template_format, stored_template, config, spec.sample_variables
    )
    return spec, stored_template, config, digest


def save_version(
    db: Database,
    workspace_id: int,
    prompt_name: str,
    *,
    template_type: str,
    template_format: str,
    template: Any,
    llm_config: dict[str, Any] | None = None,
    note: str = "",
    author: str | None = None,
    sample_variables: dict[str, Any] | None = None,
    create_if_missing: bool = True,
    folder: str | None = None,
    source: str | None = None,
    created_at: datetime | None = None,
    version_number: int | None = None,
) -> PromptVersionInfo:
    """Append version N+1 to prompt ``prompt_name`` (creating the prompt if missing).

    The template is checked first (it must parse, its snippets must exist); nothing is
    written when it is refused. Concurrent savers each get their own number: writers
    serialise on the prompt row. ``version_number`` (import only) keeps a file's numbering
    when it is above every stored version.
    """
    prompt_name = check_name(prompt_name)
    spec, stored_template, config, digest = prepare_version(
        template_type=template_type,
        template_format=template_format,
        template=template,
        llm_config=llm_config,
        sample_variables=sample_variables,
        note=note,
    )
    check_version_spec(db, workspace_id, spec)
    for attempt in range(5):
        try:
            with db.session() as s:
                prompt = s.scalar(
                    select(Prompt)
                    .where(Prompt.workspace_id == workspace_id, Prompt.name == prompt_name)
                    .with_for_update()
                )
                if prompt is None:
                    if not create_if_missing:
                        raise PromptNotFoundError(f"no prompt named {prompt_name!r}")
                    target = resolve_folder(s, workspace_id, folder, create=True)
                    prompt = Prompt(
                        workspace_id=workspace_id,
                        name=prompt_name,
                        folder_id=target.id if target else None,
                        template_type=spec.template_type,
                        created_by=author,
                    )
                    s.add(prompt)
                    s.flush()
                number = prompt.version_count + 1
                if version_number is not None and version_number > prompt.version_count:
                    number = version_number
                prompt.version_count = number
                prompt.template_type = spec.template_type
                prompt.updated_at = utcnow()
                row = PromptVersion(
                    prompt_id=prompt.id,
                    version=number,
                    template_type=spec.template_type,
                    template_format=spec.template_format,
                    template=stored_template,
                    llm_config=config,
                    sample_variables=spec.sample_variables,
                    note=spec.note,
                    author=author,
                    source=source,
                    content_hash=digest,
                )
                if created_at is not None:
                    row.created_at = created_at
                s.add(row)
                s.flush()
                return version_info(prompt, row)
        except (IntegrityError, OperationalError):
            # Two first savers both created the prompt, or SQLite stayed busy past its
            # timeout: the loser retries and appends after the winner.
            if attempt == 4:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def version_row(session: Session, prompt: Prompt, version: int) -> PromptVersion:
    row = session.scalar(
        select(PromptVersion).where(
            PromptVersion.prompt_id == prompt.id, PromptVersion.version == version
        )
    )
    if row is None:
        raise VersionNotFoundError(f"prompt {prompt.name!r} has no version {version}")
    return row


def get_version(
    db: Database,
    workspace_id: int,
    name: str,
    *,
    label: str | None = None,
    version: int | None = None,
    key: str | None = None,
    expand_snippets: bool = False,
) -> PromptVersionInfo:
    """A version by number, by label (``key`` picks within a weighted label) or the newest.

    ``expand_snippets`` returns the template with its includes expanded (what gets rendered).
    """
    from core.prompts.labels import pick_version_id

    if label is not None and version is not None:
        raise ValidationError("give a label or a version, not both")
    with db.read_session() as s:
        prompt = get_prompt_row(s, workspace_id, name)
        if version is not None:
            row = version_row(s, prompt, int(version))
        elif label is not None and label != "latest":
            vid = pick_version_id(s, prompt, label, key)
            found = s.get(PromptVersion, vid)
            if found is None:
                raise VersionNotFoundError(f"label {label!r} points at a deleted version")
            row = found
        else:
            if prompt.version_count == 0:
                raise VersionNotFoundError(f"prompt {name!r} has no versions yet")
            row = version_row(s, prompt, prompt.version_count)
        info = version_info(prompt, row, labels_by_version(s, prompt.id).get(row.id))
        if expand_snippets and template_references(info.template):
            expanded = expand_template(info.template, SessionResolver(s, workspace_id))
            info = _replace(info, template=expanded)
        return info


def _replace(info: PromptVersionInfo, **changes: Any) -> PromptVersionInfo:
    from dataclasses import replace

    return replace(info, **changes)


def list_versions(db: Database, workspace_id: int, name: str) -> list[PromptVersionInfo]:
    """Every version of a prompt, newest first, with the labels pointing at each."""
    with db.read_session() as s:
        prompt = get_prompt_row(s, workspace_id, name)
        labels = labels_by_version(s, prompt.id)
        rows = s.scalars(
            select(PromptVersion)
            .where(PromptVersion.prompt_id == prompt.id)
            .order_by(PromptVersion.version.desc())
        )
        return [version_info(prompt, r, labels.get(r.id)) for r in rows]


def rollback(
    db: Database,
    workspace_id: int,
    name: str,
    version: int,
    *,
    author: str | None = None,
    note: str | None = None,
) -> PromptVersionInfo:
    """Append a new version equal to ``version`` (history is never rewritten)."""
    old = get_version(db, workspace_id, name, version=version)
    return save_version(
        db,
        workspace_id,
        name,
        template_type=old.template_type,
        template_format=old.template_format,
        template=old.template,
        llm_config=old.llm_config,
        sample_variables=old.sample_variables,
        note=note if note is not None else f"Rollback to v{version}",
        author=author,
        create_if_missing=False,
        source=f"rollback:v{version}",
    )


def count_prompts(db: Database, workspace_id: int) -> int:
    """How many prompts (archived included) the workspace holds."""
    with db.read_session() as s:
        return s.scalar(select(func.count()).where(Prompt.workspace_id == workspace_id)) or 0
