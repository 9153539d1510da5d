"""Provider credentials: where a key comes from, how it is shown, and how secrets are masked.

A key is looked up, in order, in the keys typed for the current browser session (passed
in by the UI; core never stores them), ``.streamlit/secrets.toml``, and the environment
(litellm's variable names). Keys are never written to the database, spans, logs or
exports. This module is the one place secrets are taken out of data:

* :func:`redact` masks key-like text and secret fields at any depth (messages, logs, error
  text); with ``drop_fields=True`` it removes secret fields and header containers instead
  (request parameters and metadata that are stored, recorded or exported);
* :func:`scrub_values` masks only the known secret strings and keeps every key (user
  content such as messages and tools, where a field named ``password`` is data);
* :func:`clean_url` strips credentials from URLs; :func:`secrets_of` lists the secret
  strings a request carries, to mask wherever a server might echo them.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

KeySource = Literal["session", "secrets", "env", "none"]

# Environment variable names litellm reads, per provider (first one is the canonical name).
PROVIDER_KEY_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "cohere": ("COHERE_API_KEY", "CO_API_KEY"),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"),
    "huggingface": ("HF_TOKEN", "HUGGINGFACE_API_KEY"),
    "ai21": ("AI21_API_KEY",),
    "replicate": ("REPLICATE_API_KEY",),
    "nvidia_nim": ("NVIDIA_NIM_API_KEY",),
}
# Providers that authenticate with cloud credentials rather than one API key.
CLOUD_CREDENTIAL_ENV: dict[str, tuple[str, ...]] = {
    "bedrock": ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ROLE_NAME"),
    "vertex_ai": ("GOOGLE_APPLICATION_CREDENTIALS", "VERTEXAI_PROJECT"),
}
# Providers that need no key at all (local servers, the embedded model).
KEYLESS_PROVIDERS = frozenset({"local", "ollama", "ollama_chat", "lm_studio", "llamafile",
                               "hosted_vllm", "vllm"})

SECRETS_ENV = "WORKBENCH_SECRETS_FILE"
MASK = "***"


class CredentialsError(Exception):
    """The secrets file could not be read; the message never contains its content."""


@dataclass(frozen=True)
class ResolvedKey:
    """Which key a provider would use and where it came from; ``key`` is never printed."""

    provider: str
    key: str | None = field(default=None, repr=False)
    source: KeySource = "none"
    name: str | None = None  # the env var / secrets entry it came from

    @property
    def found(self) -> bool:
        """Whether a key was found."""
        return bool(self.key)

    @property
    def masked(self) -> str:
        """The key as it may be shown (``sk-…a1b2``), or an empty string."""
        return mask_key(self.key)


def key_env_vars(provider: str) -> tuple[str, ...]:
    """Environment variable names holding ``provider``'s key (``OPENAI_API_KEY``, …)."""
    provider = provider.lower()
    if provider in PROVIDER_KEY_ENV:
        return PROVIDER_KEY_ENV[provider]
    return (re.sub(r"[^A-Z0-9]+", "_", provider.upper()).strip("_") + "_API_KEY",)


def needs_key(provider: str) -> bool:
    """Whether calls to ``provider`` need an API key we can resolve."""
    return provider.lower() not in KEYLESS_PROVIDERS and provider.lower() not in CLOUD_CREDENTIAL_ENV


