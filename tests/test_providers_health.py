"""Connection checks ("Test connection" in Settings): providers and OpenAI-compatible endpoints."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.providers.health import check_endpoint, check_provider
from tests.servers.fault_server import FaultServer, Status
from tests.servers.llama_server import LlamaServer, free_port

TOKEN = "sk-test-ZZZZ1234567890abcdef"


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DNS lookup or outgoing connection made during the test, refused (fault injection)."""
    attempts: list[str] = []

    def no_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"getaddrinfo {host}")
        raise socket.gaierror("network disabled by the test")

    def no_connect(self: socket.socket, address: Any) -> None:
        attempts.append(f"connect {address}")
        raise ConnectionRefusedError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    yield attempts


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OpenAI key anywhere: not in the environment, not in a secrets file."""
    for name in ("OPENAI_API_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKBENCH_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))


@pytest.mark.slow
def test_embedded_model_check_is_ok() -> None:
    result = check_provider("local")
    assert result.ok, result.message
    assert "local answered" in result.message and "smollm2" in result.message
    assert result.latency_ms is not None and result.latency_ms > 0


@pytest.mark.usefixtures("no_keys")
def test_provider_without_a_key_fails_clearly_without_network(network_attempts: list[str]) -> None:
    result = check_provider("openai")
    assert not result.ok
    assert "No API key for openai" in result.message and "OPENAI_API_KEY" in result.message
    assert network_attempts == []


@pytest.mark.usefixtures("no_keys")
def test_session_key_is_used_and_never_shown(network_attempts: list[str]) -> None:
    # The typed key is used (the call is attempted: the network is cut here) and masked.
    result = check_provider("openai", session_keys={"openai": TOKEN})
    assert not result.ok and network_attempts  # it did try: the key was found
    assert "ZZZZ1234567890" not in result.message and "No API key" not in result.message


def test_provider_without_a_test_model() -> None:
    result = check_provider("some-new-provider")
    assert not result.ok and "No test model known" in result.message


@pytest.mark.slow
def test_endpoint_check_against_a_real_llama_server(llama_server: LlamaServer) -> None:
    listed = check_endpoint(llama_server.base_url)
    assert listed.ok and llama_server.alias in listed.models
    assert "1 model(s) listed" in listed.message
    called = check_endpoint(llama_server.base_url, model=llama_server.alias)
    assert called.ok and called.message.startswith(f"{llama_server.alias} answered")
    assert called.latency_ms is not None and called.latency_ms > 0


def test_endpoint_check_reports_a_refused_token(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(401, f"Incorrect API key provided: {TOKEN}"))
    listing = check_endpoint(fault_server.base_url, TOKEN)
    assert not listing.ok and "refused the token (HTTP 401)" in listing.message
    assert fault_server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"

    # /models answers, the one-token call is refused and echoes the key: masked.
    fault_server.enqueue(Status(200), Status(401, f"Incorrect API key provided: {TOKEN}"))
    called = check_endpoint(fault_server.base_url, TOKEN, model="fault-model")
    assert not called.ok and "ZZZZ1234567890" not in called.message
    assert "credentials" in called.message or "401" in called.message


def test_endpoint_check_on_a_closed_port() -> None:
    result = check_endpoint(f"http://127.0.0.1:{free_port()}/v1", timeout=3)
    assert not result.ok and "Could not reach" in result.message
