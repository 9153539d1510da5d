"""Errors raised by the prompt registry; each says what was wrong and where."""

from __future__ import annotations


class PromptRegistryError(Exception):
    """Base of every registry error; ``kind`` is a stable machine-readable code."""

    kind = "registry_error"
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(PromptRegistryError):
    """Something looked up by name, number or label does not exist."""

    kind = "not_found"
    status_code = 404


class PromptNotFoundError(NotFoundError):
    """No prompt with this name in the workspace."""

    kind = "prompt_not_found"


class VersionNotFoundError(NotFoundError):
    """The prompt has no such version."""

    kind = "version_not_found"


class LabelNotFoundError(NotFoundError):
    """The prompt has no such label."""

    kind = "label_not_found"


class FolderNotFoundError(NotFoundError):
    """No folder at this path."""

    kind = "folder_not_found"


class SnippetNotFoundError(NotFoundError):
    """A template includes a snippet (or snippet version) that does not exist."""

    kind = "snippet_not_found"


class CommentNotFoundError(NotFoundError):
    """No comment with this id on the version."""

    kind = "comment_not_found"


class ConflictError(PromptRegistryError):
    """The change clashes with what is stored (duplicate name, label on a foreign version)."""

    kind = "conflict"
    status_code = 409


class DuplicateNameError(ConflictError):
    """A prompt, folder or snippet with this name already exists where it would go."""

    kind = "duplicate_name"


class LabelTargetError(ConflictError):
    """A label was pointed at a version that belongs to another prompt, or at nothing."""

    kind = "label_target"


class ValidationError(PromptRegistryError):
    """Input that cannot be accepted: a bad name, a bad weight, a template that won't parse."""

    kind = "invalid_input"
    status_code = 422


class InvalidTemplateError(ValidationError):
    """The template does not parse in its format; ``location`` says where."""

    kind = "invalid_template"

    def __init__(
        self,
        message: str,
        *,
        message_index: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message_index = message_index
        self.line = line
        self.column = column


class SnippetCycleError(ValidationError):
    """Snippets include each other in a loop; ``cycle`` lists the names around it."""

    kind = "snippet_cycle"

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("snippet cycle: " + " -> ".join(cycle))
        self.cycle = cycle


class RenderError(ValidationError):
    """Rendering with the given variables failed (missing or invalid variable)."""

    kind = "render_error"

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


class PromptFileError(ValidationError):
    """A prompt file could not be read or has unknown fields / wrong types."""

    kind = "invalid_file"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