def default_secrets_paths() -> list[Path]:
    """Where ``secrets.toml`` is looked for: ``WORKBENCH_SECRETS_FILE``, then Streamlit's places."""
    env = os.environ.get(SECRETS_ENV, "").strip()
    if env:
        return [Path(env).expanduser()]
    return [Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


_secrets_cache: dict[Path, tuple[float, dict[str, Any]]] = {}
_secrets_lock = threading.Lock()


def load_secrets(path: Path | None = None) -> dict[str, Any]:
    """The merged content of the secrets file(s) (empty when none); cached by mtime."""
    merged: dict[str, Any] = {}
    # Later paths are fallbacks: the first file wins on a conflicting name.
    for candidate in reversed([path] if path else default_secrets_paths()):
        merged.update(_read_secrets_file(candidate))
    return merged


def _read_secrets_file(path: Path) -> dict[str, Any]:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    with _secrets_lock:
        cached = _secrets_cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        # The parser's message quotes no content beyond a position: safe to show.
        raise CredentialsError(f"{path.name} is not valid TOML ({exc}); fix or remove it.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path.name} could not be read: {type(exc).__name__}") from None
    with _secrets_lock:
        _secrets_cache[path] = (mtime, data)
    return data


def lookup_secret(name: str, secrets: Mapping[str, Any]) -> str | None:
    """A string value named ``name`` at the top level of a secrets mapping (case-insensitive)."""
    if name in secrets and isinstance(secrets[name], str):
        return secrets[name].strip() or None
    low = name.lower()
    for key, value in secrets.items():
        if key.lower() == low and isinstance(value, str):
            return value.strip() or None
    return None


def resolve_key(provider: str, *, session_keys: Mapping[str, str] | None = None,
                secrets: Mapping[str, Any] | None = None, secrets_path: Path | None = None,
                environ: Mapping[str, str] | None = None) -> ResolvedKey:
    """The key ``provider`` would use: session, then secrets.toml, then the environment."""
    provider = provider.lower()
    typed = (session_keys or {}).get(provider)
    if typed and typed.strip():
        return ResolvedKey(provider, typed.strip(), "session", "typed for this session")
    names = key_env_vars(provider)
    data = secrets if secrets is not None else load_secrets(secrets_path)
    for name in names:
        value = lookup_secret(name, data)
        if value:
            return ResolvedKey(provider, value, "secrets", name)
    section = data.get(provider)  # [openai] api_key = "…" also works
    if isinstance(section, Mapping) and isinstance(section.get("api_key"), str) and section["api_key"].strip():
        return ResolvedKey(provider, section["api_key"].strip(), "secrets", f"{provider}.api_key")
    env = environ if environ is not None else os.environ
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return ResolvedKey(provider, value, "env", name)
    return ResolvedKey(provider, None, "none", None)


def provider_of(model: str) -> str | None:
    """The provider a model id belongs to (``openai/gpt-4o`` → ``openai``), if known."""
    prefix = model.split("/", 1)[0].lower() if "/" in model else ""
    if prefix in PROVIDER_KEY_ENV or prefix in KEYLESS_PROVIDERS or prefix in CLOUD_CREDENTIAL_ENV:
        return prefix
    try:
        from core.providers.runtime import litellm_module

        return str(litellm_module().get_llm_provider(model=model)[1])
    except Exception:  # no provider knows it
        return None


def resolve_api_key(model: str, *, session_keys: Mapping[str, str] | None = None) -> str | None:
    """The key a call to ``model`` would use (session, secrets.toml, env), or None."""
    provider = provider_of(model)
    if provider is None or not needs_key(provider):
        return None
    try:
        return resolve_key(provider, session_keys=session_keys).key
    except CredentialsError:  # a broken secrets file must not hide session/env keys
        return resolve_key(provider, session_keys=session_keys, secrets={}).key


def resolve_named(name: str, *, session_keys: Mapping[str, str] | None = None,
                  secrets: Mapping[str, Any] | None = None, secrets_path: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> ResolvedKey:
    """A token referenced by name (a custom endpoint's ``token_env_var``), same order."""
    typed = (session_keys or {}).get(name)
    if typed and typed.strip():
        return ResolvedKey(name, typed.strip(), "session", name)
    data = secrets if secrets is not None else load_secrets(secrets_path)
    value = lookup_secret(name, data)
    if value:
        return ResolvedKey(name, value, "secrets", name)
    env = environ if environ is not None else os.environ
    value = env.get(name, "").strip()
    if value:
        return ResolvedKey(name, value, "env", name)
    return ResolvedKey(name, None, "none", None)


def mask_key(key: str | None) -> str:
    """A key as it may be displayed: its prefix and last four characters (``sk-…a1b2``)."""
    if not key:
        return ""
    key = key.strip()
    if len(key) < 12:
        return "…" + MASK
    prefix = key.split("-", 1)[0] + "-" if "-" in key[:8] else key[:2]
    return f"{prefix}…{key[-4:]}"


# Free-text shapes of secrets: bearer/basic credentials, provider key formats, key=value.
_TEXT_PATTERNS = (
    re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=\-]{6,}"),
    re.compile(r"(?i)\b(basic)(\s+)[A-Za-z0-9+/=]{12,}"),
    re.compile(r"\b(sk|pk|rk)(-)[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\b(sk-ant|xai|gsk|hf|github_pat|glpat|ghp|gho)([_\-])[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\b(ghu|ghs|ghr|xox[abpr])([_\-])[A-Za-z0-9_\-]{10,}"),
    re.compile(r"\b(AIza)()[0-9A-Za-z_\-]{20,}"),
    re.compile(
        r"(?i)([\"']?(?:api[_\-]?key|x[_\-]api[_\-]key|authorization|access[_\-]?token|"
        r"auth[_\-]?token|client[_\-]?secret|secret|password|api[_\-]?secret)[\"']?)"
        r"(\s*[:=]\s*[\"']?)(?!\*\*\*)[^\"'\s,;}&)]+"),
)
# Field names whose value is a secret, anchored at the end of the name so that
# "openai_api_key", "x-api-key" and "llm.credentials" match and "token_env_var" does not.
_SECRET_FIELD = re.compile(
    r"(?i)(^|[_.\-])(api[_\-]?key|apikey|x[_\-]api[_\-]key|authorization|bearer|"
    r"auth[_\-]?token|access[_\-]?token|refresh[_\-]?token|id[_\-]?token|token|secret|"
    r"client[_\-]?secret|api[_\-]?secret|password|passwd|private[_\-]?key|access[_\-]?key|"
    r"secret[_\-]?key|cookie|"
    r"set[_\-]?cookie|credentials?)$")
# Token counts and limits end in "token(s)" but are not secrets.
_SAFE_FIELDS = frozenset({"max_tokens", "max_completion_tokens", "max_new_tokens",
                          "max_output_tokens", "prompt_tokens", "completion_tokens",
                          "total_tokens", "logit_bias", "top_k"})
# Containers of secrets rather than one secret: removed whole when fields are dropped.
_SECRET_CONTAINERS = frozenset({"headers", "extra_headers", "default_headers"})
_CONTAINER_SUFFIXES = ("_headers", ".headers", "-headers")  # http_headers, llm.headers…
# Query parameters that carry signatures or keys in pre-signed / key-in-URL APIs.
_SECRET_QUERY = frozenset({"key", "sig", "signature", "code"})


def is_secret_field(name: str, *, containers: bool = False) -> bool:
    """Whether a mapping key names a secret (``api_key``, ``Authorization``, ``x-api-key``…).

    With ``containers``, header mappings (``headers``, ``extra_headers``) count too.
    """
    low = name.strip().lower()
    if low in _SAFE_FIELDS or low.endswith("_tokens") or low.startswith("token_count"):
        return False
    if containers and (low in _SECRET_CONTAINERS or low.endswith(_CONTAINER_SUFFIXES)):
        return True
    return bool(_SECRET_FIELD.search(low))


def _known(secrets: Iterable[str | None]) -> list[str]:
    # Short strings would mask innocent text; real keys are long. Longest first, so a
    # key is masked whole before a shorter one that is part of it.
    return sorted({s for s in secrets if isinstance(s, str) and len(s) >= 6}, key=len, reverse=True)


def redact(value: Any, secrets: Iterable[str | None] = (), *, drop_fields: bool = False) -> Any:
    """``value`` with key-like text and known ``secrets`` masked, at any depth; a new object.

    Secret fields are masked (``"api_key": "***"``), or with ``drop_fields`` removed along
    with header containers: what stored and exported request parameters need.
    """
    return _redact(value, _known(secrets), drop_fields)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with known ``secrets`` and key-like tokens (``Bearer …``, ``sk-…``) masked."""
    return _redact_text(text, _known(secrets))


def _redact(value: Any, known: list[str], drop: bool) -> Any:
    if isinstance(value, str):
        return _redact_text(value, known)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and is_secret_field(key, containers=drop):
                if drop:
                    continue
                if item not in (None, ""):
                    out[key] = MASK
                    continue
            out[key] = _redact(item, known, drop)
        return out
    if isinstance(value, list | tuple):
        return [_redact(v, known, drop) for v in value]
    return value


def _redact_text(text: str, known: list[str]) -> str:
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


def scrub_values(value: Any, secrets: Iterable[str | None]) -> Any:
    """A deep copy of ``value`` with only the known ``secrets`` masked; keys are kept.

    For user content (messages, tools, templates) where a key named ``password`` or a
    string shaped like a key is data the user wrote, not a credential of ours.
    """
    known = _known(secrets)

    def scrub(item: Any) -> Any:
        if isinstance(item, str):
            for secret in known:
                if secret in item:
                    item = item.replace(secret, MASK)
            return item
        if isinstance(item, Mapping):
            return {k: scrub(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [scrub(v) for v in item]
        return item

    return scrub(value)


def clean_url(url: str | None) -> str | None:
    """``url`` without user:password and without secret-looking query parameters."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                 if not is_secret_field(k) and k.lower() not in _SECRET_QUERY]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(api_key: str | None, headers: Mapping[str, Any] | None) -> list[str]:
    """The secret strings a request carries, to mask wherever they might be echoed."""
    found = [api_key] if api_key else []
    for key, val in (headers or {}).items():
        if not isinstance(val, str):
            continue
        found.append(val)
        # "Bearer sk-…": the token alone may be echoed without its scheme.
        if str(key).lower() == "authorization" and " " in val:
            found.append(val.split(" ", 1)[1])
    return found
