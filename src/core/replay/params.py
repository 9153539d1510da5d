"""Invocation parameters: split out request fields, drop what must not be replayed, keep the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.replay.attrs import is_redacted, parse_json_value
from core.replay.report import Reporter, is_secret_key, looks_secret

# Parameters with a well-known meaning across providers (copied without comment).
KNOWN_PARAMETERS = {
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "parallel_tool_calls",
    "reasoning_effort",
    "service_tier",
    "store",
    "modalities",
    "prediction",
    "audio",
    "thinking",
    "extra_body",
    "web_search_options",
    "verbosity",
    "metadata",
    "api_version",
    "n",
    "functions",
    "function_call",
    "repetition_penalty",
    "min_p",
}
_STREAMING = {"stream", "stream_options"}
_CONTENT = {"messages", "prompt", "input", "contents"}
_BASE_URL = {"api_base", "base_url", "azure_endpoint"}
_TIMEOUT = {"timeout", "request_timeout"}


@dataclass
class SplitParameters:
    """Recorded parameters sorted into request fields."""

    parameters: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    tools: Any = None
    tool_choice: Any = None
    response_format: Any = None
    system: Any = None
    api_base: str | None = None
    timeout: float | None = None
    source: str = "llm.invocation_parameters"


def _scrub(value: Any, field_name: str, reporter: Reporter) -> Any:
    """Remove credential-looking keys/values at any depth, reporting each removal."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            sub_field = f"{field_name}.{key}"
            if is_secret_key(str(key)) or looks_secret(sub):
                reporter.dropped(
                    sub_field, "looks like a credential; credentials are never replayed from spans"
                )
                continue
            out[key] = _scrub(sub, sub_field, reporter)
        return out
    if isinstance(value, list):
        return [_scrub(v, field_name, reporter) for v in value]
    return value


def split_parameters(
    params: dict[str, Any], reporter: Reporter, *, provider_hint: str | None, source: str
) -> SplitParameters:
    """Sort recorded parameters into fields; report every key that is not simply copied."""
    out = SplitParameters(source=source)
    status = reporter.copied if source == "llm.invocation_parameters" else reporter.guessed
    origin = "" if source == "llm.invocation_parameters" else f" (recovered from {source})"
    for key, value in params.items():
        name = f"invocation_parameters.{key}"
        if is_secret_key(key) or looks_secret(value):
            reporter.dropped(
                name, "looks like a credential; credentials are never replayed from spans"
            )
        elif is_redacted(value):
            reporter.dropped(name, "hidden by the instrumentor")
        elif key == "model":
            out.model = value if isinstance(value, str) else None
        elif key in _CONTENT:
            continue  # the request content is read from the message/prompt attributes
        elif key == "system":
            out.system = value
        elif key in _STREAMING:
            reporter.dropped(name, "the playground controls streaming", value)
        elif key in _BASE_URL:
            out.api_base = value if isinstance(value, str) else None
        elif key in _TIMEOUT:
            _timeout(out, value, name, reporter)
        elif key in ("tools", "tool_choice", "response_format"):
            setattr(out, key, value)
        elif key == "n" and value not in (None, 1):
            reporter.dropped(
                name, f"the playground runs one completion per card; n={value} not replayed", value
            )
        elif key == "stop_sequences" and "stop" not in params:
            out.parameters["stop"] = value
            reporter.guessed(
                "invocation_parameters.stop",
                f"Anthropic stop_sequences replayed as stop{origin}",
                value,
            )
        elif key == "metadata" and provider_hint == "anthropic" and isinstance(value, dict):
            _anthropic_metadata(out, value, reporter)
        else:
            kept = _scrub(value, name, reporter)
            out.parameters[key] = kept
            detail = (
                "as recorded"
                if key in KNOWN_PARAMETERS
                else "not a standard parameter; passed through as recorded"
            )
            status(name, detail + origin, kept)
    return out


def _timeout(out: SplitParameters, value: Any, name: str, reporter: Reporter) -> None:
    try:
        out.timeout = float(value)
        reporter.copied(name, "request timeout in seconds", value)
    except (TypeError, ValueError):
        reporter.dropped(name, "timeout is not a number of seconds", value)


def _anthropic_metadata(out: SplitParameters, value: dict[str, Any], reporter: Reporter) -> None:
    """Anthropic's metadata.user_id is OpenAI-style ``user``; litellm keeps ``metadata`` for itself."""
    if "user_id" in value and "user" not in out.parameters:
        out.parameters["user"] = value["user_id"]
        reporter.guessed(
            "invocation_parameters.user",
            "Anthropic metadata.user_id replayed as user",
            value["user_id"],
        )
    rest = {k: v for k, v in value.items() if k != "user_id"}
    if rest:
        reporter.dropped(
            "invocation_parameters.metadata",
            "Anthropic metadata other than user_id cannot be sent through litellm",
            rest,
        )


def read_parameters(raw: Any, reporter: Reporter) -> tuple[dict[str, Any] | None, str | None]:
    """Decode ``llm.invocation_parameters``; (params, why-unusable)."""
    if raw is None:
        return None, None
    if is_redacted(raw):
        return None, "hidden by the instrumentor"
    value, error = parse_json_value(raw)
    if error:
        return None, f"llm.invocation_parameters is {error}"
    if not isinstance(value, dict):
        return None, f"llm.invocation_parameters is a JSON {type(value).__name__}, not an object"
    return value, None


def normalize_response_format(value: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(response_format, note when converted, reason when unusable)."""
    if isinstance(value, dict):
        if value.get("type"):
            return value, None, None
        schema = value.get("schema") if isinstance(value.get("schema"), dict) else None
        if "json_schema" in value:
            return {"type": "json_schema", **value}, "type json_schema added", None
        if schema is not None or value.get("properties"):
            wrapped = {
                "type": "json_schema",
                "json_schema": {"name": value.get("name") or "response", "schema": schema or value},
            }
            return wrapped, "bare JSON schema wrapped as json_schema", None
        return None, None, "not a response_format object (no type)"
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("json", "json_object"):
            return {"type": "json_object"}, f"{text!r} read as JSON mode", None
        if text.lower() == "text":
            return {"type": "text"}, None, None
        decoded, error = parse_json_value(text)
        if error is None and isinstance(decoded, dict):
            fmt, note, why = normalize_response_format(decoded)
            return fmt, note or "decoded from a JSON string", why
        if text.startswith("<class"):
            return None, None, "recorded as a Python class name; its JSON schema is not in the span"
        return None, None, f"unusable response_format {text[:60]!r}"
    return None, None, f"unusable response_format of type {type(value).__name__}"
