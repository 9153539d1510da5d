"""Prompts as YAML files that diff well in git (RG8): export a directory, import it back.

One file per prompt (``<name>.prompt.yaml``) and per snippet (``<name>.snippet.yaml``), keys
in a fixed order, multi-line text as literal blocks. Import validates every file before
writing anything, is idempotent (a version already stored with the same content is
skipped) and reports what it created, updated and skipped. Files are read with a safe
loader that also refuses anchors and aliases, and with a size bound.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from core import safe_yaml
from core.db import Database
from core.db.models import Prompt, PromptVersion, VersionComment
from core.prompts import labels as label_ops
from core.prompts import registry, snippets
from core.prompts.errors import (
    PromptFileError,
    PromptNotFoundError,
    PromptRegistryError,
    SnippetNotFoundError,
)
from core.prompts.folders import folder_paths
from core.prompts.models import LlmConfig, check_name

MAX_FILE_BYTES = 5_000_000
FORMAT_VERSION = 1


# -- safe YAML -------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    """Parse one file safely (size bound, no tags, no aliases); PromptFileError names the file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PromptFileError(
                str(path), f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptFileError(str(path), f"can't read: {exc}") from exc
    try:
        return safe_yaml.loads(text)
    except safe_yaml.YAMLError as exc:
        raise PromptFileError(str(path), f"not valid YAML: {exc}") from exc


def dump_yaml(data: Any) -> str:
    """YAML text with keys in the given order, unicode kept, long lines not folded."""
    return safe_yaml.dumps(data)


# -- file schema -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentFile(_Strict):
    """A comment as written in a prompt file."""

    author: str | None = None
    body: str
    created_at: datetime | None = None


class VersionFile(_Strict):
    """A version as written in a prompt file."""

    version: int = Field(ge=1)
    template_type: Literal["chat", "text"] = "chat"
    template_format: Literal["f-string", "mustache", "jinja2", "none"] = "f-string"
    template: list[dict[str, Any]] | str
    llm_config: LlmConfig = Field(default_factory=LlmConfig)
    sample_variables: dict[str, Any] = Field(default_factory=dict)
    note: str = ""
    author: str | None = None
    created_at: datetime | None = None
    comments: list[CommentFile] = Field(default_factory=list)


class WeightFile(_Strict):
    """One share of a weighted label."""

    version: int = Field(ge=1)
    weight: float = Field(ge=0)


class PromptFile(_Strict):
    """The whole of a ``.prompt.yaml`` file."""

    kind: Literal["prompt"] = "prompt"
    format_version: int = FORMAT_VERSION
    name: str
    folder: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    archived: bool = False
    labels: dict[str, int | list[WeightFile]] = Field(default_factory=dict)
    versions: list[VersionFile] = Field(min_length=1)


class SnippetVersionFile(_Strict):
    """A snippet version as written in a file."""

    version: int = Field(ge=1)
    body: str
    note: str = ""
    author: str | None = None
    created_at: datetime | None = None


class SnippetFile(_Strict):
    """The whole of a ``.snippet.yaml`` file."""

    kind: Literal["snippet"] = "snippet"
    format_version: int = FORMAT_VERSION
    name: str
    description: str = ""
    versions: list[SnippetVersionFile] = Field(min_length=1)


# -- export ----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def file_stem(name: str) -> str:
    """A file-name stem for ``name`` that can't leave the directory and won't collide.

    Names with characters outside ``[A-Za-z0-9_.-]`` get a short hash suffix, so
    ``a b`` and ``a_b`` map to different files.
    """
    stem = _UNSAFE.sub("_", name).strip("._") or "prompt"
    if stem != name:
        stem = f"{stem[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return stem


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _target(dir_: Path, stem: str, suffix: str) -> Path:
    path = (dir_ / f"{stem}{suffix}").resolve()
    if path.parent != dir_.resolve():  # belt and braces: file_stem already forbids "/" and ".."
        raise PromptFileError(str(path), "file name would leave the export directory")
    return path


@dataclass
class ExportReport:
    """Files written by an export."""

    written: list[Path] = field(default_factory=list)
    prompts: int = 0
    snippets: int = 0


def prompt_document(
    db: Database, workspace_id: int, name: str, *, all_versions: bool = True
) -> dict[str, Any]:
    """The file content (a plain dict) for one prompt."""
    from sqlalchemy import select

    with db.read_session() as s:
        prompt = registry.get_prompt_row(s, workspace_id, name)
        paths = folder_paths(s, workspace_id)
        rows = list(
            s.scalars(
                select(PromptVersion)
                .where(PromptVersion.prompt_id == prompt.id)
                .order_by(PromptVersion.version)
            )
        )
        labels = label_ops.label_infos(s, prompt)
        comments: dict[int, list[VersionComment]] = {}
        for c in s.scalars(
            select(VersionComment)
            .where(VersionComment.version_id.in_([r.id for r in rows]))
            .order_by(VersionComment.created_at, VersionComment.id)
        ):
            comments.setdefault(c.version_id, []).append(c)
        if not all_versions and rows:
            keep = {rows[-1].version} | {v for li in labels for v in li.versions}
            rows = [r for r in rows if r.version in keep]
        doc: dict[str, Any] = {
            "kind": "prompt",
            "format_version": FORMAT_VERSION,
            "name": prompt.name,
            "folder": paths.get(prompt.folder_id) if prompt.folder_id else None,
            "description": prompt.description or "",
            "tags": list(prompt.tags or []),
            "archived": prompt.archived_at is not None,
            "labels": {
                li.name: (
                    [{"version": v, "weight": w} for v, w in li.weights]
                    if li.weights
                    else li.version
                )
                for li in labels
            },
            "versions": [_version_doc(r, comments.get(r.id, [])) for r in rows],
        }
        return doc


def _version_doc(row: PromptVersion, comments: list[VersionComment]) -> dict[str, Any]:
    return {
        "version": row.version,
        "template_type": row.template_type,
        "template_format": row.template_format,
        "template": row.template,
        "llm_config": row.llm_config or {},
        "sample_variables": row.sample_variables or {},
        "note": row.note or "",
        "author": row.author,
        "created_at": _iso(row.created_at),
        "comments": [
            {"author": c.author, "body": c.body, "created_at": _iso(c.created_at)} for c in comments
        ],
    }


def export_prompts(
    db: Database,
    workspace_id: int,
    directory: str | Path,
    *,
    all_versions: bool = False,
    include_archived: bool = True,
) -> ExportReport:
    """Write every prompt (newest and labelled versions, or all) and snippet as YAML files."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    for summary in registry.list_prompts(db, workspace_id, include_archived=include_archived):
        if summary.latest_version == 0:
            continue  # nothing to export until it has a version
        doc = prompt_document(db, workspace_id, summary.name, all_versions=all_versions)
        path = _target(out_dir, file_stem(summary.name), ".prompt.yaml")
        _write_if_changed(path, dump_yaml(doc))
        report.written.append(path)
        report.prompts += 1
    for info in snippets.list_snippets(db, workspace_id, include_archived=True):
        versions = snippets.list_snippet_versions(db, workspace_id, info.name)
        versions.sort(key=lambda v: v.version)
        if not all_versions:
            versions = versions[-1:]
        doc = {
            "kind": "snippet",
            "format_version": FORMAT_VERSION,
            "name": info.name,
            "description": info.description,
            "versions": [
                {
                    "version": v.version,
                    "body": v.body,
                    "note": v.note,
                    "author": v.author,
                    "created_at": _iso(v.created_at),
                }
                for v in versions
            ],
        }
        path = _target(out_dir, file_stem(info.name), ".snippet.yaml")
        _write_if_changed(path, dump_yaml(doc))
        report.written.append(path)
        report.snippets += 1
    return report


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return  # keep the mtime, so tools watching the directory see no change
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- import ----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, by prompt/snippet name (snippets prefixed ``snippet:``)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``created 2, updated 1, skipped 5``."""
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, skipped {len(self.skipped)}"
        )


