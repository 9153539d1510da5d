"""Regenerate tests/fixtures/spans/: real OpenInference instrumentors, fake remote providers.

The instrumentors (openai, anthropic, litellm) and the SDKs they wrap are the real ones; only
the remote provider is played by small HTTP servers on 127.0.0.1, so the spans are exactly
what an instrumented application would send us. Each case writes:

- ``<case>.json``          the span as the OTel SDK holds it: context + flat attributes
- ``<case>.request.json``  what the script sent (SDK, call, keyword arguments, base URL)
- some cases also as ``<case>.phoenix.json`` (Phoenix REST ``Span``, some nested or wrapped in
  ``{"data": [...]}``) and ``<case>.otlp.json`` (OTLP JSON, camelCase or Phoenix's snake_case).

A few fixtures are derived from captured ones to model damage seen in the wild (provider
attributes missing, truncated invocation parameters); the reference span from the design
documents is copied in when its path is given with ``--reference``.

Usage: python scripts/capture_span_fixtures.py [--out tests/fixtures/spans] [--reference FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from span_fixture_cases import CASES, Case  # noqa: E402  (a sibling script, not a package)
from span_fixture_servers import FakeProvider  # noqa: E402

FAKE_KEY = "sk-fixture-not-a-real-key-000"
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- span serialisation


def _iso(ns: int | None) -> str | None:
    return None if ns is None else datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def span_record(span: Any) -> dict[str, Any]:
    """The span as the OTel SDK holds it: hex ids, flat attributes (the ``.json`` fixtures)."""
    parent = span.parent
    return {
        "name": span.name,
        "context": {
            "trace_id": f"{span.context.trace_id:032x}",
            "span_id": f"{span.context.span_id:016x}",
        },
        "parent_id": f"{parent.span_id:016x}" if parent else None,
        "kind": span.kind.name,
        "start_time": _iso(span.start_time),
        "end_time": _iso(span.end_time),
        "status": {
            "status_code": span.status.status_code.name,
            "description": span.status.description,
        },
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
        "events": [
            {"name": e.name, "timestamp": _iso(e.timestamp), "attributes": dict(e.attributes or {})}
            for e in span.events
        ],
        "instrumentation_scope": span.instrumentation_scope.name
        if span.instrumentation_scope
        else None,
    }


def phoenix_record(span: Any) -> dict[str, Any]:
    """The span in Phoenix REST's ``Span`` shape (GET /v1/projects/{id}/spans)."""
    rec = span_record(span)
    return {
        "id": "",
        "name": rec["name"],
        "context": rec["context"],
        "span_kind": rec["attributes"].get("openinference.span.kind", "UNKNOWN"),
        "parent_id": rec["parent_id"],
        "start_time": rec["start_time"],
        "end_time": rec["end_time"],
        "status_code": rec["status"]["status_code"],
        "status_message": rec["status"]["description"] or "",
        "attributes": rec["attributes"],
        "events": rec["events"],
    }


