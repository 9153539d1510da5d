"""Custom OpenAI-compatible endpoints: saved base URL, model ids and prices; discovery.

A token is never stored: an endpoint may name an environment variable (or secrets.toml
entry) that holds it, and the UI may pass one typed for the browser session.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.credentials import redact
from core.db import Database, get_database
from core.db.models import ModelEndpoint

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
PRICE_KEYS = ("input_cost_per_token", "output_cost_per_token")
DISCOVERY_TIMEOUT_S = 5.0
_CACHE_TTL_S = 30.0


class EndpointError(ValueError):
    """Invalid endpoint settings, a missing endpoint, or a failed discovery (clear message)."""


@dataclass(frozen=True)
class Endpoint:
    """A saved endpoint, detached from any database session."""

    id: int
    workspace_id: int
    name: str
    base_url: str
    model_ids: list[str] = field(default_factory=list)
    default_model: str | None = None
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    token_env_var: str | None = None

    @property
    def models(self) -> list[str]:
        """Model ids, the default first."""
        ids = list(self.model_ids)
        if self.default_model and self.default_model in ids:
            ids.remove(self.default_model)
            ids.insert(0, self.default_model)
        return ids


def _snapshot(row: ModelEndpoint) -> Endpoint:
    return Endpoint(id=row.id, workspace_id=row.workspace_id, name=row.name,
                    base_url=row.base_url, model_ids=list(row.model_ids or []),
                    default_model=row.default_model, prices=dict(row.prices or {}),
                    token_env_var=row.token_env_var)


def normalize_base_url(url: str) -> str:
    """``url`` checked (http/https, a host, no credentials inside) without trailing slash."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"Base URL {redact(url)!r} must start with http:// or https:// and "
                            "name a host, e.g. https://api.example.com/v1")
    if parts.username or parts.password:
        raise EndpointError("Put the token in an environment variable, not in the base URL.")
    return url.rstrip("/")


def _clean_models(model_ids: Any) -> list[str]:
    if isinstance(model_ids, str):
        model_ids = re.split(r"[,\n]", model_ids)
    out: list[str] = []
    for m in model_ids or []:
        m = str(m).strip()
        if m and m not in out:
            out.append(m)
    return out


