"""What a recorded conversation reads back as: plain, immutable data, no I/O.

``replay.load_conversation`` builds these from a store; the TUI and the command line
only display them. Times are timezone-aware datetimes; durations are milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracer.loops import Loop

if TYPE_CHECKING:
    from replay.content import StepContent


@dataclass(frozen=True, slots=True)
class MessagePart:
    """One part of a message, in the OpenTelemetry GenAI parts vocabulary.

    ``type`` is ``text``, ``tool_call``, ``tool_call_response`` or whatever the producer
    said (kept as is). ``content`` holds text, or a tool result; ``arguments`` a tool
    call's JSON arguments as text.
    """

    type: str
    content: str | None = None
    name: str | None = None
    call_id: str | None = None
    arguments: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # system, user, assistant, tool
    parts: tuple[MessagePart, ...] = ()
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        """The message's text parts joined (tool calls and results excluded)."""
        return "\n".join(p.content for p in self.parts if p.type == "text" and p.content)


@dataclass(frozen=True, slots=True)
class Transition:
    """A transfer of control: ``from_agent`` handed the conversation to ``to_agent``."""

    trace_id: str
    seq: int  # 1-based within the trace, as in the ``handoffs`` view
    turn: int | None  # the turn (within the trace) whose model call asked for it
    from_agent: str | None
    to_agent: str | None
    at: dt.datetime
    span_id: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the model asked for in a step. An agent used as a tool has ``is_agent``
    set, ``agent`` naming it, and the nested run's steps in ``nested``."""

    span_id: str
    name: str
    call_id: str | None
    arguments: str | None
    result: str | None
    status: str  # unset, ok, error
    error_type: str | None
    duration_ms: float | None
    is_agent: bool = False
    agent: str | None = None
    nested: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class RunError:
    """Something that went wrong and where: a failing tool, max turns, the loop guard,
    a model error. ``turn`` is the step index (1-based in the conversation) it belongs to."""

    span_id: str
    trace_id: str
    turn: int | None
    kind: str  # error.type, e.g. ValueError, MaxTurnsExceeded, HandoffLoopError
    message: str | None
    where: str  # the span's name, e.g. "execute_tool charge_card"


@dataclass(frozen=True, slots=True)
class Step:
    """One turn: one model call by the agent holding the conversation, and what the
    response made happen (tool calls, a handoff)."""

    #: 1-based position in the conversation (across traces); a nested step (an agent
    #: used as a tool) has the index of the top-level step it runs under.
    index: int
    turn: int  # 1-based within its trace, as in the ``turns`` view
    trace_id: str
    span_id: str  # the model call's span
    agent: str | None
    model: str | None
    started_at: dt.datetime
    duration_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    status: str
    tool_calls: tuple[ToolCall, ...] = ()
    handoff: Transition | None = None
    errors: tuple[RunError, ...] = ()
    user_turn: int = 1  # which user message of the conversation this step answers
    #: The call's messages, parsed on first use (``StepContent(input=..., output=...)``
    #: to build one by hand); None when the producer recorded no content at all.
    content: StepContent | None = None
    #: The answer ended the agent's run (no tool calls); None when the producer did not say.
    final_answer: bool | None = None

    @property
    def input_messages(self) -> tuple[Message, ...] | None:
        """What the model was sent (system instructions first); None when not recorded."""
        return self.content.input if self.content is not None else None

    @property
    def output_messages(self) -> tuple[Message, ...] | None:
        """What the model answered; None when not recorded."""
        return self.content.output if self.content is not None else None

    @property
    def has_content(self) -> bool:
        return self.input_messages is not None or self.output_messages is not None


@dataclass(frozen=True, slots=True)
class TraceLoop:
    """A ping-pong loop found in one trace of the conversation."""

    trace_id: str
    loop: Loop
    first_step: int | None  # Step.index range the loop spans, for jumping to it
    last_step: int | None

    def describe(self) -> str:
        """E.g. ``Triage ⇄ Billing ×4 · turns 5–12``."""
        turns = ""
        if self.loop.first_turn is not None and self.loop.last_turn is not None:
            turns = f" · turns {self.loop.first_turn}–{self.loop.last_turn}"
        return f"{self.loop.describe()}{turns}"


@dataclass(frozen=True, slots=True)
class UserTurn:
    """One user message of a multi-run conversation and the steps that answered it."""

    index: int  # 1-based
    trace_id: str
    text: str | None  # the user's message, when content was recorded
    first_step: int  # Step.index range
    last_step: int


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: str
    trace_ids: tuple[str, ...]  # in the order the runs started
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    agents: tuple[str, ...]  # in order of first appearance
    steps: tuple[Step, ...]  # top-level steps; nested agent-tool steps hang off tool calls
    transitions: tuple[Transition, ...]
    loops: tuple[TraceLoop, ...]
    user_turns: tuple[UserTurn, ...]
    errors: tuple[RunError, ...]
    sources: tuple[str, ...] = field(default=())  # the producers' dialects, e.g. ("baton",)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the conversation list (the ``conversations`` view)."""

    conversation_id: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_ms: float | None
    agents: tuple[str, ...]
    n_traces: int
    n_turns: int
    n_handoffs: int
    n_tool_calls: int
    has_loop: bool
    has_error: bool


@dataclass(frozen=True, slots=True)
class AgentEdge:
    """Control moving between two agents: ``kind`` is ``handoff`` or ``agent_tool``."""

    source: str
    target: str
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class AgentGraph:
    agents: tuple[str, ...]
    edges: tuple[AgentEdge, ...]