def nest_attributes(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys → nested objects, numeric segments → lists (Phoenix's nested attribute view)."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [listify(node[k]) for k in sorted(node, key=int)]
        return {k: listify(v) for k, v in node.items()}

    return listify(tree)


def otlp_record(spans: list[Any], *, snake_case: bool = False) -> dict[str, Any]:
    """Spans as OTLP JSON (``resourceSpans``), or Phoenix's otlpv1 ``{"data": [...]}`` shape."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    message = MessageToDict(encode_spans(spans), preserving_proto_field_name=snake_case)
    if not snake_case:
        return message
    flat = [s for rs in message["resource_spans"] for ss in rs["scope_spans"] for s in ss["spans"]]
    return {"data": flat, "next_cursor": None}


def _client_call(case: Case, provider_url: str) -> Callable[[], Any]:
    kwargs = copy.deepcopy(case.kwargs)
    if case.sdk == "openai":
        import openai

        client = openai.OpenAI(base_url=f"{provider_url}/v1", api_key=FAKE_KEY, max_retries=0)
        target: Any = client
        for attr in case.call.split("."):
            target = getattr(target, attr)

        def run_openai() -> Any:
            result = target(**kwargs)
            if kwargs.get("stream"):
                return [chunk for chunk in result]
            return result

        return run_openai
    if case.sdk == "anthropic":
        import anthropic

        aclient = anthropic.Anthropic(base_url=provider_url, api_key=FAKE_KEY, max_retries=0)
        return lambda: aclient.messages.create(**kwargs)
    import litellm

    litellm.suppress_debug_info = True
    return lambda: litellm.completion(api_base=f"{provider_url}/v1", api_key=FAKE_KEY, **kwargs)


def _base_url(case: Case, provider_url: str) -> str:
    return provider_url if case.sdk == "anthropic" else f"{provider_url}/v1"


def _write(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")


def _llm_spans(spans: list[Any]) -> list[Any]:
    return [s for s in spans if (s.attributes or {}).get("openinference.span.kind") == "LLM"]


def capture(out: Path, reference: Path | None) -> list[str]:
    """Run every case under the real instrumentors and write the fixtures; return file names."""
    from openinference.instrumentation.anthropic import AnthropicInstrumentor
    from openinference.instrumentation.litellm import LiteLLMInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentors: list[Any] = [
        OpenAIInstrumentor(),
        AnthropicInstrumentor(),
        LiteLLMInstrumentor(),
    ]
    for instrumentor in instrumentors:
        instrumentor.instrument(tracer_provider=provider)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    captured: dict[str, dict[str, Any]] = {}
    try:
        with FakeProvider() as fake:
            for case in CASES:
                exporter.clear()
                _client_call(case, fake.url)()
                spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
                llm = _llm_spans(spans)
                if not llm:
                    raise RuntimeError(f"{case.name}: no LLM span captured")
                # litellm's OpenAI route also trips the openai instrumentor: the outer
                # (earliest) span is the call the application made.
                main = llm[0]
                record = span_record(main)
                captured[case.name] = record
                request: dict[str, Any] = {
                    "sdk": case.sdk,
                    "call": case.call,
                    "base_url": _base_url(case, fake.url),
                    "kwargs": case.kwargs,
                }
                if case.openai_equivalent is not None:
                    request["openai_equivalent"] = case.openai_equivalent
                _write(out / f"{case.name}.request.json", request)
                _write(out / f"{case.name}.json", record)
                written += [f"{case.name}.request.json", f"{case.name}.json"]
                if "phoenix" in case.formats:
                    _write(out / f"{case.name}.phoenix.json", phoenix_record(main))
                    written.append(f"{case.name}.phoenix.json")
                if "phoenix_nested" in case.formats:
                    nested = phoenix_record(main)
                    nested["attributes"] = nest_attributes(nested["attributes"])
                    _write(
                        out / f"{case.name}.phoenix.json", {"data": [nested], "next_cursor": None}
                    )
                    written.append(f"{case.name}.phoenix.json")
                if "otlp" in case.formats:
                    _write(out / f"{case.name}.otlp.json", otlp_record(spans))
                    written.append(f"{case.name}.otlp.json")
                if "otlp_phoenix" in case.formats:
                    _write(out / f"{case.name}.otlp.json", otlp_record(spans, snake_case=True))
                    written.append(f"{case.name}.otlp.json")
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
    written += _derived(out, captured, reference)
    return written


def _derived(out: Path, captured: dict[str, dict[str, Any]], reference: Path | None) -> list[str]:
    """Fixtures that model damaged or foreign spans, built from captured ones."""
    written: list[str] = []
    base_request = json.loads((out / "openai_system_params.request.json").read_text())

    missing = copy.deepcopy(captured["openai_system_params"])
    for key in ("llm.provider", "llm.system"):
        missing["attributes"].pop(key, None)
    _write(out / "openai_missing_provider.json", missing)
    _write(out / "openai_missing_provider.request.json", base_request)
    written += ["openai_missing_provider.json", "openai_missing_provider.request.json"]

    broken = copy.deepcopy(captured["openai_system_params"])
    params = broken["attributes"]["llm.invocation_parameters"]
    broken["attributes"]["llm.invocation_parameters"] = params[: len(params) // 2]
    _write(out / "openai_malformed_params.json", broken)
    _write(out / "openai_malformed_params.request.json", base_request)
    written += ["openai_malformed_params.json", "openai_malformed_params.request.json"]

    if reference is not None:
        span = json.loads(reference.read_text())
        body = json.loads(span["attributes"]["input.value"])
        _write(out / "reference_openai_tools.phoenix.json", span)
        request = {
            "sdk": "openai",
            "call": "chat.completions.create",
            "base_url": None,
            "kwargs": body,
        }
        _write(out / "reference_openai_tools.request.json", request)
        written += ["reference_openai_tools.phoenix.json", "reference_openai_tools.request.json"]
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "spans")
    parser.add_argument(
        "--reference", type=Path, default=None, help="a Phoenix REST span JSON to copy in"
    )
    args = parser.parse_args(argv)
    for name in capture(args.out, args.reference):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