def _clean_prices(prices: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for model, entry in (prices or {}).items():
        if not isinstance(entry, dict):
            raise EndpointError(f"Prices for {model!r} must be a mapping of {', '.join(PRICE_KEYS)}")
        clean: dict[str, float] = {}
        for key in PRICE_KEYS:
            value = entry.get(key)
            if value is None or value == "":
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise EndpointError(f"Price {key} for {model!r} is not a number") from None
            if number < 0:
                raise EndpointError(f"Price {key} for {model!r} cannot be negative")
            clean[key] = number
        unknown = set(entry) - set(PRICE_KEYS)
        if unknown:
            raise EndpointError(f"Unknown price fields for {model!r}: {', '.join(sorted(unknown))}")
        if clean:
            out[str(model)] = clean
    return out


def _clean_env_name(name: str | None) -> str | None:
    name = (name or "").strip()
    if not name:
        return None
    if not _ENV_NAME.match(name) or redact(name) != name:
        raise EndpointError("Token variable must be the NAME of an environment variable or "
                            "secrets.toml entry (e.g. MY_ENDPOINT_TOKEN), never the token itself.")
    return name


def _clean(name: str, base_url: str, model_ids: Any, default_model: str | None, prices: Any,
           token_env_var: str | None) -> dict[str, Any]:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise EndpointError("An endpoint needs a name of 1 to 200 characters.")
    models = _clean_models(model_ids)
    default = (default_model or "").strip() or (models[0] if models else None)
    if default and default not in models:
        models.insert(0, default)
    return {"name": name, "base_url": normalize_base_url(base_url), "model_ids": models,
            "default_model": default, "prices": _clean_prices(prices),
            "token_env_var": _clean_env_name(token_env_var)}


def price_per_million(input_per_million: float | None, output_per_million: float | None
                      ) -> dict[str, float]:
    """A prices entry from the per-million-token prices people quote."""
    out: dict[str, float] = {}
    if input_per_million is not None:
        out["input_cost_per_token"] = float(input_per_million) / 1e6
    if output_per_million is not None:
        out["output_cost_per_token"] = float(output_per_million) / 1e6
    return out


_cache: dict[tuple[str, int], tuple[float, Endpoint]] = {}
_cache_lock = threading.Lock()


def _forget(db: Database, endpoint_id: int | None = None) -> None:
    with _cache_lock:
        for key in list(_cache):
            if key[0] == db.url and (endpoint_id is None or key[1] == endpoint_id):
                del _cache[key]


def list_endpoints(db: Database | None = None, workspace_id: int | None = None) -> list[Endpoint]:
    """The workspace's endpoints, by name."""
    db = db or get_database()
    ws = workspace_id if workspace_id is not None else db.default_workspace_id()
    with db.session() as s:
        rows = s.scalars(select(ModelEndpoint).where(ModelEndpoint.workspace_id == ws)
                         .order_by(ModelEndpoint.name)).all()
        return [_snapshot(r) for r in rows]


def get_endpoint(endpoint_id: int, db: Database | None = None) -> Endpoint:
    """One endpoint by id, or EndpointError."""
    db = db or get_database()
    with db.session() as s:
        row = s.get(ModelEndpoint, endpoint_id)
        if row is None:
            raise EndpointError(f"Endpoint #{endpoint_id} does not exist (deleted?).")
        return _snapshot(row)


def cached_endpoint(endpoint_id: int, db: Database | None = None) -> Endpoint:
    """:func:`get_endpoint` cached briefly (the invocation path reads it on every call)."""
    db = db or get_database()
    key = (db.url, endpoint_id)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < _CACHE_TTL_S:
            return hit[1]
    endpoint = get_endpoint(endpoint_id, db)
    with _cache_lock:
        _cache[key] = (now, endpoint)
    return endpoint


def create_endpoint(name: str, base_url: str, model_ids: Any = (), *,
                    default_model: str | None = None, prices: Any = None,
                    token_env_var: str | None = None, db: Database | None = None,
                    workspace_id: int | None = None) -> Endpoint:
    """Save a new endpoint; EndpointError for bad input or a duplicate name."""
    db = db or get_database()
    ws = workspace_id if workspace_id is not None else db.default_workspace_id()
    values = _clean(name, base_url, model_ids, default_model, prices, token_env_var)
    try:
        with db.session() as s:
            row = ModelEndpoint(workspace_id=ws, **values)
            s.add(row)
            s.flush()
            return _snapshot(row)
    except IntegrityError:
        raise EndpointError(f"An endpoint named {values['name']!r} already exists.") from None


def update_endpoint(endpoint_id: int, *, db: Database | None = None, **changes: Any) -> Endpoint:
    """Change some fields (name, base_url, model_ids, default_model, prices, token_env_var)."""
    allowed = {"name", "base_url", "model_ids", "default_model", "prices", "token_env_var"}
    unknown = set(changes) - allowed
    if unknown:
        raise EndpointError(f"Cannot change {', '.join(sorted(unknown))} (tokens are never stored).")
    db = db or get_database()
    try:
        with db.session() as s:
            row = s.get(ModelEndpoint, endpoint_id)
            if row is None:
                raise EndpointError(f"Endpoint #{endpoint_id} does not exist (deleted?).")
            current = _snapshot(row)
            merged = {"name": current.name, "base_url": current.base_url,
                      "model_ids": current.model_ids, "default_model": current.default_model,
                      "prices": current.prices, "token_env_var": current.token_env_var, **changes}
            if "model_ids" in changes and "default_model" not in changes and (
                    current.default_model not in _clean_models(changes["model_ids"])):
                merged["default_model"] = None
            for key, value in _clean(**merged).items():
                setattr(row, key, value)
            s.flush()
            result = _snapshot(row)
    except IntegrityError:
        raise EndpointError(f"An endpoint named {changes.get('name')!r} already exists.") from None
    _forget(db, endpoint_id)
    return result


def delete_endpoint(endpoint_id: int, db: Database | None = None) -> None:
    """Delete an endpoint (recorded runs keep their endpoint id and base URL)."""
    db = db or get_database()
    with db.session() as s:
        row = s.get(ModelEndpoint, endpoint_id)
        if row is None:
            raise EndpointError(f"Endpoint #{endpoint_id} does not exist (deleted?).")
        s.delete(row)
    _forget(db, endpoint_id)


def discover_models(base_url: str, token: str | None = None, *,
                    timeout: float = DISCOVERY_TIMEOUT_S) -> list[str]:
    """Model ids served at ``base_url`` (``GET {base}/models``); EndpointError says why not."""
    import httpx

    base = normalize_base_url(base_url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    secrets = [token] if token else []
    try:
        response = httpx.get(f"{base}/models", headers=headers, timeout=timeout,
                             follow_redirects=True)
    except httpx.TimeoutException:
        raise EndpointError(f"{base} did not answer within {timeout:g}s.") from None
    except httpx.HTTPError as exc:
        raise EndpointError(redact(f"Could not reach {base}: {type(exc).__name__}: {exc}",
                                   secrets)) from None
    if response.status_code in (401, 403):
        raise EndpointError(f"{base} refused the token (HTTP {response.status_code}); check it.")
    if response.status_code == 404:
        raise EndpointError(f"{base}/models does not exist (HTTP 404): is the base URL right? "
                            "It usually ends in /v1.")
    if response.status_code >= 400:
        raise EndpointError(redact(f"{base}/models answered HTTP {response.status_code}: "
                                   f"{response.text[:300]}", secrets))
    try:
        payload = response.json()
    except ValueError:
        raise EndpointError(f"{base}/models did not return JSON; is this an OpenAI-compatible "
                            "API?") from None
    items = payload.get("data", payload.get("models")) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise EndpointError(f"{base}/models returned JSON without a model list.")
    ids: list[str] = []
    for item in items:
        ident = item.get("id") or item.get("name") if isinstance(item, dict) else item
        if isinstance(ident, str) and ident and ident not in ids:
            ids.append(ident)
    return ids
