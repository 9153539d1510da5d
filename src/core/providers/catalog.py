"""Which models exist and which invocation parameters each one accepts.

Built from litellm's bundled (local, offline) cost map, with the embedded model first
and the workspace's custom endpoints last. The parameter specs drive the playground's
parameter panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from core.providers import local
from core.providers.runtime import litellm_module

CHAT_MODES = ("chat", "completion", "responses")

# Display order and names of the providers people use most; others follow alphabetically.
PROVIDER_LABELS: dict[str, str] = {
    "local": "Embedded (local)", "openai": "OpenAI", "anthropic": "Anthropic",
    "gemini": "Google Gemini", "vertex_ai": "Google Vertex AI", "mistral": "Mistral",
    "groq": "Groq", "ollama": "Ollama", "azure": "Azure OpenAI", "bedrock": "AWS Bedrock",
    "deepseek": "DeepSeek", "xai": "xAI", "cohere": "Cohere", "together_ai": "Together AI",
    "fireworks_ai": "Fireworks AI", "openrouter": "OpenRouter", "perplexity": "Perplexity",
    "deepinfra": "DeepInfra", "cerebras": "Cerebras", "endpoint": "Custom endpoints",
}
_ORDER = list(PROVIDER_LABELS)


@dataclass(frozen=True)
class ModelInfo:
    """One selectable model: its id for ``ModelRequest.model`` and what is known about it."""

    id: str
    provider: str
    name: str  # the model's own name, without provider prefix
    mode: str = "chat"
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    supports_tools: bool | None = None
    supports_response_schema: bool | None = None
    supports_vision: bool | None = None
    endpoint_id: int | None = None
    endpoint_name: str | None = None
    base_url: str | None = None

    @property
    def provider_label(self) -> str:
        """Human name of the provider."""
        return provider_label(self.provider)

    @property
    def price_per_million(self) -> tuple[float | None, float | None]:
        """(input, output) USD per million tokens, None when unknown."""
        def per_m(x: float | None) -> float | None:
            return None if x is None else x * 1e6
        return per_m(self.input_cost_per_token), per_m(self.output_cost_per_token)


def provider_label(provider: str) -> str:
    """Display name for a provider id (``openai`` → ``OpenAI``)."""
    return PROVIDER_LABELS.get(provider, provider.replace("_", " ").title())


def _local_info() -> ModelInfo:
    return ModelInfo(id=local.DEFAULT_MODEL, provider=local.LOCAL_PROVIDER,
                     name=local.LOCAL_MODEL_ID, max_input_tokens=local.N_CTX,
                     max_output_tokens=local.N_CTX, input_cost_per_token=0.0,
                     output_cost_per_token=0.0, supports_tools=False,
                     supports_response_schema=True, supports_vision=False)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


@cache
def _known_models() -> tuple[ModelInfo, ...]:
    """Every chat/completion model in litellm's bundled cost map (computed once)."""
    cost_map: dict[str, dict[str, Any]] = litellm_module().model_cost
    out: list[ModelInfo] = []
    seen: set[str] = set()
    for key, spec in cost_map.items():
        if key == "sample_spec" or not isinstance(spec, dict):
            continue
        provider = str(spec.get("litellm_provider") or "")
        if not provider or spec.get("mode", "chat") not in CHAT_MODES:
            continue
        family = provider.split("-", 1)[0]  # vertex_ai-language-models → vertex_ai
        name = key.split("/", 1)[1] if key.startswith(f"{family}/") else key
        model_id = key if key.startswith(f"{family}/") else f"{family}/{key}"
        if model_id in seen:
            continue
        seen.add(model_id)
        out.append(ModelInfo(
            id=model_id, provider=family, name=name, mode=str(spec.get("mode", "chat")),
            max_input_tokens=_int(spec.get("max_input_tokens")),
            max_output_tokens=_int(spec.get("max_output_tokens") or spec.get("max_tokens")),
            input_cost_per_token=_num(spec.get("input_cost_per_token")),
            output_cost_per_token=_num(spec.get("output_cost_per_token")),
            supports_tools=spec.get("supports_function_calling"),
            supports_response_schema=spec.get("supports_response_schema"),
            supports_vision=spec.get("supports_vision")))
    return tuple(out)


def _endpoint_models(endpoints: Iterable[Any]) -> list[ModelInfo]:
    out: list[ModelInfo] = []
    for ep in endpoints:
        ids = ep.models if hasattr(ep, "models") else list(ep.model_ids or [])
        for model_id in ids:
            prices = (ep.prices or {}).get(model_id) or {}
            out.append(ModelInfo(
                id=model_id, provider="endpoint", name=model_id, endpoint_id=ep.id,
                endpoint_name=ep.name, base_url=ep.base_url,
                input_cost_per_token=_num(prices.get("input_cost_per_token")),
                output_cost_per_token=_num(prices.get("output_cost_per_token"))))
    return out


def list_models(*, endpoints: Iterable[Any] | None = None, providers: Iterable[str] | None = None
                ) -> list[ModelInfo]:
    """The embedded model, every known model (optionally of some providers), then endpoints."""
    wanted = set(providers) if providers is not None else None
    known = [m for m in _known_models() if wanted is None or m.provider in wanted]
    known.sort(key=lambda m: (_rank(m.provider), m.provider, m.name))
    return [_local_info(), *known, *_endpoint_models(endpoints or [])]