def _field_errors(exc: pydantic.ValidationError) -> str:
    return registry.pydantic_message(exc)


def read_directory(
    directory: str | Path,
) -> tuple[list[tuple[Path, SnippetFile]], list[tuple[Path, PromptFile]]]:
    """Parse and validate every ``*.yaml``/``*.yml`` file of ``directory`` (not recursive)."""
    root = Path(directory)
    if not root.is_dir():
        raise PromptFileError(str(root), "not a directory")
    snippet_files: list[tuple[Path, SnippetFile]] = []
    prompt_files: list[tuple[Path, PromptFile]] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
        if not path.is_file():
            continue
        data = load_yaml(path)
        if not isinstance(data, dict):
            raise PromptFileError(str(path), "expected a mapping with name, versions, ...")
        kind = data.get("kind", "prompt")
        model: type[PromptFile] | type[SnippetFile]
        model = SnippetFile if kind == "snippet" else PromptFile
        try:
            parsed = model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise PromptFileError(str(path), _field_errors(exc)) from exc
        try:
            check_name(parsed.name, parsed.kind)
        except PromptRegistryError as exc:
            raise PromptFileError(str(path), f"name: {exc.message}") from exc
        numbers = [v.version for v in parsed.versions]
        if len(set(numbers)) != len(numbers):
            raise PromptFileError(str(path), "versions: the same version number appears twice")
        if (parsed.kind, parsed.name) in seen:
            raise PromptFileError(
                str(path),
                f"{parsed.kind} {parsed.name!r} is also defined in {seen[(parsed.kind, parsed.name)]}",
            )
        seen[(parsed.kind, parsed.name)] = path
        if isinstance(parsed, SnippetFile):
            snippet_files.append((path, parsed))
        else:
            prompt_files.append((path, parsed))
    return snippet_files, prompt_files


