"""The small set of errors a model call can end with, whatever the provider."""

from __future__ import annotations


class ProviderError(Exception):
    """A model call failed; ``retryable`` says whether trying again may help."""

    retryable = False
    kind = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code


class AuthenticationError(ProviderError):
    """The key is missing, wrong or not allowed for this model."""

    kind = "authentication"


class RateLimitError(ProviderError):
    """The provider asked us to slow down; ``retry_after`` is in seconds when known."""

    retryable = True
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ContextWindowExceededError(ProviderError):
    """The prompt plus max tokens do not fit the model's context window."""

    kind = "context_window_exceeded"


class BadRequestError(ProviderError):
    """The provider rejected the request as malformed or unsupported."""

    kind = "bad_request"


class UnknownModelError(BadRequestError):
    """No provider knows this model id."""

    kind = "unknown_model"


class ProviderTimeoutError(ProviderError):
    """No answer (or no next chunk) within the timeout."""

    retryable = True
    kind = "timeout"


class ProviderConnectionError(ProviderError):
    """The provider could not be reached, or the connection dropped."""

    retryable = True
    kind = "connection"


class ProviderServerError(ProviderError):
    """The provider answered with a 5xx or an unreadable stream."""

    retryable = True
    kind = "server_error"


class CancelledError(ProviderError):
    """The caller stopped the call; partial output is kept."""

    kind = "cancelled"
