""""Test connection": a one-token call to a provider, or GET /models on an endpoint."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from core import credentials
from core.providers import local
from core.providers.invoke import invoke
from core.providers.retry import NO_RETRY
from core.providers.types import ModelRequest, RunContext

# A cheap chat model per provider for the one-token check (any model of theirs would do).
CHECK_MODELS: dict[str, str] = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-3-5-haiku-latest",
    "gemini": "gemini/gemini-2.0-flash",
    "mistral": "mistral/mistral-small-latest",
    "groq": "groq/llama-3.1-8b-instant",
    "cohere": "cohere_chat/command-r",
    "deepseek": "deepseek/deepseek-chat",
    "xai": "xai/grok-3-mini",
    "openrouter": "openrouter/openai/gpt-4o-mini",
    "together_ai": "together_ai/meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "fireworks_ai": "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
    "perplexity": "perplexity/sonar",
    "deepinfra": "deepinfra/meta-llama/Meta-Llama-3.1-8B-Instruct",
    "cerebras": "cerebras/llama3.1-8b",
    local.LOCAL_PROVIDER: local.DEFAULT_MODEL,
}
CHECK_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a connection check, with a message fit to show as is."""

    ok: bool
    message: str
    latency_ms: float | None = None
    models: tuple[str, ...] = ()


def check_provider(provider: str, *, model: str | None = None,
                   session_keys: Mapping[str, str] | None = None,
                   timeout: float = CHECK_TIMEOUT_S) -> CheckResult:
    """Send a one-token request to ``provider`` with the key it would use (not recorded)."""
    model = model or CHECK_MODELS.get(provider)
    if not model:
        return CheckResult(False, f"No test model known for {provider}; run a prompt in the "
                                  "playground instead.")
    request = ModelRequest(model=model, messages=[{"role": "user", "content": "Say OK."}],
                           invocation_parameters={"max_tokens": 1}, timeout=timeout,
                           context=RunContext(source="settings"))
    t0 = time.perf_counter()
    result = invoke(request, retry=NO_RETRY, record=False, session_keys=session_keys)
    ms = (time.perf_counter() - t0) * 1000
    if result.status == "ok":
        return CheckResult(True, f"{provider} answered ({model}, {ms:.0f} ms).", ms)
    detail = getattr(result.error, "message", None) or str(result.error)
    return CheckResult(False, credentials.redact(detail), ms)


def check_endpoint(base_url: str, token: str | None = None, *, model: str | None = None,
                   timeout: float = CHECK_TIMEOUT_S) -> CheckResult:
    """List the endpoint's models; with ``model``, also send it a one-token request."""
    from core.endpoints import EndpointError, discover_models

    t0 = time.perf_counter()
    try:
        models = tuple(discover_models(base_url, token, timeout=min(timeout, 10.0)))
    except EndpointError as exc:
        if model is None:
            return CheckResult(False, str(exc))
        models = ()  # some servers have no /models; the call below is the real test
    if model is None:
        ms = (time.perf_counter() - t0) * 1000
        return CheckResult(True, f"Reached the endpoint: {len(models)} model(s) listed.", ms, models)
    result = invoke(ModelRequest(model=model, base_url=base_url, api_key=token,
                                 messages=[{"role": "user", "content": "Say OK."}],
                                 invocation_parameters={"max_tokens": 1}, timeout=timeout,
                                 context=RunContext(source="settings")),
                    retry=NO_RETRY, record=False)
    ms = (time.perf_counter() - t0) * 1000
    if result.status == "ok":
        return CheckResult(True, f"{model} answered in {ms:.0f} ms.", ms, models)
    detail = getattr(result.error, "message", None) or str(result.error)
    return CheckResult(False, credentials.redact(detail, [token]), ms, models)
