"""Where the replayed call goes: provider, litellm model id and base URL, with the reasoning."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.replay.report import Reporter

# OpenInference provider/system values (and common spellings) → litellm provider names.
PROVIDER_ALIASES = {
    "openai": "openai",
    "azure": "azure",
    "azure_openai": "azure",
    "anthropic": "anthropic",
    "mistral": "mistral",
    "mistralai": "mistral",
    "google": "gemini",
    "gemini": "gemini",
    "vertexai": "vertex_ai",
    "vertex_ai": "vertex_ai",
    "aws": "bedrock",
    "bedrock": "bedrock",
    "cohere": "cohere",
    "xai": "xai",
    "deepseek": "deepseek",
    "groq": "groq",
    "ollama": "ollama",
    "together": "together_ai",
    "together_ai": "together_ai",
    "openrouter": "openrouter",
    "fireworks": "fireworks_ai",
    "fireworks_ai": "fireworks_ai",
    "perplexity": "perplexity",
    "huggingface": "huggingface",
    "hosted_vllm": "hosted_vllm",
    "local": "local",
}
# Prefixes that make a model id a litellm id already ("anthropic/claude-…").
KNOWN_PREFIXES = set(PROVIDER_ALIASES.values()) | {
    "text-completion-openai",
    "azure_ai",
    "openai_compatible",
}

_MODEL_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^(gpt-|o1|o3|o4|chatgpt-|text-davinci|davinci|babbage|ft:gpt|text-embedding)"),
        "openai",
    ),
    (re.compile(r"^claude"), "anthropic"),
    (re.compile(r"^gemini"), "gemini"),
    (
        re.compile(r"^(mistral|mixtral|codestral|ministral|pixtral|magistral|open-mistral)"),
        "mistral",
    ),
    (re.compile(r"^command"), "cohere"),
    (re.compile(r"^grok"), "xai"),
    (re.compile(r"^deepseek"), "deepseek"),
]
_HOSTS = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
    "api.mistral.ai": "mistral",
    "api.groq.com": "groq",
    "api.together.xyz": "together_ai",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "xai",
    "openrouter.ai": "openrouter",
    "api.fireworks.ai": "fireworks_ai",
    "api.cohere.com": "cohere",
    "api.cohere.ai": "cohere",
    "api.perplexity.ai": "perplexity",
}
# Endpoint paths an instrumentor may record in url.full; the base URL is what precedes them.
_ENDPOINT_SUFFIX = re.compile(
    r"/(chat/completions|completions|messages|responses|embeddings|v1/messages)/?$"
)
OPENAI_COMPATIBLE = "openai"


@dataclass
class Target:
    """Provider, model and endpoint of the replayed call."""

    provider: str | None
    model: str
    base_url: str | None
    raw_model: str | None


def provider_from_model(model: str) -> str | None:
    """The provider a bare model name belongs to, from its well-known prefix."""
    name = model.split("/")[-1].lower()
    for pattern, provider in _MODEL_PATTERNS:
        if pattern.search(name):
            return provider
    return None


def split_model_prefix(model: str) -> tuple[str | None, str]:
    """("anthropic", "claude-x") for "anthropic/claude-x"; (None, model) without a litellm prefix."""
    head, sep, rest = model.partition("/")
    if sep and head.lower() in KNOWN_PREFIXES and rest:
        return head.lower(), rest
    return None, model


def base_url_from(url: str) -> tuple[str | None, str | None]:
    """(base URL without credentials, query or endpoint path; host) from a recorded URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None, None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, None
    host = parts.hostname.lower()
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    path = _ENDPOINT_SUFFIX.sub("", parts.path.rstrip("/"))
    # Azure deployments live below /openai/deployments/<name>; litellm wants the resource root.
    path = re.sub(r"/openai/deployments/[^/]+$", "", path)
    return urlunsplit((parts.scheme, netloc, path, "", "")), host


def provider_for_host(host: str) -> str | None:
    """The provider whose public API lives at ``host``."""
    if host in _HOSTS:
        return _HOSTS[host]
    if host.endswith(".openai.azure.com"):
        return "azure"
    return None


