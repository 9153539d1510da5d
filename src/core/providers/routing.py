"""Deciding, before any network, who serves a request and with which key and prices.

Three ways out. Every named provider goes through litellm. OpenAI-compatible endpoints
(a base URL) are called with the openai SDK directly: same wire protocol, and litellm's
per-call and per-chunk work cost more than our whole overhead budget against a local
server (see bench/README.md). The embedded model is called in-process directly for the
same reason; it is also registered with litellm (``local/…``) for code that calls
litellm itself.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from core import credentials
from core.providers import local
from core.providers.errors import AuthenticationError, BadRequestError, UnknownModelError
from core.providers.runtime import litellm_module
from core.providers.types import ModelRequest, Operation

OPENAI_COMPATIBLE = "openai"  # provider recorded for custom OpenAI-compatible endpoints
NO_KEY = "not-needed"  # sent to keyless endpoints: never fall back to OPENAI_API_KEY

RouteKind = Literal["openai_compatible", "litellm", "local"]


@dataclass
class Route:
    """How one request will be sent: provider, wire, model id, base URL, key and prices."""

    kind: RouteKind
    provider: str
    model: str  # the id sent on the wire (litellm form for the litellm route)
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    key_source: str = "none"
    # {"input_cost_per_token": x, "output_cost_per_token": y} for custom endpoints
    prices: dict[str, float] | None = None
    cost_model: str | None = None  # litellm cost-map id for known models
    response_format: dict[str, Any] | None = None

    @property
    def secrets(self) -> list[str]:
        """Strings to scrub from anything this call produces."""
        return [self.api_key] if self.api_key and self.api_key != NO_KEY else []


# OpenAI-compatible servers that reject OpenAI's ``json_schema`` response format but take
# ``json_object`` with a ``schema`` (llama-cpp-python's server): learnt once per base URL.
_json_object_dialect: set[str] = set()
_dialect_lock = threading.Lock()


def remember_json_object_dialect(base_url: str) -> None:
    """Note that ``base_url`` wants ``{"type": "json_object", "schema": …}``."""
    with _dialect_lock:
        _json_object_dialect.add(base_url.rstrip("/"))


def wants_json_object_dialect(base_url: str | None) -> bool:
    """Whether ``base_url`` was seen rejecting ``json_schema`` response formats."""
    return bool(base_url) and base_url.rstrip("/") in _json_object_dialect  # type: ignore[union-attr]


def json_object_form(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's ``json_schema`` response format as ``json_object`` + ``schema``."""
    if not fmt or fmt.get("type") != "json_schema":
        return fmt
    spec = fmt.get("json_schema") or {}
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return {"type": "json_object", **({"schema": schema} if isinstance(schema, dict) else {})}