def _check_prompt_file(
    db: Database, workspace_id: int, path: Path, doc: PromptFile, resolver: snippets.Resolver
) -> None:
    for i, v in enumerate(doc.versions):
        try:
            spec, *_ = registry.prepare_version(
                template_type=v.template_type,
                template_format=v.template_format,
                template=v.template,
                llm_config=v.llm_config.model_dump(exclude_defaults=True),
                sample_variables=v.sample_variables,
                note=v.note,
            )
            registry.check_version_spec(db, workspace_id, spec, resolver)
        except PromptRegistryError as exc:
            raise PromptFileError(str(path), f"versions.{i} (v{v.version}): {exc.message}") from exc
    numbers = {v.version for v in doc.versions}
    for label, target in doc.labels.items():
        wanted = [target] if isinstance(target, int) else [w.version for w in target]
        missing = [n for n in wanted if n not in numbers]
        if missing:
            raise PromptFileError(
                str(path), f"labels.{label}: points at v{missing[0]}, which is not in this file"
            )


def _aware(value: datetime | None) -> datetime | None:
    # A timestamp typed without a zone in a hand-edited file is taken as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def import_prompts(
    db: Database, workspace_id: int, directory: str | Path, *, actor: str | None = None
) -> ImportReport:
    """Import a directory written by export_prompts; idempotent, all files checked first."""
    snippet_files, prompt_files = read_directory(directory)
    in_files = {doc.name: {v.version: v.body for v in doc.versions} for _, doc in snippet_files}
    with db.session() as s:
        stored = snippets.SessionResolver(s, workspace_id)

        def resolve(name: str, version: int | None) -> str:
            # Snippets being imported are checked against their file text, others against the DB.
            bodies = in_files.get(name)
            if bodies and (version is None or version in bodies):
                return bodies[max(bodies) if version is None else version]
            return stored(name, version)

        for path, pdoc in prompt_files:
            _check_prompt_file(db, workspace_id, path, pdoc, resolve)
    report = ImportReport()
    for path, sdoc in snippet_files:
        _import_snippet(db, workspace_id, path, sdoc, report)
    for path, pdoc in prompt_files:
        try:
            _import_prompt(db, workspace_id, pdoc, report, actor)
        except PromptRegistryError as exc:
            raise PromptFileError(str(path), exc.message) from exc
    return report


def _import_snippet(
    db: Database, workspace_id: int, path: Path, doc: SnippetFile, report: ImportReport
) -> None:
    try:
        existing = snippets.list_snippet_versions(db, workspace_id, doc.name)
    except SnippetNotFoundError:
        existing = []
    bodies = {v.body for v in existing}
    added = 0
    for v in sorted(doc.versions, key=lambda v: v.version):
        if v.body in bodies:
            continue
        try:
            snippets.save_snippet(
                db,
                workspace_id,
                doc.name,
                v.body,
                note=v.note,
                author=v.author,
                description=doc.description,
            )
        except PromptRegistryError as exc:
            raise PromptFileError(str(path), f"versions (v{v.version}): {exc.message}") from exc
        bodies.add(v.body)
        added += 1
    target = (
        report.created if not existing and added else report.updated if added else report.skipped
    )
    target.append(f"snippet:{doc.name}")


