"""The models catalog and the parameter panel's specs."""

from __future__ import annotations

from core.providers.catalog import (
    PARAMETERS,
    model_info,
    models_by_provider,
    parameter_specs,
    supported_params,
)


def test_groups_start_with_the_embedded_model_and_cover_major_providers() -> None:
    groups = models_by_provider()
    assert next(iter(groups)) == "local"
    for provider in ("openai", "anthropic", "gemini", "mistral", "groq", "ollama", "azure", "bedrock"):
        assert groups.get(provider), provider
    gpt = model_info("gpt-4o")
    assert gpt is not None and gpt.id == "openai/gpt-4o" and gpt.provider == "openai"
    assert gpt.input_cost_per_token and gpt.max_input_tokens and gpt.supports_tools


def test_parameter_specs_have_bounds_and_help() -> None:
    for spec in PARAMETERS.values():
        assert spec.help and spec.label
        assert bool(spec.choices) == (spec.kind == "choice")
    specs = {s.name: s for s in parameter_specs("openai/gpt-4o")}
    assert {"temperature", "top_p", "max_tokens", "stop", "seed"} <= set(specs)
    assert "max_completion_tokens" not in specs  # one max-tokens control, litellm maps it
    assert specs["max_tokens"].max == model_info("openai/gpt-4o").max_output_tokens  # type: ignore[union-attr]
    anthropic = {s.name: s for s in parameter_specs("anthropic/claude-3-5-haiku-20241022")}
    assert anthropic["temperature"].max == 1.0 and "seed" not in anthropic


def test_endpoint_and_local_parameters() -> None:
    assert "top_k" in supported_params("anything", base_url="http://127.0.0.1:1/v1")
    local = supported_params("local/smollm2-135m-instruct")
    assert "temperature" in local and "reasoning_effort" not in local