def check_base_url(base_url: str) -> str:
    """``base_url`` normalised (no trailing slash), or BadRequestError saying what is wrong."""
    url = (base_url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequestError(
            f"Base URL {credentials.redact(url)!r} is not an http(s) URL; it should look like "
            "https://api.example.com/v1", status_code=400)
    return url.rstrip("/")


def _known_provider(model: str, provider: str | None) -> tuple[str, str]:
    """(provider, model) as litellm understands them, or UnknownModelError (no network)."""
    litellm = litellm_module()
    try:
        _, found, _, _ = litellm.get_llm_provider(model=model, custom_llm_provider=provider)
    except Exception:
        raise UnknownModelError(
            f"No provider knows model {model!r}. Use a provider prefix (e.g. openai/gpt-4o-mini, "
            "anthropic/claude-3-5-haiku-latest), a custom endpoint, or the embedded model "
            f"{local.DEFAULT_MODEL}.", model=model, status_code=None) from None
    return str(found), model


def resolve_route(request: ModelRequest, *, session_keys: Mapping[str, str] | None = None,
                  endpoint: Any = None) -> Route:
    """The route for ``request``; raises our errors for anything wrong before the network.

    ``endpoint`` is a ``ModelEndpoint``-like object (base_url, prices, token_env_var)
    when the request names a saved custom endpoint.
    """
    model = (request.model or "").strip()
    if not model:
        raise BadRequestError("No model selected.", status_code=400)
    if request.operation == Operation.CHAT and not request.messages:
        raise BadRequestError("A chat request needs at least one message.", model=model,
                              status_code=400)
    if request.operation == Operation.TEXT_COMPLETION and request.prompt is None:
        raise BadRequestError("A text completion request needs a prompt.", model=model,
                              status_code=400)

    base_url = request.base_url or (getattr(endpoint, "base_url", None) if endpoint else None)
    if base_url and endpoint is None and _names_litellm_provider(model, request.provider):
        # e.g. azure/…, ollama/…, hosted_vllm/… with their server's URL: litellm speaks it.
        return _litellm_route(request, model, session_keys, api_base=check_base_url(base_url))
    if base_url:
        base_url = check_base_url(base_url)
        key = request.api_key
        source = "request" if key else "none"
        token_name = getattr(endpoint, "token_env_var", None) if endpoint else None
        if not key and token_name:
            found = credentials.resolve_named(token_name, session_keys=session_keys)
            key, source = found.key, found.source
        prices = None
        if endpoint is not None:
            raw = (getattr(endpoint, "prices", None) or {}).get(model)
            if isinstance(raw, dict):
                prices = {k: float(v) for k, v in raw.items()
                          if k in ("input_cost_per_token", "output_cost_per_token") and v is not None}
        fmt = request.response_format
        if wants_json_object_dialect(base_url):
            fmt = json_object_form(fmt)
        return Route("openai_compatible", request.provider or OPENAI_COMPATIBLE, model,
                     api_base=base_url, api_key=key or NO_KEY, key_source=source,
                     prices=prices or None, response_format=fmt)

    if local.is_local_model(model) or (request.provider == local.LOCAL_PROVIDER):
        name = model.split("/", 1)[1] if "/" in model else model
        if name not in local.LOCAL_ALIASES:
            raise UnknownModelError(f"The embedded model is {local.DEFAULT_MODEL}; "
                                    f"{model!r} is not available locally.", model=model,
                                    provider=local.LOCAL_PROVIDER)
        local.check_params({**request.invocation_parameters,
                            "response_format": request.response_format}, tools=request.tools)
        return Route("local", local.LOCAL_PROVIDER, local.DEFAULT_MODEL, api_key=None,
                     key_source="none", prices={"input_cost_per_token": 0.0,
                                                "output_cost_per_token": 0.0},
                     cost_model=local.DEFAULT_MODEL, response_format=request.response_format)

    return _litellm_route(request, model, session_keys)


_OPENAI_NAMES = frozenset({None, "", "openai", "openai_compatible", "custom", "endpoint"})


def _names_litellm_provider(model: str, provider: str | None) -> bool:
    """Whether the request names a litellm provider other than plain OpenAI-compatible."""
    if provider not in _OPENAI_NAMES:
        return True
    prefix = model.split("/", 1)[0] if "/" in model else ""
    if not prefix or prefix == "openai":
        return False
    return prefix in set(litellm_module().provider_list)


def _litellm_route(request: ModelRequest, model: str, session_keys: Mapping[str, str] | None,
                   api_base: str | None = None) -> Route:
    provider, wire_model = _known_provider(model, request.provider)
    key = request.api_key
    source = "request" if key else "none"
    if not key and credentials.needs_key(provider):
        found = credentials.resolve_key(provider, session_keys=session_keys)
        key, source = found.key, found.source
        if not key and provider in credentials.PROVIDER_KEY_ENV and not api_base:
            names = " or ".join(credentials.key_env_vars(provider))
            raise AuthenticationError(
                f"No API key for {provider}: set {names} in the environment or in "
                ".streamlit/secrets.toml, or type one in Settings for this session.",
                provider=provider, model=model, status_code=None)
    if request.provider and "/" not in wire_model:
        wire_model = f"{request.provider}/{wire_model}"
    litellm = litellm_module()
    cost_model = wire_model if wire_model in litellm.model_cost else (
        wire_model.split("/", 1)[1] if "/" in wire_model and wire_model.split("/", 1)[1]
        in litellm.model_cost else None)
    return Route("litellm", provider, wire_model, api_base=api_base, api_key=key,
                 key_source=source, cost_model=cost_model, response_format=request.response_format)
