"""REST API: auth, fetch by label/version/ref, list, versions, labels, render, JSON errors, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from core import prompts as P
from core.api import create_app
from core.auth import create_token, revoke_token
from tests.servers.api_server import ApiServer


def seed(db) -> None:  # type: ignore[no-untyped-def]
    ws = db.default_workspace_id()
    P.save_snippet(db, ws, "tone", "Be {style}.")
    P.save_version(db, ws, "support reply", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "[[snippet:tone]]"},
                             {"role": "user", "content": "Hi, I am {name}"}],
                   llm_config={"model": "gpt-4o-mini", "invocation_parameters": {"temperature": 0.1}},
                   note="v1", author="ann", folder="support")
    P.save_version(db, ws, "support reply", template_type="chat", template_format="mustache",
                   template=[{"role": "user", "content": "Hello {{name}}"}], note="v2")
    P.set_label(db, ws, "support reply", "production", version=1)
    P.set_label(db, ws, "support reply", "staging", version=2)
    P.save_version(db, ws, "summary", template_type="text", template_format="jinja2",
                   template="Summarise: {{ text }}", note="")


@pytest.fixture
def api(database) -> Iterator[tuple[TestClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    seed(database)
    token, _ = create_token(database, database.default_workspace_id(), "tests")
    with TestClient(create_app(database=database)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_get_by_label_version_ref_and_latest(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    r = client.get("/v1/prompts/support reply@production", headers=auth)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["version"] == 1 and data["ref"] == "support reply@v1"
    assert data["template"][0] == {"role": "system", "content": "Be {style}."}  # snippet expanded
    assert data["variables"] == ["style", "name"]
    assert data["llm_config"]["model"] == "gpt-4o-mini"
    assert data["labels"] == ["production"]
    assert client.get("/v1/prompts/support%20reply", params={"label": "staging"}, headers=auth).json()["data"]["version"] == 2
    assert client.get("/v1/prompts/support reply@v1", headers=auth).json()["data"]["version"] == 1
    assert client.get("/v1/prompts/support reply", params={"version": 2}, headers=auth).json()["data"]["template_format"] == "mustache"
    assert client.get("/v1/prompts/support reply", headers=auth).json()["data"]["version"] == 2
    assert client.get("/v1/prompts/support reply/labels/production", headers=auth).json()["data"]["version"] == 1
    assert client.get("/v1/prompts/support reply/versions/2", headers=auth).json()["data"]["note"] == "v2"


def test_list_prompts_versions_labels(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    names = [p["name"] for p in client.get("/v1/prompts", headers=auth).json()["data"]]
    assert names == ["summary", "support reply"]
    listed = client.get("/v1/prompts", params={"folder": "support"}, headers=auth).json()["data"]
    assert [(p["name"], p["folder"], p["latest_version"], p["labels"]) for p in listed] == [
        ("support reply", "support", 2, {"production": "v1", "staging": "v2"})]
    assert [p["name"] for p in client.get("/v1/prompts", params={"search": "summarise"}, headers=auth).json()["data"]] == ["summary"]
    versions = client.get("/v1/prompts/support reply/versions", headers=auth).json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["template"][0]["content"] == "[[snippet:tone]]"  # history shows what was written
    labels = client.get("/v1/prompts/support reply/labels", headers=auth).json()["data"]
    assert [(lb["name"], lb["version"]) for lb in labels] == [("production", 1), ("staging", 2)]


def test_render_chat_and_text(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    r = client.post("/v1/prompts/support reply@production/render", headers=auth,
                    json={"variables": {"style": "brief", "name": "Ada"}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi, I am Ada"}]
    r = client.post("/v1/prompts/summary/render", headers=auth, json={"variables": {"text": "long story"}})
    assert r.json()["data"]["text"] == "Summarise: long story" and r.json()["data"]["messages"] is None
    r = client.post("/v1/prompts/support reply/render", headers=auth, json={"variables": {"name": "Bo"}, "label": "staging"})
    assert r.json()["data"]["messages"] == [{"role": "user", "content": "Hello Bo"}]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        pytest.param("get", "/v1/prompts/nope", None, 404, "prompt_not_found", id="unknown-prompt"),
        pytest.param("get", "/v1/prompts/support reply@canary", None, 404, "label_not_found", id="unknown-label"),
        pytest.param("get", "/v1/prompts/support reply@v9", None, 404, "version_not_found", id="unknown-version"),
        pytest.param("get", "/v1/prompts/support reply?version=zero", None, 422, "invalid_request", id="bad-param"),
        pytest.param("get", "/v1/prompts/support reply@v1?label=staging", None, 422, "invalid_input", id="ref-and-param"),
        pytest.param("post", "/v1/prompts/support reply@production/render", {"variables": {"name": "x"}}, 422, "render_error", id="missing-variable"),
        pytest.param("post", "/v1/prompts/support reply/render", {"variables": [1, 2]}, 422, "invalid_request", id="variables-not-object"),
        pytest.param("post", "/v1/prompts/support reply/render", {"vars": {}}, 422, "invalid_request", id="unknown-field"),
        pytest.param("get", "/v1/nothing-here", None, 404, "not_found", id="unknown-route"),
    ],
)
def test_errors_are_json_with_status(api, method, path, body, status, error) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    r = client.request(method.upper(), path, headers=auth, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == error and r.json()["detail"]
    if error == "render_error":
        assert r.json()["variable"] == "style"


def test_auth_required_and_revocation(api, database) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    for headers in [{}, {"Authorization": "Bearer pwb_wrong"}, {"Authorization": "Basic abc"},
                    {"Authorization": auth["Authorization"] + "x"}]:
        r = client.get("/v1/prompts", headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    ws = database.default_workspace_id()
    token, info = create_token(database, ws, "short-lived")
    assert client.get("/v1/prompts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoke_token(database, ws, info.id)
    assert client.get("/v1/prompts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/healthz").json()["status"] == "ok"  # health needs no token


def test_token_is_scoped_to_its_workspace(api, database) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    other = database.ensure_workspace("other")
    token, _ = create_token(database, other, "other-ws")
    r = client.get("/v1/prompts/support reply", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404


def test_openapi_schema_is_served(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ["/v1/prompts", "/v1/prompts/{ref}", "/v1/prompts/{name}/versions",
                 "/v1/prompts/{ref}/render", "/v1/prompts/{name}/labels/{label}"]:
        assert path in paths
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()


def test_real_server_on_loopback(database) -> None:  # type: ignore[no-untyped-def]
    seed(database)
    token, _ = create_token(database, database.default_workspace_id(), "real")
    with ApiServer(database) as server, httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        r = http.get("/v1/prompts/support%20reply@production")
        assert r.status_code == 200 and r.json()["data"]["version"] == 1
        r = http.post("/v1/prompts/summary/render", json={"variables": {"text": "t"}})
        assert r.json()["data"]["text"] == "Summarise: t"
        assert http.get("/v1/prompts/missing").status_code == 404
        assert httpx.get(f"{server.url}/v1/prompts").status_code == 401
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/healthz", timeout=2)  # stopped
