"""Token counts when a provider sends none, and the cost of a call (None when unknown)."""

from __future__ import annotations

import logging
from typing import Any

from core.providers.routing import Route
from core.providers.runtime import litellm_module
from core.providers.types import ModelRequest, Operation, ToolCall, Usage

log = logging.getLogger("core.providers")

# litellm picks a tokenizer by model name and falls back to cl100k for unknown ones.
_FALLBACK_TOKENIZER_MODEL = "gpt-4o"


def usage_from_chunk(raw: Any) -> Usage | None:
    """Usage from a provider chunk's ``usage`` object or dict, if it has counts."""
    if raw is None:
        return None
    get = raw.get if isinstance(raw, dict) else lambda k: getattr(raw, k, None)
    prompt, completion, total = get("prompt_tokens"), get("completion_tokens"), get("total_tokens")
    if prompt is None and completion is None:
        return None
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def estimate_usage(route: Route, request: ModelRequest, text: str,
                   tool_calls: list[ToolCall]) -> Usage:
    """Counts from a tokenizer (flagged ``estimated``) for providers that stream no usage."""
    litellm = litellm_module()
    model = route.cost_model or _FALLBACK_TOKENIZER_MODEL
    try:
        if request.operation == Operation.TEXT_COMPLETION:
            prompt = litellm.token_counter(model=model, text=request.prompt or "")
        else:
            prompt = litellm.token_counter(model=model, messages=request.messages,
                                           tools=request.tools)
        produced = text + "".join(tc.name + tc.arguments for tc in tool_calls)
        completion = litellm.token_counter(model=model, text=produced,
                                           count_response_tokens=True) if produced else 0
    except Exception:  # a tokenizer failure must not fail a finished call
        log.warning("token estimate failed for %s", route.model, exc_info=True)
        return Usage(estimated=True)
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 total_tokens=prompt + completion, estimated=True)


def call_cost(route: Route, usage: Usage) -> float | None:
    """Cost in USD from saved prices or litellm's cost map; None when prices are unknown."""
    if usage.prompt_tokens is None and usage.completion_tokens is None:
        return None
    prompt = usage.prompt_tokens or 0
    completion = usage.completion_tokens or 0
    if route.prices is not None:
        inp = route.prices.get("input_cost_per_token")
        out = route.prices.get("output_cost_per_token")
        if inp is None and out is None:
            return None
        return prompt * (inp or 0.0) + completion * (out or 0.0)
    if route.cost_model is None:
        return None
    try:
        prompt_cost, completion_cost = litellm_module().cost_per_token(
            model=route.cost_model, prompt_tokens=prompt, completion_tokens=completion)
    except Exception:  # not in the cost map after all: unknown, never a guess
        return None
    return float(prompt_cost) + float(completion_cost)
