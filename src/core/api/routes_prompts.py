"""REST routes of the prompt registry: list, fetch by label/version, versions, labels, render.

A prompt is addressed by name, ``name@label`` or ``name@v3`` (URL-encode spaces). Fetching
returns the template with snippets expanded, ready to render; ``key`` keeps a user on
the same version of a weighted label.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from core.api.security import DbDep, PrincipalDep
from core.prompts import registry
from core.prompts.errors import ValidationError
from core.prompts.labels import list_labels
from core.prompts.models import PromptSummary, PromptVersionInfo, parse_ref
from core.prompts.render import render_template, template_variables

router = APIRouter(prefix="/v1", tags=["prompts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or revoked token"},
    404: {"description": "Unknown prompt, version or label"},
    422: {"description": "Bad parameters or variables"},
}


class PromptOut(BaseModel):
    """A prompt in a list."""

    name: str
    folder: str | None
    description: str
    tags: list[str]
    template_type: str
    latest_version: int
    labels: dict[str, str]
    updated_at: datetime
    archived: bool


class VersionOut(BaseModel):
    """One version: template (snippets expanded), model configuration, labels."""

    prompt: str
    version: int
    version_id: int
    ref: str = Field(description="name@vN")
    template_type: str
    template_format: str
    template: Any = Field(description="list of {role, content} messages (chat) or a string (text)")
    variables: list[str]
    llm_config: dict[str, Any]
    sample_variables: dict[str, Any]
    note: str
    author: str | None
    created_at: datetime
    labels: list[str]


class LabelOut(BaseModel):
    """Where a label points (one version, or weighted versions)."""

    name: str
    version: int | None
    weights: list[dict[str, float]] | None
    description: str
    updated_by: str | None
    updated_at: datetime


class RenderIn(BaseModel):
    """Variables to render with, and which version (default: the ref in the path)."""

    model_config = ConfigDict(extra="forbid")
    variables: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None
    version: int | None = None
    key: str | None = None


class RenderOut(BaseModel):
    """A rendered prompt: ``messages`` for chat prompts, ``text`` for text prompts."""

    prompt: str
    version: int
    ref: str
    template_type: str
    messages: list[dict[str, Any]] | None = None
    text: str | None = None
    llm_config: dict[str, Any]


class DataPrompts(BaseModel):
    """``{"data": [...]}``."""

    data: list[PromptOut]


class DataVersion(BaseModel):
    """``{"data": {...}}``."""

    data: VersionOut


class DataVersions(BaseModel):
    """``{"data": [...]}``."""

    data: list[VersionOut]


class DataLabels(BaseModel):
    """``{"data": [...]}``."""

    data: list[LabelOut]


class DataRender(BaseModel):
    """``{"data": {...}}``."""

    data: RenderOut


def prompt_out(p: PromptSummary) -> PromptOut:
    """The API shape of a prompt list row."""
    return PromptOut(
        name=p.name,
        folder=p.folder_path,
        description=p.description,
        tags=p.tags,
        template_type=p.template_type,
        latest_version=p.latest_version,
        labels=p.labels,
        updated_at=p.updated_at,
        archived=p.archived,
    )


def version_out(v: PromptVersionInfo) -> VersionOut:
    """The API shape of a version."""
    return VersionOut(
        prompt=v.prompt_name,
        version=v.version,
        version_id=v.version_id,
        ref=v.ref,
        template_type=v.template_type,
        template_format=v.template_format,
        template=v.template,
        variables=template_variables(v.template, v.template_format),
        llm_config=v.llm_config,
        sample_variables=v.sample_variables,
        note=v.note,
        author=v.author,
        created_at=v.created_at,
        labels=v.labels,
    )


def _resolve(
    db: DbDep,
    workspace_id: int,
    ref: str,
    label: str | None,
    version: int | None,
    key: str | None,
) -> PromptVersionInfo:
    name, ref_label, ref_version = parse_ref(ref)
    if (ref_label or ref_version) and (label or version):
        raise ValidationError(
            "give the label/version in the path (name@label) or as a parameter, not both"
        )
    return registry.get_version(
        db,
        workspace_id,
        name,
        label=label or ref_label,
        version=version if version is not None else ref_version,
        key=key,
        expand_snippets=True,
    )


@router.get("/prompts", response_model=DataPrompts, responses=_ERRORS, summary="List prompts")
def get_prompts(
    db: DbDep,
    who: PrincipalDep,
    folder: Annotated[str | None, Query(description="folder path, e.g. support/en")] = None,
    search: Annotated[
        str | None, Query(description="text in name, tags, description or template")
    ] = None,
    tag: str | None = None,
    include_archived: bool = False,
) -> DataPrompts:
    """Prompts of the token's workspace, by name."""
    rows = registry.list_prompts(
        db,
        who.workspace_id,
        folder=folder,
        search=search,
        tag=tag,
        include_archived=include_archived,
    )
    return DataPrompts(data=[prompt_out(p) for p in rows])