def resolve_target(
    *,
    model: str | None,
    recorded_provider: str | None,
    recorded_system: str | None,
    url_full: str | None,
    api_base: str | None,
    reporter: Reporter,
    model_source: str = "llm.model_name",
    wire_model: str | None = None,
) -> Target:
    """Decide provider, litellm model id and base URL; report each decision and why."""
    host: str | None = None
    base_url: str | None = None
    base_source = ""
    if api_base:
        base_url, host = base_url_from(api_base)
        base_source = "invocation_parameters.api_base"
    if base_url is None and url_full:
        base_url, host = base_url_from(url_full)
        base_source = "url.full"
    host_provider = provider_for_host(host) if host else None

    provider, why, exact = _pick_provider(
        model, recorded_provider, recorded_system, host_provider, base_url
    )
    if provider is None:
        reporter.defaulted("provider", why)
    elif exact:
        reporter.copied("provider", why, provider)
    else:
        reporter.guessed("provider", why, provider)

    if base_url is None:
        reporter.defaulted(
            "base_url", "no endpoint recorded; the provider's default endpoint is used"
        )
    elif host_provider is not None and host_provider != "azure":
        reporter.copied(
            "base_url",
            f"{base_source} is {host_provider}'s public API; its default endpoint is used",
            base_url,
        )
        base_url = None
    elif base_source == "url.full":
        reporter.guessed(
            "base_url", "derived from url.full (endpoint path and query removed)", base_url
        )
    else:
        reporter.copied("base_url", f"from {base_source}", base_url)

    source = model_source or "llm.model_name"
    resolved = _compose_model(model, provider, base_url, reporter, source, wire_model)
    return Target(provider=provider, model=resolved, base_url=base_url, raw_model=model)


def _pick_provider(
    model: str | None,
    recorded_provider: str | None,
    recorded_system: str | None,
    host_provider: str | None,
    base_url: str | None,
) -> tuple[str | None, str, bool]:
    """(provider, reason, copied-exactly)."""
    if recorded_provider:
        raw = str(recorded_provider).strip().lower()
        mapped = PROVIDER_ALIASES.get(raw, raw)
        if mapped == raw:
            return mapped, "from llm.provider", True
        return mapped, f"llm.provider {raw!r} is litellm's {mapped!r}", False
    if recorded_system:
        raw = str(recorded_system).strip().lower()
        mapped = PROVIDER_ALIASES.get(raw, raw)
        return mapped, f"llm.provider missing; taken from llm.system {raw!r}", False
    if model:
        prefix, _ = split_model_prefix(model)
        if prefix:
            return prefix, f"from the model id prefix {prefix!r}", False
    if host_provider:
        return host_provider, "from the url.full host", False
    if model and (by_name := provider_from_model(model)):
        return by_name, f"from the model name {model!r}", False
    if base_url:
        return OPENAI_COMPATIBLE, "custom endpoint in url.full; treated as OpenAI-compatible", False
    return None, "not recorded and not inferable; litellm will infer it from the model id", False


def _compose_model(
    model: str | None,
    provider: str | None,
    base_url: str | None,
    reporter: Reporter,
    source: str,
    wire_model: str | None = None,
) -> str:
    """The model id the invocation layer expects: a litellm id, or a custom endpoint's own id."""
    if not model:
        return ""
    guessed_source = source != "llm.model_name"
    note = f" (read from {source})" if guessed_source else ""
    prefix, bare = split_model_prefix(model)
    if base_url and provider in (OPENAI_COMPATIBLE, None):
        # OpenAI-compatible custom endpoint: the endpoint's own model id, no litellm prefix.
        # The request body (input.value) holds the id that went over the wire, when recorded.
        if wire_model and wire_model != model:
            reporter.guessed(
                "model",
                f"the model id sent to the endpoint (input.value), not {model!r}",
                wire_model,
            )
            return wire_model
        if prefix == OPENAI_COMPATIBLE and not wire_model:
            reporter.guessed(
                "model",
                f"litellm prefix removed: {bare!r} is the custom endpoint's model id{note}",
                bare,
            )
            return bare
        (reporter.guessed if guessed_source else reporter.copied)(
            "model", f"the custom endpoint's model id as recorded{note}", model
        )
        return model
    if prefix:
        (reporter.guessed if guessed_source else reporter.copied)(
            "model", f"already a litellm model id{note}", model
        )
        return model
    if provider:
        composed = f"{provider}/{model}"
        reporter.guessed(
            "model",
            f"litellm id composed from provider {provider!r} and model {model!r}{note}",
            composed,
        )
        return composed
    (reporter.guessed if guessed_source else reporter.copied)(
        "model", f"as recorded; no provider prefix could be added{note}", model
    )
    return model
