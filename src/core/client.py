"""Fetch prompts from application code (RG6): in-process from the database, or over HTTP.

    from core.client import get_prompt

    prompt = get_prompt("support-reply", label="production", key=user_id)
    messages = prompt.render(customer="Ada", question="Where is my order?")
    openai.chat.completions.create(**prompt.openai_kwargs(customer="Ada", question="..."))

``get_prompt`` uses a shared :class:`PromptClient`: over HTTP when ``WORKBENCH_API_URL``
(and ``WORKBENCH_API_TOKEN``) are set, otherwise straight from the configured database.
Results are cached in process for ``ttl`` seconds; when the store can't be reached the
last good value is returned (``stale=True``) instead of failing the application.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import quote

from core.prompts import errors as registry_errors
from core.prompts.errors import NotFoundError, PromptRegistryError
from core.prompts.render import render_template, template_variables

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 60.0


class PromptUnavailableError(PromptRegistryError):
    """The store can't be reached and there is no earlier value to fall back on."""

    kind = "unavailable"
    status_code = 503


class ApiAuthError(PromptRegistryError):
    """The REST API refused the token (missing, wrong or revoked)."""

    kind = "unauthorized"
    status_code = 401


@dataclass(frozen=True)
class ResolvedPrompt:
    """A prompt version as an application uses it: template, model configuration, render()."""

    name: str
    version: int
    version_id: int
    template_type: str  # "chat" or "text"
    template_format: str
    template: Any  # snippets already expanded
    llm_config: dict[str, Any]
    sample_variables: dict[str, Any]
    labels: list[str]
    label: str | None = None  # the label it was fetched by, if any
    fetched_at: float = 0.0  # time.time() when it came from the store
    stale: bool = False  # True when served from the fallback because the store was unreachable

    @property
    def ref(self) -> str:
        """``name@vN``."""
        return f"{self.name}@v{self.version}"

    @property
    def messages(self) -> list[dict[str, Any]] | None:
        """The chat template's messages (unrendered), or None for a text prompt."""
        return list(self.template) if self.template_type == "chat" else None

    @property
    def text(self) -> str | None:
        """The text template (unrendered), or None for a chat prompt."""
        return self.template if self.template_type == "text" else None

    @property
    def variables(self) -> list[str]:
        """Names of the variables render() needs."""
        return template_variables(self.template, self.template_format)

    def render(
        self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> list[dict[str, Any]] | str:
        """Messages (chat) or text with variables filled in; RenderError names what is missing."""
        values = {**(variables or {}), **kwargs}
        return render_template(self.template_type, self.template_format, self.template, values)

    def openai_kwargs(
        self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> dict[str, Any]:
        """Keyword arguments for ``client.chat.completions.create`` (or ``completions`` for text)."""
        rendered = self.render(variables, **kwargs)
        cfg = self.llm_config
        out: dict[str, Any] = {"model": cfg.get("model", "")}
        out["messages" if isinstance(rendered, list) else "prompt"] = rendered
        out.update(cfg.get("invocation_parameters") or {})
        for field in ("tools", "tool_choice", "response_format"):
            if cfg.get(field):
                out[field] = cfg[field]
        return out


class _Backend(Protocol):
    def fetch(
        self, name: str, label: str | None, version: int | None, key: str | None
    ) -> ResolvedPrompt: ...

    def close(self) -> None: ...


def _is_unreachable(exc: BaseException) -> bool:
    """True for failures that mean "the store is down", as opposed to "no such prompt"."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from core.db import DatabaseError

    if isinstance(exc, DatabaseError | OperationalError | PromptUnavailableError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return False
    return isinstance(exc, httpx.TransportError)


class DatabaseBackend:
    """Reads the registry tables directly (same process as the database client)."""

    def __init__(
        self, db_url: str | None = None, workspace: str | None = None, database: Any = None
    ) -> None:
        self._db_url = db_url
        self._workspace = workspace
        self._database = database
        self._workspace_id: int | None = None

    def _db(self) -> Any:
        if self._database is None:
            from core.db import get_database

            self._database = get_database(self._db_url)
        return self._database

    def _ws(self) -> int:
        if self._workspace_id is None:
            db = self._db()
            slug = self._workspace or os.environ.get("WORKBENCH_WORKSPACE", "default")
            self._workspace_id = (
                db.default_workspace_id() if slug == "default" else db.ensure_workspace(slug)
            )
        return self._workspace_id

    def fetch(
        self, name: str, label: str | None, version: int | None, key: str | None
    ) -> ResolvedPrompt:
        from core.prompts.registry import get_version

        info = get_version(
            self._db(),
            self._ws(),
            name,
            label=label,
            version=version,
            key=key,
            expand_snippets=True,
        )
        return ResolvedPrompt(
            name=info.prompt_name,
            version=info.version,
            version_id=info.version_id,
            template_type=info.template_type,
            template_format=info.template_format,
            template=info.template,
            llm_config=info.llm_config,
            sample_variables=info.sample_variables,
            labels=info.labels,
            label=label,
            fetched_at=time.time(),
        )

    def close(self) -> None:
        return None


_ERROR_CLASSES: dict[str, type[PromptRegistryError]] = {
    cls.kind: cls
    for cls in vars(registry_errors).values()
    if isinstance(cls, type) and issubclass(cls, PromptRegistryError)
}


class HttpBackend:
    """Talks to ``workbench api`` with a bearer token."""

    def __init__(
        self, base_url: str, token: str | None, timeout: float = 5.0, transport: Any = None
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def fetch(
        self, name: str, label: str | None, version: int | None, key: str | None
    ) -> ResolvedPrompt:
        params: dict[str, Any] = {}
        if label is not None:
            params["label"] = label
        if version is not None:
            params["version"] = version
        if key is not None:
            params["key"] = key
        response = self._http.get(f"/v1/prompts/{quote(name, safe='')}", params=params)
        if response.status_code >= 400:
            raise self._error(response)
        data = response.json()["data"]
        return ResolvedPrompt(
            name=data["prompt"],
            version=data["version"],
            version_id=data["version_id"],
            template_type=data["template_type"],
            template_format=data["template_format"],
            template=data["template"],
            llm_config=data.get("llm_config") or {},
            sample_variables=data.get("sample_variables") or {},
            labels=data.get("labels") or [],
            label=label,
            fetched_at=time.time(),
        )

    @staticmethod
    def _error(response: Any) -> PromptRegistryError:
        try:
            body = response.json()
            kind, detail = body.get("error", ""), body.get("detail", response.text)
        except ValueError:
            kind, detail = "", response.text[:200]
        if response.status_code >= 500:
            return PromptUnavailableError(f"prompt API answered {response.status_code}: {detail}")
        if response.status_code == 401:
            return ApiAuthError(f"prompt API refused the token (401): {detail}")
        cls = _ERROR_CLASSES.get(kind)
        if cls is None or cls.__init__ is not PromptRegistryError.__init__:
            cls = NotFoundError if response.status_code == 404 else PromptRegistryError
        return cls(str(detail))

    def close(self) -> None:
        self._http.close()


class PromptClient:
    """Fetches prompts with a TTL cache and a last-good-value fallback; thread-safe."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        db_url: str | None = None,
        database: Any = None,
        workspace: str | None = None,
        ttl: float = DEFAULT_TTL_S,
        timeout: float = 5.0,
        transport: Any = None,
    ) -> None:
        self.ttl = ttl
        self._backend: _Backend
        if base_url:
            self._backend = HttpBackend(base_url, token, timeout=timeout, transport=transport)
        else:
            self._backend = DatabaseBackend(db_url, workspace, database)
        # key -> (expires at, value); values stay after expiry as the fallback.
        self._cache: dict[
            tuple[str, str | None, int | None, str | None], tuple[float, ResolvedPrompt]
        ] = {}
        self._lock = threading.Lock()

    def get_prompt(
        self,
        name: str,
        label: str | None = None,
        version: int | None = None,
        *,
        key: str | None = None,
        ttl: float | None = None,
    ) -> ResolvedPrompt:
        """The prompt by label (``key`` for weighted labels) or version, or the newest; cached."""
        cache_key = (name, label, version, key)
        hit = self._cache.get(cache_key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            value = self._backend.fetch(name, label, version, key)
        except Exception as exc:
            if hit is not None and _is_unreachable(exc):
                log.warning("prompt store unreachable (%s); serving %s from cache", exc, hit[1].ref)
                return replace(hit[1], stale=True)
            if _is_unreachable(exc):
                raise PromptUnavailableError(
                    f"can't fetch prompt {name!r}: the prompt store is unreachable ({exc})"
                ) from exc
            raise
        lifetime = self.ttl if ttl is None else ttl
        with self._lock:
            self._cache[cache_key] = (now + lifetime, value)
        return value

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached values (of one prompt, or all), fallback included."""
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                for k in [k for k in self._cache if k[0] == name]:
                    del self._cache[k]

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._backend.close()

    def __enter__(self) -> PromptClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: PromptClient | None = None
_default_lock = threading.Lock()


def default_client() -> PromptClient:
    """The shared client: HTTP if ``WORKBENCH_API_URL`` is set, else the configured database."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PromptClient(
                base_url=os.environ.get("WORKBENCH_API_URL") or None,
                token=os.environ.get("WORKBENCH_API_TOKEN") or None,
                ttl=float(os.environ.get("WORKBENCH_PROMPT_TTL", DEFAULT_TTL_S)),
            )
        return _default


def reset_default_client() -> None:
    """Drop the shared client (after changing the environment)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None


def get_prompt(
    name: str, label: str | None = None, version: int | None = None, *, key: str | None = None
) -> ResolvedPrompt:
    """Fetch a prompt with the shared client (see the module docstring)."""
    return default_client().get_prompt(name, label, version, key=key)


__all__ = [
    "ApiAuthError",
    "PromptClient",
    "PromptUnavailableError",
    "ResolvedPrompt",
    "default_client",
    "get_prompt",
    "reset_default_client",
]
