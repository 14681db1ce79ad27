"""The runner's spans, in the conventions of DESIGN.md ("Span conventions"): one trace
per run, through ``tracer.get_tracer()``.

Content (messages, tool arguments and results) is recorded when
``tracer.capture.config.settings.capture_content`` is on, and only serialised for spans that
record, so a run nobody records pays next to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from tracer.capture.config import settings
from tracer.capture.provider import get_tracer
from tracer.loops import Loop
from tracer.runner import genai_format
from tracer.runner.models.base import Message, Model, ModelRequest, ModelResponse, ToolCall

OPERATION = "gen_ai.operation.name"
CONVERSATION = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
TARGET_NAME = "gen_ai.transfer.target.name"
PASS_CONTROL = "pass_control"
RETURN_TO_CALLER = "return_to_caller"
HANDOFF_IGNORED = "baton.handoff_ignored"
LOOP_DETECTED = "baton.loop_detected"

_REQUEST_SETTINGS = (
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("seed", "gen_ai.request.seed"),
)


class RunSpans:
    """Starts and fills the spans of one trace. Spans are ended by the caller."""

    def __init__(self, conversation_id: str) -> None:
        self.tracer = get_tracer()
        self.conversation_id = conversation_id
        self.capture = settings.capture_content
        # Each history message's JSON, made once per run rather than once per model call.
        self._message_json: dict[int, tuple[Message, str]] = {}

    def workflow(self, name: str) -> Span:
        """The root span of a run: a new trace, linked to the caller's span if any."""
        caller = trace.get_current_span().get_span_context()
        span = self.tracer.start_span(
            f"invoke_workflow {name}",
            context=_ROOT,
            links=[Link(caller)] if caller.is_valid else None,
            attributes={
                OPERATION: "invoke_workflow",
                "gen_ai.workflow.name": name,
                CONVERSATION: self.conversation_id,
            },
        )
        # Children of a span nobody records are not recorded either: skip their content.
        self.capture = self.capture and span.is_recording()
        return span

    def agent(self, name: str, parent: Span) -> Span:
        """One activation of an agent."""
        return self.tracer.start_span(
            f"invoke_agent {name}",
            context=trace.set_span_in_context(parent),
            attributes={
                OPERATION: "invoke_agent",
                "gen_ai.agent.name": name,
                CONVERSATION: self.conversation_id,
            },
        )

    def chat(self, model: Model, request: ModelRequest, parent: Span) -> Span:
        """One model call; the request's messages are recorded when capturing content."""
        attributes: dict[str, Any] = {
            OPERATION: "chat",
            "gen_ai.provider.name": model.provider,
            "gen_ai.request.model": model.name,
        }
        for setting, key in _REQUEST_SETTINGS:
            value = getattr(request.settings, setting)
            if value is not None:
                attributes[key] = value
        if request.output is not None:
            attributes["gen_ai.output.type"] = "json"
        if self.capture:
            attributes[genai_format.INPUT_MESSAGES] = self._input_messages(request.messages)
            if request.system:
                attributes[genai_format.SYSTEM_INSTRUCTIONS] = genai_format.system_instructions(
                    request.system
                )
        return self.tracer.start_span(
            f"chat {model.name}",
            context=trace.set_span_in_context(parent),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )

    def chat_response(self, span: Span, response: ModelResponse) -> None:
        """What the model answered: enough to re-serve the response exactly."""
        if not span.is_recording():
            return
        attributes: dict[str, Any] = {
            "gen_ai.response.finish_reasons": (response.finish_reason,),
            "gen_ai.usage.input_tokens": response.input_tokens,
            "gen_ai.usage.output_tokens": response.output_tokens,
        }
        if response.model is not None:
            attributes["gen_ai.response.model"] = response.model
        if response.response_id is not None:
            attributes["gen_ai.response.id"] = response.response_id
        if self.capture:
            attributes[genai_format.OUTPUT_MESSAGES] = genai_format.output_messages(response)
        span.set_attributes(attributes)

    def tool(self, call: ToolCall, parent: Span) -> Span:
        """A function tool call (or a call of a tool the agent does not have)."""
        return self._tool_span(f"execute_tool {call.name}", call, parent, {})

    def transfer(
        self, call: ToolCall, target: str, mode: str, parent: Span, result: str | None = None
    ) -> Span:
        """A handoff (``pass_control``) or a call of an agent used as a tool
        (``return_to_caller``); ``parent`` is the calling agent's span. ``result``: what
        the model will read, when it is known from the start (a handoff's)."""
        extra = {
            "gen_ai.transfer.mode": mode,
            TARGET_NAME: target,
            "gen_ai.transfer.target.type": "agent",
        }
        if result is not None and self.capture:
            extra[TOOL_RESULT] = result
        return self._tool_span(f"execute_tool {call.name} {target}", call, parent, extra)

    def tool_result(self, span: Span, result: str) -> None:
        if self.capture:
            span.set_attribute(TOOL_RESULT, result)

    def handoff_ignored(self, agent_span: Span, call: ToolCall, target: str) -> None:
        """A further handoff in a response that already handed off: not followed."""
        agent_span.add_event(
            HANDOFF_IGNORED, {TOOL_NAME: call.name, TOOL_CALL_ID: call.id, TARGET_NAME: target}
        )

    def loop_detected(self, workflow_span: Span, loop: Loop, policy: str) -> None:
        workflow_span.add_event(
            LOOP_DETECTED,
            {
                "baton.loop.agents": loop.agents,
                "baton.loop.handoffs": loop.handoffs,
                "baton.loop.first_seq": loop.first_seq,
                "baton.loop.last_seq": loop.last_seq,
                "baton.loop.policy": policy,
            },
        )

    @staticmethod
    def fail(span: Span, error: BaseException, *, record_exception: bool = True) -> None:
        """Mark ``span`` failed with ``error`` (``error.type``, status ERROR)."""
        if not span.is_recording():
            return
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        if record_exception:
            span.record_exception(error)

    def _tool_span(self, name: str, call: ToolCall, parent: Span, extra: dict[str, Any]) -> Span:
        attributes: dict[str, Any] = {
            OPERATION: "execute_tool",
            TOOL_NAME: call.name,
            TOOL_CALL_ID: call.id,
            "gen_ai.tool.type": "function",
            **extra,
        }
        if self.capture:
            attributes[TOOL_ARGUMENTS] = call.arguments
        return self.tracer.start_span(
            name, context=trace.set_span_in_context(parent), attributes=attributes
        )

    def _input_messages(self, history: Sequence[Message]) -> str:
        cache = self._message_json
        parts = []
        for message in history:
            hit = cache.get(id(message))
            if hit is None or hit[0] is not message:  # holding the message keeps its id unique
                hit = cache[id(message)] = (message, genai_format.message_json(message))
            parts.append(hit[1])
        return f"[{','.join(parts)}]"


def trace_id_of(span: Span) -> str | None:
    """The span's trace id in 32 hex digits, None for a span nobody records."""
    context = span.get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


# An empty context: the workflow span starts a trace of its own.
_ROOT = Context()