def _import_prompt(
    db: Database, workspace_id: int, doc: PromptFile, report: ImportReport, actor: str | None
) -> None:
    from sqlalchemy import select

    changed: list[str] = []
    try:
        summary = registry.get_prompt_summary(db, workspace_id, doc.name)
        created = False
    except PromptNotFoundError:
        summary = registry.create_prompt(
            db,
            workspace_id,
            doc.name,
            folder=doc.folder,
            description=doc.description,
            tags=doc.tags,
            template_type=doc.versions[-1].template_type,
            created_by=actor,
        )
        created = True
    if not created:
        if (summary.folder_path or None) != (doc.folder or None):
            registry.move_prompt(db, workspace_id, doc.name, doc.folder)
            changed.append(f"moved to {doc.folder or 'top level'}")
        if summary.description != doc.description or summary.tags != doc.tags:
            registry.update_prompt(
                db, workspace_id, doc.name, description=doc.description, tags=doc.tags
            )
            changed.append("description/tags")
    with db.session() as s:
        prompt = s.scalar(
            select(Prompt).where(Prompt.workspace_id == workspace_id, Prompt.name == doc.name)
        )
        assert prompt is not None
        by_number = dict(
            s.execute(
                select(PromptVersion.version, PromptVersion.content_hash).where(
                    PromptVersion.prompt_id == prompt.id
                )
            )
            .tuples()
            .all()
        )
    by_hash: dict[str, int] = {}
    for number in sorted(by_number, reverse=True):
        by_hash[by_number[number]] = number  # the oldest version with that content wins
    mapping: dict[int, int] = {}
    for v in sorted(doc.versions, key=lambda v: v.version):
        config = v.llm_config.model_dump(exclude_defaults=True)
        _, _, _, digest = registry.prepare_version(
            template_type=v.template_type,
            template_format=v.template_format,
            template=v.template,
            llm_config=config,
            sample_variables=v.sample_variables,
            note=v.note,
        )
        if by_number.get(v.version) == digest:
            mapping[v.version] = v.version
            continue
        # A prompt created by this import gets every version (a rollback repeats content);
        # an existing one only the contents it doesn't have yet.
        if not created and digest in by_hash:
            mapping[v.version] = by_hash[digest]
            continue
        info = registry.save_version(
            db,
            workspace_id,
            doc.name,
            template_type=v.template_type,
            template_format=v.template_format,
            template=v.template,
            llm_config=config,
            note=v.note,
            author=v.author,
            sample_variables=v.sample_variables,
            create_if_missing=False,
            source="import",
            created_at=_aware(v.created_at),
            version_number=v.version,
        )
        by_number[info.version] = digest
        by_hash.setdefault(digest, info.version)
        mapping[v.version] = info.version
        for c in v.comments:
            _add_comment(db, info.version_id, c)
        if not created:
            changed.append(f"v{v.version} added as v{info.version}")
    current = {li.name: li for li in label_ops.list_labels(db, workspace_id, doc.name)}
    for label, target in sorted(doc.labels.items()):
        if isinstance(target, int):
            want_version, want_weights = mapping[target], None
        else:
            want_weights = [(mapping[w.version], w.weight) for w in target]
            want_version = None
        have = current.get(label)
        if have is not None and have.version == want_version and have.weights == want_weights:
            continue
        if want_weights is not None:
            label_ops.set_label(
                db, workspace_id, doc.name, label, weights=want_weights, actor=actor
            )
        else:
            label_ops.set_label(
                db, workspace_id, doc.name, label, version=want_version, actor=actor
            )
        changed.append(f"label {label}")
    if doc.archived != summary.archived:
        registry.archive_prompt(db, workspace_id, doc.name, doc.archived)
        changed.append("archived" if doc.archived else "unarchived")
    if created:
        report.created.append(doc.name)
    elif changed:
        report.updated.append(doc.name)
    else:
        report.skipped.append(doc.name)
    if changed:
        report.details.append(f"{doc.name}: " + ", ".join(changed))


def _add_comment(db: Database, version_id: int, comment: CommentFile) -> None:
    with db.session() as s:
        row = VersionComment(version_id=version_id, author=comment.author, body=comment.body)
        created_at = _aware(comment.created_at)
        if created_at is not None:
            row.created_at = created_at
        s.add(row)
