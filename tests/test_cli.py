"""The workbench command: db, tokens, prompts export/import, and `workbench api` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core import prompts as P
from core.cli import build_parser, main
from tests.servers.api_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_db_commands(capsys, workbench_home) -> None:  # type: ignore[no-untyped-def]
    assert main(["db", "upgrade"]) == 0
    assert "-> 0" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_bad_database_url_is_a_clear_error(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/x")
    assert main(["prompts", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Database") and "secret" not in err


def test_tokens_create_list_revoke(capsys, sqlite_database) -> None:  # type: ignore[no-untyped-def]
    assert main(["tokens", "create", "ci"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("pwb_") and "not shown again" in out.err
    assert main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ci" in listing and "active" in listing and token not in listing
    from core.auth import verify_token

    info = verify_token(sqlite_database, token)
    assert info is not None
    assert main(["tokens", "revoke", str(info.id)]) == 0
    assert verify_token(sqlite_database, token) is None
    assert main(["tokens", "revoke", "999"]) == 1
    assert "no token" in capsys.readouterr().err


def test_prompts_export_import(capsys, database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    for i in range(3):
        P.save_version(database, ws, "p", template_type="text", template_format="f-string", template=f"v{i} {{x}}")
    P.set_label(database, ws, "p", "production", version=1)
    assert main(["prompts", "export", str(tmp_path / "latest")]) == 0
    assert "exported 1 prompts" in capsys.readouterr().out
    text = (tmp_path / "latest" / "p.prompt.yaml").read_text()
    assert "template: v0 {x}" in text and "template: v2 {x}" in text and "v1 {x}" not in text
    assert main(["prompts", "export", str(tmp_path / "all"), "--all-versions"]) == 0
    assert "v1 {x}" in (tmp_path / "all" / "p.prompt.yaml").read_text()
    P.delete_prompt(database, ws, "p")
    capsys.readouterr()
    assert main(["prompts", "import", str(tmp_path / "all")]) == 0
    out = capsys.readouterr().out
    assert "created\tp" in out and "created 1, updated 0, skipped 0" in out
    assert main(["prompts", "import", str(tmp_path / "all")]) == 0
    assert "created 0, updated 0, skipped 1" in capsys.readouterr().out
    (tmp_path / "all" / "broken.yaml").write_text("name: q\nversions:\n- version: 1\n  template: x\n  oops: 1\n")
    assert main(["prompts", "import", str(tmp_path / "all")]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "versions.0.oops: unknown field" in err


def test_every_group_is_registered() -> None:
    parser = build_parser()
    for argv in (["db", "upgrade"], ["api"], ["prompts", "export", "d"], ["prompts", "import", "d"],
                 ["tokens", "create", "n"]):
        assert callable(parser.parse_args(argv).handler)
    args = parser.parse_args(["api"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    with pytest.raises(SystemExit):
        parser.parse_args(["nonsense"])


def test_workbench_api_command_serves_prompts(sqlite_database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "hello", template_type="text", template_format="f-string", template="Hi {name}")
    P.set_label(sqlite_database, ws, "hello", "production", version=1)
    from core.auth import create_token

    token, _ = create_token(sqlite_database, ws, "proc")
    port = free_port()
    exe = Path(sys.executable).with_name("workbench")
    env = {**os.environ, "WORKBENCH_DATABASE_URL": sqlite_database.url}
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen([str(exe), "api", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "workbench api did not come up"
            time.sleep(0.1)  # polling interval while the process boots
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.get(f"{url}/v1/prompts/hello@production", headers=auth)
        assert r.json()["data"]["template"] == "Hi {name}"
        r = httpx.post(f"{url}/v1/prompts/hello@production/render", headers=auth, json={"variables": {"name": "Ada"}})
        assert r.json()["data"]["text"] == "Hi Ada"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
