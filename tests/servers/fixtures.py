"""Pytest fixtures for the shared test servers (registered from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.fault_server import FaultServer
from tests.servers.llama_server import LlamaServer


@pytest.fixture(scope="session")
def _fault_server_session() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fault_server(_fault_server_session: FaultServer) -> Iterator[FaultServer]:
    """The shared fault-injecting OpenAI-compatible server, reset for this test."""
    _fault_server_session.reset()
    yield _fault_server_session
    _fault_server_session.reset()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """A real llama_cpp.server serving the embedded model (started once per session)."""
    with LlamaServer() as server:
        yield server
