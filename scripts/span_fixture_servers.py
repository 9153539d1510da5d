"""Fake remote providers for the span-fixture capture: OpenAI chat/completions and Anthropic messages.

They play the remote API only (the SDKs and instrumentors under test are real): a threaded
HTTP server on a free 127.0.0.1 port that answers with text, tool calls or JSON, as JSON or SSE.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _dummy_from_schema(schema: dict[str, Any]) -> Any:
    """A value that satisfies a simple JSON schema (objects, enums, scalars, arrays)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _dummy_from_schema(sub) for name, sub in props.items()}
    if kind == "array":
        return [_dummy_from_schema(schema.get("items", {"type": "string"}))]
    return {"string": "Paris", "integer": 3, "number": 1.5, "boolean": True}.get(kind, "x")


def _last_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _openai_answer(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]], str]:
    """Decide what the fake model says: tool calls, JSON, or text."""
    messages = body.get("messages", [])
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if messages and messages[-1].get("role") == "tool":
        return "It is 18 degrees and sunny in Paris.", [], "stop"
    if tools and choice != "none":
        name = tools[0]["function"]["name"]
        if isinstance(choice, dict):
            name = choice["function"]["name"]
        tool = next(t for t in tools if t["function"]["name"] == name)
        args = json.dumps(_dummy_from_schema(tool["function"].get("parameters", {})))
        return (
            None,
            [
                {
                    "id": "call_fx01",
                    "type": "function",
                    "function": {"name": name, "arguments": args},
                }
            ],
            "tool_calls",
        )
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json.dumps(_dummy_from_schema(fmt["json_schema"]["schema"])), [], "stop"
    if fmt.get("type") == "json_object":
        return '{"answer": "ok"}', [], "stop"
    return f"Hello! You said: {_last_text(messages)[:40]}", [], "stop"


def _usage(prompt: str, completion: str) -> dict[str, int]:
    p, c = len(prompt.split()) + 5, len(completion.split()) + 1
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


class FakeProviderHandler(BaseHTTPRequestHandler):
    """OpenAI chat/completions and Anthropic messages, JSON or SSE."""

    def log_message(self, format: str, *args: Any) -> None:  # keep the capture quiet
        return

    def _json(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Iterator[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            self.wfile.write(event.encode())
            self.wfile.flush()
        self.close_connection = True

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if self.path.endswith("/chat/completions"):
            self._chat(body)
        elif self.path.endswith("/completions"):
            self._completion(body)
        elif self.path.endswith("/messages"):
            self._anthropic(body)
        else:
            self.send_error(404)

    def _chat(self, body: dict[str, Any]) -> None:
        content, tool_calls, finish = _openai_answer(body)
        usage = _usage(json.dumps(body.get("messages")), content or json.dumps(tool_calls))
        base = {
            "id": "chatcmpl-fx",
            "created": 1_700_000_000,
            "model": body["model"],
            "system_fingerprint": "fp_fake",
        }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if tool_calls:
                message["tool_calls"] = tool_calls
            choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            self._json({**base, "object": "chat.completion", "choices": [choice], "usage": usage})
            return

        def chunks() -> Iterator[str]:
            def event(delta: dict[str, Any], finish_reason: str | None = None) -> str:
                choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
                return (
                    "data: "
                    + json.dumps({**base, "object": "chat.completion.chunk", "choices": [choice]})
                    + "\n\n"
                )

            yield event({"role": "assistant", "content": ""})
            for word in (content or "").split(" "):
                yield event({"content": word + " "})
            for i, call in enumerate(tool_calls):
                head = {
                    "index": i,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""},
                }
                yield event({"tool_calls": [head]})
                yield event(
                    {
                        "tool_calls": [
                            {"index": i, "function": {"arguments": call["function"]["arguments"]}}
                        ]
                    }
                )
            yield event({}, finish)
            if (body.get("stream_options") or {}).get("include_usage"):
                yield (
                    "data: "
                    + json.dumps(
                        {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
                    )
                    + "\n\n"
                )
            yield "data: [DONE]\n\n"

        self._sse(chunks())

    def _completion(self, body: dict[str, Any]) -> None:
        text = " there lived a small model that answered every prompt."
        choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
        self._json(
            {
                "id": "cmpl-fx",
                "object": "text_completion",
                "created": 1_700_000_000,
                "model": body["model"],
                "choices": [choice],
                "usage": _usage(str(body.get("prompt")), text),
            }
        )

    def _anthropic(self, body: dict[str, Any]) -> None:
        tools = body.get("tools") or []
        choice = body.get("tool_choice") or {}
        last = body["messages"][-1]
        last_is_result = isinstance(last.get("content"), list) and any(
            b.get("type") == "tool_result" for b in last["content"]
        )
        if tools and not last_is_result and choice.get("type") != "none":
            name = choice.get("name") or tools[0]["name"]
            tool = next(t for t in tools if t["name"] == name)
            blocks: list[dict[str, Any]] = [
                {
                    "type": "tool_use",
                    "id": "toolu_fx01",
                    "name": name,
                    "input": _dummy_from_schema(tool["input_schema"]),
                }
            ]
            stop = "tool_use"
        else:
            blocks = [{"type": "text", "text": "It is 18 degrees and sunny in Paris."}]
            stop = "end_turn"
        usage = {"input_tokens": 42, "output_tokens": 12}
        self._json(
            {
                "id": "msg_fx",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": blocks,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
        )


class FakeProvider:
    """A threaded fake provider on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProviderHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
