"""The playground's state: cards, sync switches and histories, as validated pydantic models.

The state is what a session saves and exports, so it never holds a secret: a custom
endpoint keeps its base URL and model id here, its token stays in the browser session.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "developer", "user", "assistant", "tool"]
OperationName = Literal["chat", "text_completion"]
FormatName = Literal["f-string", "mustache", "jinja2", "none"]
TurnStatus = Literal["ok", "error", "cancelled", "interrupted"]
STATE_VERSION = 1
# Parameters every card offers with a typed widget; anything else goes in the extras JSON.
STANDARD_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
)
DEFAULT_MAX_TOKENS = 256
DEFAULT_SYSTEM = "You are a helpful assistant."
DEFAULT_USER = "{question}"
DEFAULT_QUESTION = "What makes a prompt clear? Answer in one sentence."


def new_card_id() -> str:
    """A short random id, safe in widget keys and URLs."""
    return uuid.uuid4().hex[:8]


def _now() -> datetime:
    return datetime.now(UTC)


class _Strict(BaseModel):
    # Imported files are user input: an unknown field is a mistake worth reporting.
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Message(_Strict):
    """One chat message (template or conversation)."""

    role: Role = "user"
    content: str = ""
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def to_request(self) -> dict[str, Any]:
        """The OpenAI-style dict sent to the model (unset optional keys left out)."""
        return self.model_dump(exclude_none=True)


class Endpoint(_Strict):
    """A custom OpenAI-compatible endpoint for one card (the token is never part of it)."""

    base_url: str
    model_id: str
    endpoint_id: int | None = None  # a saved ModelEndpoint, when chosen from the list
    name: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        # Checked here, not at run time, so a token typed into the URL is never stored.
        if "@" in value.split("//", 1)[-1].split("/", 1)[0]:
            raise ValueError("put the token in the token field, not in the base URL")
        return value


class PromptRef(_Strict):
    """The registry prompt a card was loaded from or last saved to."""

    name: str
    version: int | None = None
    label: str | None = None
    prompt_version_id: int | None = None

    def display(self) -> str:
        """``name@label`` or ``name v3``."""
        if self.label:
            return f"{self.name}@{self.label}"
        return f"{self.name} v{self.version}" if self.version else self.name


class FieldReportItem(_Strict):
    """One line of a replay fidelity report."""

    field: str
    status: str
    detail: str = ""
    value_preview: str = ""


class ReplayOrigin(_Strict):
    """Where a replayed card came from, with its fidelity report."""

    span_id: str | None = None
    trace_id: str | None = None
    report: list[FieldReportItem] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    original_output: str | None = None
    span: dict[str, Any] | None = None  # the span as given, for "re-run as recorded"


class ToolCallOut(_Strict):
    """A tool call in an output."""

    id: str = ""
    name: str = ""
    arguments: str = ""


class RunOutput(_Strict):
    """What one recorded run produced, with its metrics."""

    text: str = ""
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    status: TurnStatus = "ok"
    error: str | None = None
    error_kind: str | None = None
    finish_reason: str | None = None
    run_id: str | None = None
    span_id: str | None = None
    trace_id: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    usage_estimated: bool = False
    cost: float | None = None
    model: str | None = None
    feedback: int | None = None  # 1 👍, 0 👎, as last given in the UI

    def as_assistant_message(self) -> Message:
        """The output as the assistant message that continues the conversation."""
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in self.tool_calls
        ]
        return Message(role="assistant", content=self.text, tool_calls=calls or None)


class Turn(_Strict):
    """One step of a card's conversation: an optional user message and its run(s)."""

    id: str = Field(default_factory=new_card_id)
    user: Message | None = None  # None: the template itself was run
    outputs: list[RunOutput] = Field(default_factory=list)  # one per repetition
    chosen: int = 0  # which repetition continues the conversation
    started_at: datetime = Field(default_factory=_now)

    def chosen_output(self) -> RunOutput | None:
        """The repetition that continues the conversation, if any."""
        if not self.outputs:
            return None
        return self.outputs[min(max(self.chosen, 0), len(self.outputs) - 1)]


class Card(_Strict):
    """One playground card: a model, a template, parameters and its conversation."""

    id: str = Field(default_factory=new_card_id)
    title: str = ""
    model: str = ""
    endpoint: Endpoint | None = None
    operation: OperationName = "chat"
    template_format: FormatName = "f-string"
    messages: list[Message] = Field(
        default_factory=lambda: [
            Message(role="system", content=DEFAULT_SYSTEM),
            Message(role="user", content=DEFAULT_USER),
        ]
    )
    prompt: str = ""  # text-completion template
    variables: dict[str, str] = Field(default_factory=dict)
    invocation_parameters: dict[str, Any] = Field(
        default_factory=lambda: {"max_tokens": DEFAULT_MAX_TOKENS}
    )
    extra_params_json: str = ""
    tools: str = ""  # JSON text as typed, validated before a run
    tool_choice: str | None = None  # auto | none | required | a function name
    response_format: str = ""  # JSON text: {"type": "json_schema", ...} or a bare schema
    history: list[Turn] = Field(default_factory=list)
    trace_id: str | None = None  # the conversation's trace, shared by its turns
    prompt_ref: PromptRef | None = None
    replay: ReplayOrigin | None = None

    def display_model(self) -> str:
        """The model as shown to users."""
        if self.endpoint is not None:
            return f"{self.endpoint.model_id} @ {self.endpoint.base_url}"
        return self.model or "(no model)"


class SyncSwitches(_Strict):
    """Which parts of a card are kept identical across all cards."""

    models: bool = False
    messages: bool = False
    params: bool = False
    variables: bool = False
    tools: bool = False
    chat_input: bool = False  # one chat message goes to every card


class DatasetRef(_Strict):
    """Room for the dataset input source (PG9)."""

    dataset_id: int | None = None
    version: int | None = None
    name: str | None = None


class PlaygroundState(_Strict):
    """Everything a playground session saves."""

    version: int = STATE_VERSION
    cards: list[Card] = Field(default_factory=list)
    sync: SyncSwitches = Field(default_factory=SyncSwitches)
    input_source: Literal["manual", "dataset"] = "manual"
    dataset: DatasetRef | None = None
    repetitions: int = Field(default=1, ge=1, le=20)

    def card(self, card_id: str) -> Card:
        """The card with ``card_id``; KeyError if there is none."""
        for card in self.cards:
            if card.id == card_id:
                return card
        raise KeyError(f"no card {card_id!r} in this playground")

    def index_of(self, card_id: str) -> int:
        """Position of the card with ``card_id``."""
        for i, card in enumerate(self.cards):
            if card.id == card_id:
                return i
        raise KeyError(f"no card {card_id!r} in this playground")


def default_card(model: str) -> Card:
    """A fresh chat card on ``model`` with a small system + user template."""
    # A filled-in sample value, so Run works on a fresh card without typing anything.
    return Card(model=model, variables={"question": DEFAULT_QUESTION})


def default_state(model: str) -> PlaygroundState:
    """A playground with one default card."""
    return PlaygroundState(cards=[default_card(model)])