def _rank(provider: str) -> int:
    return _ORDER.index(provider) if provider in _ORDER else len(_ORDER)


def models_by_provider(*, endpoints: Iterable[Any] | None = None) -> dict[str, list[ModelInfo]]:
    """Models grouped by provider id, in display order (embedded first, endpoints last)."""
    groups: dict[str, list[ModelInfo]] = {}
    for info in list_models(endpoints=endpoints):
        groups.setdefault(info.provider, []).append(info)
    return groups


def model_info(model: str) -> ModelInfo | None:
    """What the catalog knows about ``model`` (with or without provider prefix)."""
    if local.is_local_model(model):
        return _local_info()
    by_id, by_key = _indexes()
    return by_id.get(model) or by_key.get(model)


@cache
def _indexes() -> tuple[dict[str, ModelInfo], dict[str, ModelInfo]]:
    by_id = {m.id: m for m in _known_models()}
    by_key: dict[str, ModelInfo] = {}
    for key, spec in litellm_module().model_cost.items():
        provider = str((spec or {}).get("litellm_provider") or "").split("-", 1)[0]
        info = by_id.get(key if key.startswith(f"{provider}/") else f"{provider}/{key}")
        if info is not None:
            by_key[key] = info  # "gpt-4o" → openai/gpt-4o, not azure/gpt-4o
    return by_id, by_key


# --- invocation parameters -------------------------------------------------------------

ParamKind = Literal["float", "int", "text_list", "choice"]


@dataclass(frozen=True)
class ParamSpec:
    """One invocation parameter as the playground panel shows it."""

    name: str
    label: str
    kind: ParamKind
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple[str, ...] = field(default_factory=tuple)


PARAMETERS: dict[str, ParamSpec] = {p.name: p for p in (
    ParamSpec("temperature", "Temperature", "float", 1.0, 0.0, 2.0, 0.05,
              "Randomness: 0 is (nearly) deterministic."),
    ParamSpec("top_p", "Top P", "float", 1.0, 0.0, 1.0, 0.01, "Nucleus sampling mass."),
    ParamSpec("max_tokens", "Max tokens", "int", None, 1, None, 1,
              "Upper bound on generated tokens."),
    ParamSpec("max_completion_tokens", "Max completion tokens", "int", None, 1, None, 1,
              "Upper bound on generated tokens (reasoning included)."),
    ParamSpec("stop", "Stop sequences", "text_list", None,
              help="Generation stops before any of these."),
    ParamSpec("seed", "Seed", "int", None, 0, 2**31 - 1, 1, "Best-effort reproducibility."),
    ParamSpec("presence_penalty", "Presence penalty", "float", 0.0, -2.0, 2.0, 0.1,
              "Penalise tokens that already appeared."),
    ParamSpec("frequency_penalty", "Frequency penalty", "float", 0.0, -2.0, 2.0, 0.1,
              "Penalise tokens by how often they appeared."),
    ParamSpec("top_k", "Top K", "int", None, 1, 500, 1, "Sample from the K likeliest tokens."),
    ParamSpec("reasoning_effort", "Reasoning effort", "choice", None,
              choices=("minimal", "low", "medium", "high"), help="For reasoning models."),
)}
# What an OpenAI-compatible server is assumed to take (extra ones go in the request body).
OPENAI_COMPATIBLE_PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed",
                            "presence_penalty", "frequency_penalty", "top_k")


def supported_params(model: str, *, base_url: str | None = None,
                     provider: str | None = None) -> list[str]:
    """Names of the panel's invocation parameters that ``model`` accepts, in panel order."""
    if base_url or provider == "endpoint":
        names: Iterable[str] = OPENAI_COMPATIBLE_PARAMS
    elif local.is_local_model(model):
        names = local.SUPPORTED_PARAMS
    else:
        litellm = litellm_module()
        try:
            names = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
        except Exception:  # unknown model: offer nothing rather than guess
            names = []
        if not names and "/" in model:
            prov, name = model.split("/", 1)
            try:
                names = litellm.get_supported_openai_params(model=name, custom_llm_provider=prov) or []
            except Exception:
                names = []
    accepted = set(names)
    if "max_tokens" in accepted:
        accepted.discard("max_completion_tokens")  # litellm maps one to the other as needed
    return [p for p in PARAMETERS if p in accepted]


def parameter_specs(model: str, *, base_url: str | None = None,
                    provider: str | None = None) -> list[ParamSpec]:
    """The parameter panel for ``model``: specs with model-specific bounds."""
    info = model_info(model) if not base_url else None
    out: list[ParamSpec] = []
    for name in supported_params(model, base_url=base_url, provider=provider):
        spec = PARAMETERS[name]
        if name in ("max_tokens", "max_completion_tokens") and info and info.max_output_tokens:
            spec = ParamSpec(**{**spec.__dict__, "max": float(info.max_output_tokens)})
        if name == "temperature" and ((info and info.provider == "anthropic")
                                      or model.startswith("anthropic/")):
            spec = ParamSpec(**{**spec.__dict__, "max": 1.0})
        out.append(spec)
    return out