@router.get(
    "/prompts/{ref}",
    response_model=DataVersion,
    responses=_ERRORS,
    summary="Get a prompt by name, name@label or name@vN",
)
def get_prompt(
    ref: str,
    db: DbDep,
    who: PrincipalDep,
    label: Annotated[str | None, Query(description="e.g. production")] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
    key: Annotated[
        str | None, Query(description="stable id (user, session) for weighted labels")
    ] = None,
) -> DataVersion:
    """The version a label points at (for ``key``), a numbered version, or the newest."""
    return DataVersion(data=version_out(_resolve(db, who.workspace_id, ref, label, version, key)))


@router.get(
    "/prompts/{name}/versions",
    response_model=DataVersions,
    responses=_ERRORS,
    summary="List versions",
)
def get_versions(name: str, db: DbDep, who: PrincipalDep) -> DataVersions:
    """Every version of a prompt, newest first (templates as stored, includes not expanded)."""
    return DataVersions(
        data=[version_out(v) for v in registry.list_versions(db, who.workspace_id, name)]
    )


@router.get(
    "/prompts/{name}/versions/{version}",
    response_model=DataVersion,
    responses=_ERRORS,
    summary="Get one version",
)
def get_one_version(name: str, version: int, db: DbDep, who: PrincipalDep) -> DataVersion:
    """A numbered version with its snippets expanded."""
    info = registry.get_version(db, who.workspace_id, name, version=version, expand_snippets=True)
    return DataVersion(data=version_out(info))


@router.get(
    "/prompts/{name}/labels", response_model=DataLabels, responses=_ERRORS, summary="List labels"
)
def get_labels(name: str, db: DbDep, who: PrincipalDep) -> DataLabels:
    """The labels of a prompt and where each points."""
    return DataLabels(
        data=[
            LabelOut(
                name=li.name,
                version=li.version,
                weights=[{"version": v, "weight": w} for v, w in li.weights]
                if li.weights
                else None,
                description=li.describe(),
                updated_by=li.updated_by,
                updated_at=li.updated_at,
            )
            for li in list_labels(db, who.workspace_id, name)
        ]
    )


@router.get(
    "/prompts/{name}/labels/{label}",
    response_model=DataVersion,
    responses=_ERRORS,
    summary="Get the version a label points at",
)
def get_by_label(
    name: str, label: str, db: DbDep, who: PrincipalDep, key: str | None = None
) -> DataVersion:
    """Same as ``GET /v1/prompts/{name}@{label}``."""
    info = registry.get_version(
        db, who.workspace_id, name, label=label, key=key, expand_snippets=True
    )
    return DataVersion(data=version_out(info))


@router.post(
    "/prompts/{ref}/render",
    response_model=DataRender,
    responses=_ERRORS,
    summary="Render a prompt with variables",
)
def render_prompt(ref: str, body: RenderIn, db: DbDep, who: PrincipalDep) -> DataRender:
    """Messages (chat) or text ready for an OpenAI-style SDK; 422 names a missing variable."""
    info = _resolve(db, who.workspace_id, ref, body.label, body.version, body.key)
    result = render_template(
        info.template_type, info.template_format, info.template, body.variables
    )
    out = RenderOut(
        prompt=info.prompt_name,
        version=info.version,
        ref=info.ref,
        template_type=info.template_type,
        llm_config=info.llm_config,
    )
    if isinstance(result, str):
        out.text = result
    else:
        out.messages = result
    return DataRender(data=out)
