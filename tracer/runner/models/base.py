"""What a model is to the runner: a request and a response in Chat Completions terms,
and the one-method protocol every model implements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: One conversation message as the Chat Completions API takes it
#: (``{"role": "user", "content": "..."}``, an assistant message with ``tool_calls``,
#: ``{"role": "tool", "tool_call_id": ..., "content": ...}``).
Message = dict[str, Any]


@dataclass(slots=True)
class Usage:
    """Model calls made and tokens spent."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        """Count ``other``'s calls and tokens in."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for; ``arguments`` is its text exactly as sent
    (JSON when the model behaves)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """One model answer: text, tool calls, or both."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    #: Empty means "tool_calls" when there are tool calls, else "stop".
    finish_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    #: The model that answered, as the endpoint named it.
    model: str | None = None
    response_id: str | None = None
    refusal: str | None = None

    def __post_init__(self) -> None:
        if not self.finish_reason:
            object.__setattr__(self, "finish_reason", "tool_calls" if self.tool_calls else "stop")

    def message(self) -> Message:
        """The assistant message that goes into the conversation history."""
        message: Message = {"role": "assistant", "content": self.content}
        if self.refusal is not None:
            message["refusal"] = self.refusal
        if self.tool_calls:
            message["tool_calls"] = chat_tool_calls(self.tool_calls)
        return message


def chat_tool_calls(calls: Iterable[ToolCall]) -> list[dict[str, Any]]:
    """``calls`` as an assistant message's ``tool_calls`` in Chat Completions."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Sampling and tool-use options passed to the model; None leaves the endpoint's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    #: "auto", "required", "none", or a tool name.
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    stop: tuple[str, ...] | None = None
    #: Extra fields for OpenAI-compatible endpoints that take more (vLLM, Ollama).
    extra_body: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """Structured output: the model must answer JSON matching ``json_schema``."""

    name: str
    json_schema: dict[str, Any]
    strict: bool = True


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """Everything a model call needs: the agent's instructions, the conversation, the
    tools it may call (Chat Completions tool definitions) and the output it must give."""

    system: str | None
    messages: Sequence[Message]
    tools: Sequence[dict[str, Any]] = ()
    output: OutputSchema | None = None
    settings: ModelSettings = field(default_factory=ModelSettings)


@runtime_checkable
class Model(Protocol):
    """A model the runner can call. ``name`` is the model asked for
    (``gen_ai.request.model``), ``provider`` its ``gen_ai.provider.name``."""

    name: str
    provider: str

    async def respond(self, request: ModelRequest) -> ModelResponse:
        """Answer one request; raise ``tracer.ModelError`` with advice when it fails."""
        ...
