"""POST /v1/span_annotations in Phoenix's shape, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from core.annotations import list_span_annotations
from core.api.app import create_app
from core.auth import create_token
from core.db import Database
from core.db.models import Span

SPAN = "67f6740bbe1ddc3f"


@pytest.fixture
def api(database: Database) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ws = database.default_workspace_id()
    with database.session() as s:
        s.add(Span(workspace_id=ws, trace_id="a" * 32, span_id=SPAN, name="ChatCompletion",
                   span_kind="LLM", start_time=datetime.now(UTC)))
    token, _ = create_token(database, ws, "feedback-app")
    with TestClient(create_app(database=database)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def thumbs(score: int, **extra: object) -> dict[str, object]:
    return {"span_id": SPAN, "name": "user feedback", "annotator_kind": "HUMAN",
            "result": {"label": "👍" if score else "👎", "score": score,
                       "explanation": "answered the question"}, **extra}


def test_phoenix_shaped_post_stores_and_upserts(api, database: Database) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    first = client.post("/v1/span_annotations?sync=true", json={"data": [thumbs(1)]}, headers=auth)
    assert first.status_code == 200, first.text
    ids = [d["id"] for d in first.json()["data"]]
    assert len(ids) == 1
    # Same (span, name, identifier): an update, not a second annotation.
    again = client.post("/v1/span_annotations?sync=true", json={"data": [thumbs(0)]}, headers=auth)
    assert [d["id"] for d in again.json()["data"]] == ids
    stored = list_span_annotations(database, database.default_workspace_id(), [SPAN])
    assert len(stored) == 1
    assert stored[0]["result"]["score"] == 0 and stored[0]["result"]["label"] == "👎"
    assert stored[0]["annotator_kind"] == "HUMAN" and stored[0]["source"] == "API"
    # Without sync Phoenix answers with no ids; the annotation is stored all the same.
    other = client.post("/v1/span_annotations", json={"data": [thumbs(1, identifier="run-2")]},
                        headers=auth)
    assert other.status_code == 200 and other.json() == {"data": []}
    assert len(list_span_annotations(database, database.default_workspace_id(), [SPAN])) == 2


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        pytest.param({"data": [thumbs(1), {**thumbs(1), "span_id": "ffffffffffffffff"}]}, 404,
                     "ffffffffffffffff", id="unknown-span-stores-nothing"),
        pytest.param({"data": [{**thumbs(1), "annotator_kind": "ROBOT"}]}, 422, "annotator_kind",
                     id="bad-annotator-kind"),
        pytest.param({"data": []}, 422, "data", id="empty"),
        pytest.param({"rows": []}, 422, "", id="wrong-shape"),
    ],
)
def test_bad_annotations_are_clear_json_errors(api, database: Database, body, status, fragment) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    response = client.post("/v1/span_annotations?sync=true", json=body, headers=auth)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert list_span_annotations(database, database.default_workspace_id(), [SPAN]) == []


def test_annotations_need_a_token(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = client.post("/v1/span_annotations", json={"data": [thumbs(1)]})
    assert response.status_code == 401
