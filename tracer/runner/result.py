"""What a run returns: ``RunResult`` and the items that make up what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tracer.runner.models.base import Message, ToolCall, Usage

if TYPE_CHECKING:
    from tracer.runner.agent import Agent

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MessageItem:
    """Text the agent's model said (a final answer, or words alongside tool calls)."""

    agent: Agent
    content: str | None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallItem:
    """A tool call the model asked for (handoffs and agents used as tools included)."""

    agent: Agent
    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolResultItem:
    """What went back to the model for one tool call; ``is_error`` when the tool failed."""

    agent: Agent
    call_id: str
    output: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class HandoffItem:
    """Control passed from ``source`` to ``target``."""

    source: Agent
    target: Agent
    call_id: str


RunItem = MessageItem | ToolCallItem | ToolResultItem | HandoffItem


@dataclass(slots=True)
class RunResult:
    """The outcome of ``Runner.run``.

    ``final_output`` is the last agent's answer: a string, or an instance of its
    ``output_type`` (None in the partial result an error carries). ``new_items`` is what
    happened, in order; ``usage`` counts every model call, agents used as tools
    included. ``trace_id`` (32 hex digits) finds the run in the store, None when nothing
    recorded it; ``conversation_id`` is shared by every run of one conversation.
    """

    input: str | list[Message]
    final_output: Any
    last_agent: Agent
    new_items: list[RunItem] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    trace_id: str | None = None
    conversation_id: str = ""
    #: The conversation as the last agent saw it, in Chat Completions messages.
    messages: list[Message] = field(default_factory=list)

    def to_input_list(self) -> list[Message]:
        """The conversation so far, to continue it: ``result.to_input_list() +
        [{"role": "user", "content": "..."}]`` as the next run's input."""
        return list(self.messages)

    def final_output_as(self, cls: type[T]) -> T:
        """``final_output``, checked to be a ``cls``."""
        if not isinstance(self.final_output, cls):
            raise TypeError(
                f"final_output is a {type(self.final_output).__name__}, not a {cls.__name__}"
            )
        return self.final_output
