"""All ORM models, importable from one place."""

from core.db.models.accounts import ApiToken, Membership, ShareLink, User, Workspace
from core.db.models.evaluation import (
    Dataset,
    DatasetExampleRevision,
    DatasetVersion,
    Evaluation,
    EvaluatorDefinition,
    Experiment,
    ExperimentRun,
)
from core.db.models.prompts import (
    Folder,
    Prompt,
    PromptLabel,
    PromptLabelEvent,
    PromptVersion,
    Snippet,
    SnippetVersion,
    VersionComment,
)
from core.db.models.tracing import ModelEndpoint, PlaygroundSession, Run, Span, SpanAnnotation

__all__ = [
    "ApiToken",
    "Dataset",
    "DatasetExampleRevision",
    "DatasetVersion",
    "Evaluation",
    "EvaluatorDefinition",
    "Experiment",
    "ExperimentRun",
    "Folder",
    "Membership",
    "ModelEndpoint",
    "PlaygroundSession",
    "Prompt",
    "PromptLabel",
    "PromptLabelEvent",
    "PromptVersion",
    "Run",
    "ShareLink",
    "Snippet",
    "SnippetVersion",
    "Span",
    "SpanAnnotation",
    "User",
    "VersionComment",
    "Workspace",
]
