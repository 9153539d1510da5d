"""Custom OpenAI-compatible endpoints: CRUD, validation, discovery, use in calls, Settings UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db import Database
from core.endpoints import (
    EndpointError,
    cached_endpoint,
    create_endpoint,
    delete_endpoint,
    discover_models,
    get_endpoint,
    list_endpoints,
    price_per_million,
    update_endpoint,
)
from core.providers import ModelRequest, invoke
from core.providers.catalog import list_models, supported_params
from core.providers.health import check_endpoint
from tests.servers.fault_server import FaultServer, Status, Stream
from tests.servers.llama_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_create_list_update_delete(database: Database) -> None:
    ep = create_endpoint("vllm box", "https://gpu.example.com/v1/", "llama-3, qwen-2\nllama-3",
                         prices={"llama-3": price_per_million(0.2, 0.6)},
                         token_env_var="GPU_TOKEN", db=database)
    assert ep.base_url == "https://gpu.example.com/v1" and ep.model_ids == ["llama-3", "qwen-2"]
    assert ep.default_model == "llama-3" and ep.token_env_var == "GPU_TOKEN"
    assert ep.prices["llama-3"]["input_cost_per_token"] == pytest.approx(2e-7)
    assert [e.name for e in list_endpoints(database)] == ["vllm box"]
    updated = update_endpoint(ep.id, db=database, name="renamed", model_ids=["qwen-2"])
    assert (updated.name, updated.model_ids, updated.default_model) == ("renamed", ["qwen-2"], "qwen-2")
    assert get_endpoint(ep.id, database).name == "renamed"
    delete_endpoint(ep.id, database)
    assert list_endpoints(database) == []
    with pytest.raises(EndpointError, match="does not exist"):
        get_endpoint(ep.id, database)


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"base_url": "gpu.example.com"}, "http", id="no-scheme"),
    pytest.param({"base_url": "https://user:pw@x.com/v1"}, "not in the base URL", id="creds-in-url"),
    pytest.param({"name": " "}, "name", id="empty-name"),
    pytest.param({"token_env_var": "sk-live-abcdefghijkl"}, "never the token", id="token-as-env"),
    pytest.param({"token_env_var": "has space"}, "NAME", id="bad-env-name"),
    pytest.param({"prices": {"m": {"input_cost_per_token": -1}}}, "negative", id="neg-price"),
    pytest.param({"prices": {"m": {"input_cost_per_token": "x"}}}, "not a number", id="nan-price"),
    pytest.param({"prices": {"m": {"cost": 1}}}, "Unknown price", id="unknown-price"),
])
def test_invalid_input_is_refused_clearly(sqlite_database: Database, kwargs: dict[str, object],
                                          message: str) -> None:
    args: dict[str, object] = {"name": "e", "base_url": "https://x.com/v1", **kwargs}
    with pytest.raises(EndpointError, match=message):
        create_endpoint(args.pop("name"), args.pop("base_url"), ["m"], db=sqlite_database,  # type: ignore[arg-type]
                        **args)  # type: ignore[arg-type]
    assert list_endpoints(sqlite_database) == []


def test_duplicate_names_and_unknown_fields(database: Database) -> None:
    ep = create_endpoint("dup", "http://127.0.0.1:1/v1", ["m"], db=database)
    with pytest.raises(EndpointError, match="already exists"):
        create_endpoint("dup", "http://127.0.0.1:2/v1", ["m"], db=database)
    with pytest.raises(EndpointError, match="never stored"):
        update_endpoint(ep.id, db=database, token="sk-abc")
    assert len(list_endpoints(database)) == 1


def test_discover_models(fault_server: FaultServer) -> None:
    assert discover_models(fault_server.base_url, "tok-123456789") == ["fault-model", "fault-model-2"]
    [get] = [r for r in fault_server.requests if r.method == "GET"]
    assert get.path == "/v1/models" and get.headers["authorization"] == "Bearer tok-123456789"


def test_discovery_errors_are_clear(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(401, "bad token tok-SECRET-999999"))
    with pytest.raises(EndpointError, match="refused the token") as info:
        discover_models(fault_server.base_url, "tok-SECRET-999999")
    assert "SECRET" not in str(info.value)
    with pytest.raises(EndpointError, match="404"):
        discover_models(f"http://127.0.0.1:{fault_server.port}")
    with pytest.raises(EndpointError, match="Could not reach"):
        discover_models(f"http://127.0.0.1:{free_port()}/v1", timeout=2)


def test_calls_through_a_saved_endpoint_use_its_prices_and_token(
        database: Database, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_TOKEN", "tok-from-env-123456")
    ep = create_endpoint("fault", fault_server.base_url, ["fault-model"], db=database,
                         prices={"fault-model": price_per_million(1.0, 2.0)},
                         token_env_var="FAULT_TOKEN")
    fault_server.enqueue(Stream(["hi"], usage={"prompt_tokens": 1000, "completion_tokens": 500,
                                               "total_tokens": 1500}))
    r = invoke(ModelRequest(model="fault-model", endpoint_id=ep.id,
                            messages=[{"role": "user", "content": "x"}]))
    assert r.status == "ok" and r.provider == "openai"
    assert r.cost == pytest.approx(1000 * 1e-6 + 500 * 2e-6)
    assert fault_server.posts()[0].headers["authorization"] == "Bearer tok-from-env-123456"


def test_keyless_endpoint_never_receives_the_openai_key(
        fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-000000")
    invoke(ModelRequest(model="fault-model", base_url=fault_server.base_url,
                        messages=[{"role": "user", "content": "x"}]), record=False)
    assert "sk-real-openai" not in fault_server.posts()[0].headers.get("authorization", "")


def test_endpoint_cache_sees_updates(sqlite_database: Database) -> None:
    ep = create_endpoint("c", "http://127.0.0.1:1/v1", ["a"], db=sqlite_database)
    assert cached_endpoint(ep.id, sqlite_database).model_ids == ["a"]
    update_endpoint(ep.id, db=sqlite_database, model_ids=["a", "b"])
    assert cached_endpoint(ep.id, sqlite_database).model_ids == ["a", "b"]


def test_catalog_lists_local_first_then_known_then_endpoints(sqlite_database: Database) -> None:
    ep = create_endpoint("mine", "http://127.0.0.1:1/v1", ["my-model"], db=sqlite_database,
                         prices={"my-model": price_per_million(3, 4)})
    models = list_models(endpoints=list_endpoints(sqlite_database))
    assert models[0].id == "local/smollm2-135m-instruct" and models[0].input_cost_per_token == 0
    providers = {m.provider for m in models}
    assert {"openai", "anthropic", "gemini", "mistral", "groq"} <= providers
    last = models[-1]
    assert (last.id, last.endpoint_id, last.price_per_million) == ("my-model", ep.id, (3.0, 4.0))
    assert "temperature" in supported_params("openai/gpt-4o-mini")
    assert "top_k" in supported_params("local/smollm2-135m-instruct")
    assert supported_params("no-such-model-zzz") == []


def test_check_endpoint(fault_server: FaultServer) -> None:
    ok = check_endpoint(fault_server.base_url, model="fault-model")
    assert ok.ok and "fault-model" in ok.models
    fault_server.enqueue(Status(200), Status(401))  # /models fine, the call refused
    bad = check_endpoint(fault_server.base_url, "tok-ZZZZ-123456", model="fault-model")
    assert not bad.ok and "credentials" in bad.message and "ZZZZ" not in bad.message


def test_settings_endpoints_tab_creates_and_discovers(database: Database,
                                                      fault_server: FaultServer) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.run()
    at.text_input(key="settings_ep_new_name").input("fault box")
    at.text_input(key="settings_ep_new_url").input(fault_server.base_url)
    at.run()
    at.button(key="settings_ep_new_discover").click()
    at.run()
    assert not at.exception and not at.error
    assert any("Found 2 model(s)" in s.value for s in at.success)
    at.button(key="settings_ep_new_save").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [ep] = list_endpoints(database)
    assert (ep.name, ep.model_ids) == ("fault box", ["fault-model", "fault-model-2"])


def test_settings_endpoints_tab_shows_bad_input_as_error(database: Database) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.run()
    at.text_input(key="settings_ep_new_name").input("bad")
    at.text_input(key="settings_ep_new_url").input("not a url")
    at.button(key="settings_ep_new_save").click()
    at.run()
    assert not at.exception
    assert any("must start with http" in e.value for e in at.error)
    assert list_endpoints(database) == []
