"""What a recorded conversation reads back as: plain, immutable data, no I/O.

``replay.load_conversation`` builds these from a store; the TUI and the command line
only display them. Times are timezone-aware datetimes; durations are milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from replay.steps import nesting
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
    """One message of a model call: its role and its parts."""

    role: str  # system, user, assistant, tool
    parts: tuple[MessagePart, ...] = ()
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        """The message's text parts joined (tool calls and results excluded)."""
        return "\n".join(p.content for p in self.parts if p.type == "text" and p.content)


@dataclass(frozen=True, slots=True)
class HandoffReason:
    """Why the model transferred: the transfer call it made (``arguments`` as JSON text:
    an ``input_type``'s data) and the text it wrote in the same response."""

    tool: str | None
    call_id: str | None
    arguments: str | None
    text: str | None


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
    #: The reason the producer recorded (tracer.agents_sdk does); ``reason`` falls back
    #: to reading it from the asking call's output, on first use.
    recorded_reason: HandoffReason | None = None
    #: The handoff's input filter (its qualified name) and what it removed from the next
    #: agent's input (``"function_call transfer_to_billing"``-like descriptions); None
    #: when no filter ran or the producer does not record it (tracer.agents_sdk does).
    input_filter: str | None = None
    removed: tuple[str, ...] | None = None
    #: A condition the producer reported and handled, e.g. the SDK ignoring a second
    #: handoff of one response ("Multiple handoffs requested: ...").
    warning: str | None = None
    #: Reads the reason from the model output when none was recorded (parsing that output
    #: only if someone asks: a long conversation has many handoffs).
    reason_reader: Callable[[], HandoffReason | None] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def reason(self) -> HandoffReason | None:
        """Why the model transferred, when the producer or the model output says."""
        if self.recorded_reason is not None:
            return self.recorded_reason
        return self.reason_reader() if self.reason_reader is not None else None


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
class Guardrail:
    """A guardrail that checked a turn: its name, whether its tripwire triggered, and the
    run of its own agent when it ran one (``nested``, like an agent used as a tool)."""

    span_id: str
    trace_id: str
    name: str | None
    #: ``input`` (checked the agent's input, beside or before its first call) or
    #: ``output`` (checked its final answer); None when it guarded no recorded call.
    kind: str | None
    triggered: bool | None  # None: the producer does not record the outcome
    agent: str | None  # the agent it guarded
    status: str
    nested: tuple[Step, ...] = ()

    @property
    def outcome(self) -> str:
        """``tripped``, ``passed`` or ``unknown``."""
        if self.triggered is None:
            return "unknown"
        return "tripped" if self.triggered else "passed"


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
    #: The guardrails that checked this turn (input guardrails on a run's first turn,
    #: output guardrails on its final answer), each with its own agent's run.
    guardrails: tuple[Guardrail, ...] = ()

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
        """Whether the call's messages were recorded."""
        return self.input_messages is not None or self.output_messages is not None

    @property
    def missing_content(self) -> str | None:
        """Why the call's messages are not there (what exactly is missing); None if they are."""
        if self.has_content:
            return None
        if self.content is not None and self.content.missing is not None:
            return self.content.missing
        return "this producer recorded no message content for this call"


@dataclass(frozen=True, slots=True)
class TraceLoop:
    """A ping-pong loop found in one run of the conversation (a trace, or the traces links
    join into one run), as the ``loops`` view finds it: ``trace_id`` is its first
    handoff's trace."""

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
    #: The agent holding the conversation at the end: the last top-level step's agent,
    #: or the one it handed off to (as the SDK's ``last_agent``, e.g. at max turns).
    last_agent: str | None = None
    #: What the run returned: the last step's answer, or, when the run stopped on a tool
    #: call (``tool_use_behavior="stop_on_first_tool"``), that tool's result.
    final_output: str | None = None
    streamed: bool | None = None  # None: not recorded (only tracer.agents_sdk records it)
    session_id: str | None = None  # the Agents SDK Session the run used, when recorded


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation read back: its runs' steps in order, the transfers of control, the
    loops, the user's messages and the errors."""

    conversation_id: str
    trace_ids: tuple[str, ...]  # in the order the runs started
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    agents: tuple[str, ...]  # in order of first appearance
    #: Top-level steps (``replay.steps.Steps`` when built: each made on first read);
    #: nested agent-tool steps hang off tool calls.
    steps: Sequence[Step]
    #: ``replay.steps.Transitions`` when built: each made on first read.
    transitions: Sequence[Transition]
    loops: tuple[TraceLoop, ...]
    user_turns: tuple[UserTurn, ...]
    errors: tuple[RunError, ...]
    sources: tuple[str, ...] = field(default=())  # the producers' dialects, e.g. ("baton",)
    guardrails: tuple[Guardrail, ...] = ()  # every guardrail, also those of no recorded step

    @property
    def n_turns(self) -> int:
        """Every model call, nested ones (agents as tools, guardrails' agents) included:
        what the ``turns`` view and the conversation list count."""
        return model_calls(self.steps) + sum(
            model_calls(g.nested) for g in self.guardrails if not _on_a_step(g, self.steps)
        )

    @property
    def n_nested_turns(self) -> int:
        """The model calls that ran nested: ``n_turns`` minus the top-level steps."""
        return self.n_turns - len(self.steps)


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
    """Who passed control to whom: agents in order of first appearance, and the edges."""

    agents: tuple[str, ...]
    edges: tuple[AgentEdge, ...]


def model_calls(steps: Sequence[Step]) -> int:
    """Every model call of ``steps``, those nested under their tool calls and guardrails
    included."""
    total = len(steps)
    for step in nesting(steps):  # most steps have neither: no generator made for them
        for call in step.tool_calls:
            if call.nested:
                total += model_calls(call.nested)
        for guardrail in step.guardrails:
            if guardrail.nested:
                total += model_calls(guardrail.nested)
    return total


def _on_a_step(guardrail: Guardrail, steps: Sequence[Step]) -> bool:
    return any(g.span_id == guardrail.span_id for step in nesting(steps) for g in step.guardrails)


def run_label(steps: tuple[Step, ...]) -> str:
    """A nested run described by every agent in it, e.g. ``3 turns by Researcher, Writer``
    (a handoff inside an agent used as a tool makes turns of another agent)."""
    agents = list(dict.fromkeys(step.agent or "?" for step in steps))
    count = len(steps)
    return f"{count} turn{'s' if count != 1 else ''} by {', '.join(agents)}"
