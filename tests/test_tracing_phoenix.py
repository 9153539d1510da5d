"""Export to a Phoenix collector (a real OTLP/HTTP receiver), and secrets kept out of everything."""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.db import Database
from core.providers.errors import AuthenticationError
from core.providers.types import ModelRequest, ModelResult, RunContext, Usage
from core.tracing import Recorder, get_recorder, phoenix_status, reset_recorders
from core.tracing.phoenix import traces_url
from tests.servers.otlp_receiver import OtlpReceiver, closed_port

SECRET = "sk-test-SECRET123456"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


@pytest.fixture(autouse=True)
def _no_env_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    monkeypatch.delenv("PHOENIX_API_KEY", raising=False)
    monkeypatch.delenv("PHOENIX_CLIENT_HEADERS", raising=False)


def chat(rec: Recorder, i: int = 0, **kw: object) -> float:
    handle = rec.start(ModelRequest(model="openai/gpt-4o-mini",
                                    messages=[{"role": "user", "content": f"hello {i}"}], **kw))  # type: ignore[arg-type]
    handle.first_token()
    t0 = time.perf_counter()
    handle.finish(ModelResult(text=f"hi {i}", usage=Usage(3, 2, 5), cost=0.5))
    return time.perf_counter() - t0


def test_traces_url() -> None:
    assert traces_url("http://h:6006") == "http://h:6006/v1/traces"
    assert traces_url("http://h:6006/") == "http://h:6006/v1/traces"
    assert traces_url("http://h:6006/v1/traces") == "http://h:6006/v1/traces"
    assert traces_url("h:6006") == "http://h:6006/v1/traces"


def test_spans_arrive_at_the_collector_with_openinference_keys(
    sqlite_database: Database, receiver: OtlpReceiver
) -> None:
    rec = Recorder(sqlite_database.url, phoenix_endpoint=receiver.endpoint, project_name="wb-tests")
    try:
        rec.configure_phoenix(receiver.endpoint, schedule_delay_millis=50)
        for i in range(3):
            chat(rec, i, context=RunContext(session_id="s1", tags=["t"]))
        assert rec.flush_export(10)
        assert receiver.wait_for_spans(3, timeout=10)
        assert rec.flush(10)
    finally:
        rec.shutdown()
    assert receiver.headers[0]["content-type"] == "application/x-protobuf"
    span = receiver.spans[0]
    attrs = span["attributes"]
    assert span["project"] == "wb-tests"
    assert attrs["openinference.span.kind"] == "LLM"
    assert attrs["llm.model_name"] == "openai/gpt-4o-mini"
    assert attrs["llm.input_messages.0.message.content"] == "hello 0"
    assert attrs["llm.output_messages.0.message.content"] == "hi 0"
    assert attrs["llm.token_count.total"] == 5 and attrs["llm.cost.total"] == 0.5
    assert attrs["session.id"] == "s1" and attrs["tag.tags"] == ["t"]
    assert json.loads(attrs["llm.invocation_parameters"])["model"] == "openai/gpt-4o-mini"
    assert span["status_code"] == "OK"
    status = rec.phoenix_status()
    assert status["enabled"] and status["exported"] == 3 and status["failed"] == 0
    assert status["endpoint"] == f"{receiver.endpoint}/v1/traces"


def test_env_endpoint_configures_export(
    sqlite_database: Database, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOENIX_COLLECTOR_ENDPOINT", receiver.endpoint)
    try:
        rec = get_recorder(sqlite_database.url)
        chat(rec)
        assert rec.flush_export(10)
        assert receiver.wait_for_spans(1)
        assert phoenix_status(sqlite_database.url)["exported"] == 1
        rec.configure_phoenix(None)  # the Settings page can turn it off
        assert phoenix_status(sqlite_database.url)["enabled"] is False
        assert phoenix_status(sqlite_database.url)["exported"] == 1
    finally:
        reset_recorders()


def test_absent_collector_never_slows_calls(sqlite_database: Database) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    rec = Recorder(sqlite_database.url, phoenix_endpoint="")
    rec.configure_phoenix(endpoint, timeout=1.0, schedule_delay_millis=50)
    chat(rec, -1)  # warm up
    try:
        t0 = time.perf_counter()
        durations = [chat(rec, i) for i in range(20)]
        assert rec.flush(10)
        wall = time.perf_counter() - t0
        assert wall < 3.0, wall  # 20 exports on the call path would cost 20 × the 1 s timeout
        # An export on the call path would cost the 1 s export timeout; allow scheduling noise.
        assert max(durations) < 0.25, durations
        assert statistics.median(durations) < 0.002, durations
        assert rec.stats()["runs_written"] == 21
        # The failure is visible on the Settings page once the exporter gives up.
        deadline = time.monotonic() + 15
        while rec.phoenix_status()["failed"] < 21 and time.monotonic() < deadline:
            rec.flush_export(2)
        status = rec.phoenix_status()
        assert status["failed"] == 21 and status["exported"] == 0
    finally:
        t0 = time.perf_counter()
        rec.shutdown()
        assert time.perf_counter() - t0 < 5


def test_secrets_reach_neither_database_nor_collector(
    tmp_path: Path, receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'secret.db'}"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    rec = Recorder(url, phoenix_endpoint="")
    rec.configure_phoenix(receiver.endpoint, schedule_delay_millis=50)
    caplog.set_level(logging.DEBUG)
    try:
        request = ModelRequest(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}],
            invocation_parameters={"temperature": 0, "api_key": SECRET,
                                   "headers": {"X-Api-Key": SECRET}},
            api_key=SECRET, extra_headers={"Authorization": f"Bearer {SECRET}"},
            base_url=f"https://user:{SECRET}@llm.example.invalid/v1?api_key={SECRET}",
            context=RunContext(metadata={"token": SECRET, "team": "a"}),
        )
        ok = rec.start(request)
        ok.finish(ModelResult(text="fine"))
        failed = rec.start(request, attempt=2)
        failed.finish(ModelResult(status="error", error=AuthenticationError(
            f"Incorrect API key provided: {SECRET}. Header was Bearer {SECRET}", status_code=401)))
        assert rec.flush(10)
        assert rec.flush_export(10) and receiver.wait_for_spans(2)
    finally:
        rec.shutdown()
    db_file = Path(str(make_url(url).database))
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    assert b"fine" in raw and b"Incorrect API key provided" in raw  # the rows are there…
    assert SECRET.encode() not in raw  # …without the key
    assert b"SECRET123456" not in raw
    payload = b"".join(receiver.bodies)
    assert b"Incorrect API key provided" in payload and SECRET.encode() not in payload
    assert b"SECRET123456" not in payload
    assert SECRET not in caplog.text
    attrs = receiver.spans[0]["attributes"]
    assert attrs["url.full"] == "https://llm.example.invalid/v1"
    assert json.loads(attrs["metadata"]) == {"team": "a"}
    assert json.loads(attrs["llm.invocation_parameters"]) == {"temperature": 0, "model": "openai/gpt-4o"}
