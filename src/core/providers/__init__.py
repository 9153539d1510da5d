"""One invocation interface for every model: litellm providers, OpenAI-compatible
endpoints and the embedded local model.

    from core.providers import ModelRequest, stream
    s = stream(ModelRequest(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Hi"}]))
    for event in s: ...
    s.result  # ModelResult: text, tool calls, usage, cost, latency, ttft, status, error

Importing this package is cheap: litellm and llama.cpp load on first use.
"""

from core.providers.errors import (
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ContextWindowExceededError,
    ProviderConnectionError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    UnknownModelError,
)
from core.providers.invoke import (
    AsyncInvocationStream,
    InvocationStream,
    ainvoke,
    astream,
    invoke,
    stream,
    warm_up,
)
from core.providers.local import DEFAULT_MODEL
from core.providers.retry import NO_RETRY, RetryPolicy
from core.providers.types import (
    ModelRequest,
    ModelResult,
    Operation,
    PromptTemplateInfo,
    RunContext,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__all__ = [
    "DEFAULT_MODEL",
    "NO_RETRY",
    "AsyncInvocationStream",
    "AuthenticationError",
    "BadRequestError",
    "CancelledError",
    "ContextWindowExceededError",
    "InvocationStream",
    "ModelRequest",
    "ModelResult",
    "Operation",
    "PromptTemplateInfo",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RetryPolicy",
    "RunContext",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "UnknownModelError",
    "Usage",
    "ainvoke",
    "astream",
    "invoke",
    "stream",
    "warm_up",
]
