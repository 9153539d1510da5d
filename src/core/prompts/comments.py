"""Review comments on prompt versions."""

from __future__ import annotations

from sqlalchemy import select

from core.db import Database
from core.db.models import PromptVersion, VersionComment
from core.prompts.errors import CommentNotFoundError, ValidationError
from core.prompts.models import CommentInfo
from core.prompts.registry import get_prompt_row, version_row


def add_comment(
    db: Database,
    workspace_id: int,
    name: str,
    version: int,
    body: str,
    *,
    author: str | None = None,
) -> CommentInfo:
    """Add a review comment to a version."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("a comment needs some text")
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, name)
        row = version_row(s, prompt, version)
        comment = VersionComment(version_id=row.id, author=author, body=body.strip())
        s.add(comment)
        s.flush()
        return CommentInfo(comment.id, version, author, comment.body, comment.created_at)


def list_comments(
    db: Database, workspace_id: int, name: str, version: int | None = None
) -> list[CommentInfo]:
    """Comments on one version (or on every version), oldest first."""
    with db.read_session() as s:
        prompt = get_prompt_row(s, workspace_id, name)
        query = (
            select(VersionComment, PromptVersion.version)
            .join(PromptVersion, PromptVersion.id == VersionComment.version_id)
            .where(PromptVersion.prompt_id == prompt.id)
            .order_by(VersionComment.created_at, VersionComment.id)
        )
        if version is not None:
            query = query.where(PromptVersion.version == version)
        return [
            CommentInfo(c.id, v, c.author, c.body, c.created_at)
            for c, v in s.execute(query).tuples()
        ]


def delete_comment(db: Database, workspace_id: int, name: str, comment_id: int) -> None:
    """Delete one comment of the prompt's versions."""
    with db.session() as s:
        prompt = get_prompt_row(s, workspace_id, name)
        comment = s.scalar(
            select(VersionComment)
            .join(PromptVersion, PromptVersion.id == VersionComment.version_id)
            .where(PromptVersion.prompt_id == prompt.id, VersionComment.id == comment_id)
        )
        if comment is None:
            raise CommentNotFoundError(f"no comment {comment_id} on prompt {name!r}")
        s.delete(comment)
