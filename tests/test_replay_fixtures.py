"""Replay of spans captured from the real OpenInference instrumentors (tests/fixtures/spans).

Every fixture comes with the request the capture script sent (``<case>.request.json``); each
field of that original request must be recovered in the replayed request, or be reported as
dropped/guessed with a reason. Regenerate with ``python scripts/capture_span_fixtures.py``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from core.providers.types import Operation
from core.replay import ReplayResult, replay_span, rerun_as_recorded
from core.replay.target import split_model_prefix

FIXTURES = Path(__file__).parent / "fixtures" / "spans"
SPAN_FILES = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".request.json"))
FAKE_KEY = "sk-fixture-not-a-real-key-000"
EXPLAINED = ("dropped", "guessed", "defaulted")


def case_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def original_request(path: Path) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case_of(path)}.request.json").read_text())


def explained(result: ReplayResult, field: str, statuses: tuple[str, ...] = EXPLAINED) -> bool:
    """The report says what happened to ``field`` (or a sub-field) and why."""
    return any(e.status in statuses and e.detail.strip() for e in result.entries(field))


def bare_model(model: str) -> str:
    return split_model_prefix(model)[1]


def test_fixture_set_covers_the_cases() -> None:
    cases = {case_of(p) for p in SPAN_FILES}
    assert len(cases) >= 10
    for case in cases:
        assert (FIXTURES / f"{case}.request.json").exists(), case
    formats: dict[str, int] = defaultdict(int)
    for path in SPAN_FILES:
        formats[replay_span(path.read_bytes()).source_format] += 1
    assert formats["openinference"] >= 5
    assert formats["phoenix"] >= 3
    assert formats["otlp"] >= 3
    sdks = {original_request(p)["sdk"] for p in SPAN_FILES}
    assert sdks == {"openai", "anthropic", "litellm"}


@pytest.mark.parametrize("path", SPAN_FILES, ids=lambda p: p.name)
def test_every_original_field_is_recovered_or_explained(path: Path) -> None:
    original = original_request(path)
    kwargs: dict[str, Any] = original["kwargs"]
    equivalent: dict[str, Any] = original.get("openai_equivalent") or {}
    result = replay_span(path.read_text())
    request = result.request

    for key, value in kwargs.items():
        if key == "model":
            assert bare_model(request.model) == bare_model(value)
            if request.model != value:
                assert explained(result, "model", ("guessed",))
        elif key in ("messages", "system"):
            assert request.operation is Operation.CHAT
            assert request.messages == equivalent.get("messages", kwargs.get("messages"))
        elif key == "prompt":
            assert request.operation is Operation.TEXT_COMPLETION
            assert request.prompt == value
        elif key == "tools":
            assert request.tools == equivalent.get("tools", value)
            if "tools" in equivalent:
                assert all(
                    explained(result, f"tools[{i}]", ("guessed",)) for i in range(len(value))
                )
        elif key == "tool_choice":
            assert request.tool_choice == equivalent.get("tool_choice", value)
            if "tool_choice" in equivalent:
                assert explained(result, "tool_choice", ("guessed",))
        elif key == "response_format":
            assert request.response_format == value
        elif key in ("stream", "stream_options"):
            assert key not in request.invocation_parameters
            assert explained(result, f"invocation_parameters.{key}", ("dropped",))
        elif (
            "invocation_parameters" in equivalent and key not in equivalent["invocation_parameters"]
        ):
            # Converted to another parameter (stop_sequences → stop, metadata.user_id → user).
            assert any(
                e.status == "guessed" and e.field.startswith("invocation_parameters.")
                for e in result.report
            ), key
        else:
            assert request.invocation_parameters.get(key) == value, key
            if any(
                e.field == "invocation_parameters" and e.status == "dropped" for e in result.report
            ):
                assert explained(result, f"invocation_parameters.{key}", ("guessed",))
    if "invocation_parameters" in equivalent:
        assert request.invocation_parameters == equivalent["invocation_parameters"]

    expected_base = original["base_url"]
    if request.base_url != expected_base:
        # The openai and anthropic instrumentors do not record the endpoint.
        assert request.base_url is None
        assert explained(result, "base_url", ("defaulted",))


@pytest.mark.parametrize("path", SPAN_FILES, ids=lambda p: p.name)
def test_report_is_complete_and_secret_free(path: Path) -> None:
    result = replay_span(path.read_text())
    fields = {e.field.replace("[", ".").split(".")[0] for e in result.report}
    for required in ("provider", "model", "base_url", "operation", "tools", "tool_choice"):
        assert required in fields, required
    assert ("messages" in fields) or ("prompt" in fields)
    assert all(e.detail.strip() for e in result.report)
    assert all(e.status in ("copied", "guessed", "dropped", "defaulted") for e in result.report)
    dumped = json.dumps(
        [repr(result.request), [e.as_row() for e in result.report], result.warnings], default=str
    )
    assert FAKE_KEY not in dumped
    assert result.request.context.source == "replay"
    assert result.request.context.metadata["replayed_span_id"] == result.span_id
    assert result.span_id and len(result.span_id) == 16
    assert result.trace_id and len(result.trace_id) == 32
    assert result.original_output or result.original_tool_calls


@pytest.mark.parametrize(
    "case",
    sorted({case_of(p) for p in SPAN_FILES if len(list(FIXTURES.glob(f"{case_of(p)}.*"))) > 2}),
)
def test_every_shape_of_one_span_replays_identically(case: str) -> None:
    files = [p for p in SPAN_FILES if case_of(p) == case]
    results = [replay_span(p.read_text()) for p in files]
    first = results[0]
    assert len({r.source_format for r in results}) == len(results)
    for other in results[1:]:
        assert other.request == first.request
        assert other.span_id == first.span_id
        assert other.trace_id == first.trace_id
        assert [e.as_row() for e in other.report] == [e.as_row() for e in first.report]
        assert other.original_output == first.original_output


def test_reference_span_from_the_design_documents() -> None:
    result = replay_span((FIXTURES / "reference_openai_tools.phoenix.json").read_text())
    request = result.request
    assert result.source_format == "phoenix"
    assert (result.span_id, result.trace_id) == (
        "8f88cd7d4418e1a4",
        "31acbeaddab8a132787c8b0cf002a7f8",
    )
    assert request.model == "openai/fake-gpt-4o-mini"
    assert request.provider == "openai"
    assert request.tool_choice == "auto"
    assert request.tools and request.tools[0]["function"]["name"] == "get_weather"
    assert request.invocation_parameters == {}
    assert explained(result, "invocation_parameters.stream", ("dropped",))
    assert explained(
        result, "provider", ("guessed",)
    )  # llm.provider is missing; llm.system says openai
    assert [c.name for c in result.original_tool_calls] == ["get_weather"]
    assert json.loads(result.original_tool_calls[0].arguments) == {
        "city": "Paris",
        "unit": "celsius",
    }
    assert result.original_finish_reason == "tool_calls"
    assert result.original_usage and result.original_usage.total_tokens == 22


def test_litellm_trace_picks_the_outer_call_and_allows_choosing() -> None:
    text = (FIXTURES / "litellm_chat.otlp.json").read_text()
    outer = replay_span(text)
    assert any("2 LLM spans" in w for w in outer.warnings)
    assert outer.span_name == "completion"
    assert outer.request.base_url and outer.request.base_url.startswith("http://127.0.0.1:")
    assert outer.request.model == "gpt-4o-mini" and outer.request.provider == "openai"

    spans = json.loads(text)["resourceSpans"][0]["scopeSpans"]
    child_id = [s for ss in spans for s in ss["spans"] if s["name"] == "ChatCompletion"][0][
        "spanId"
    ]
    import base64

    inner = replay_span(text, span_id=base64.b64decode(child_id).hex())
    assert inner.span_name == "ChatCompletion"
    assert inner.request.messages == outer.request.messages
    assert inner.request.invocation_parameters == outer.request.invocation_parameters


def test_damaged_spans_are_explained() -> None:
    missing = replay_span((FIXTURES / "openai_missing_provider.json").read_text())
    assert missing.request.provider == "openai"
    provider = missing.entries("provider")[0]
    assert provider.status == "guessed" and "model name" in provider.detail

    broken = replay_span((FIXTURES / "openai_malformed_params.json").read_text())
    entry = [e for e in broken.report if e.field == "invocation_parameters"][0]
    assert entry.status == "dropped" and "not valid JSON" in entry.detail
    assert "input.value" in entry.detail
    assert broken.request.invocation_parameters["seed"] == 7


@pytest.mark.parametrize("path", SPAN_FILES, ids=lambda p: p.name)
def test_rerun_as_recorded_is_a_fresh_exact_copy(path: Path) -> None:
    result = replay_span(path.read_text())
    again = rerun_as_recorded(result)
    assert again == result.request
    assert again is not result.request
    result.request.messages.append({"role": "user", "content": "edited in the playground"})
    result.request.invocation_parameters["temperature"] = 1.7
    assert rerun_as_recorded(result) == again
