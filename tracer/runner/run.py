"""``Runner``: the agent loop. Call the active agent's model; run the tool calls it asks
for (concurrently); follow a handoff by changing the active agent, the conversation
carrying over; stop at a final answer. Every run records itself as one trace
(``tracer.runner.spans``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span
from pydantic import BaseModel, ConfigDict, ValidationError

from tracer.capture.config import current_conversation_id
from tracer.runner.agent import Agent, AgentTool, Handoff, output_schema
from tracer.runner.context import RunContext
from tracer.runner.errors import (
    HandoffLoopError,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelError,
    RunError,
)
from tracer.runner.genai_format import dumps
from tracer.runner.loop_guard import LoopGuard, LoopWatch
from tracer.runner.models import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
    resolve_model,
)
from tracer.runner.result import (
    HandoffItem,
    MessageItem,
    RunItem,
    RunResult,
    ToolCallItem,
    ToolResultItem,
)
from tracer.runner.spans import PASS_CONTROL, RETURN_TO_CALLER, RunSpans, trace_id_of
from tracer.runner.tools import (
    FunctionTool,
    ToolArgumentsError,
    describe_validation_error,
    result_text,
)

DEFAULT_MAX_TURNS = 10
DEFAULT_LOOP_GUARD = LoopGuard()
IGNORED_HANDOFF = "Ignored: only the first handoff of a response is followed."


class UnknownTool(LookupError):
    """The model called a tool the agent does not have (sent back to the model)."""


class Runner:
    """Runs an agent until it gives a final answer: ``await Runner.run(agent, "hi")``."""

    @classmethod
    async def run(
        cls,
        agent: Agent,
        input: str | list[Message],
        *,
        context: Any = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        conversation_id: str | None = None,
        loop_guard: LoopGuard | None = DEFAULT_LOOP_GUARD,
        workflow_name: str | None = None,
    ) -> RunResult:
        """Run ``agent`` on ``input`` (a user message, or Chat Completions messages).

        ``context`` reaches tools and instruction functions as ``RunContext.context``.
        ``max_turns`` bounds the model calls of the run across agents
        (``MaxTurnsExceeded``). ``conversation_id`` ties several runs into one
        conversation (default: the one ``tracer.record()`` set, else a new one).
        ``loop_guard`` watches for agents handing control back and forth (None: off).
        Errors that end the run carry the partial result as ``error.result``.
        """
        conversation = conversation_id or current_conversation_id.get() or _new_conversation_id()
        spans = RunSpans(conversation)
        root = spans.workflow(workflow_name or agent.name)
        watch = LoopWatch(loop_guard) if loop_guard is not None else None
        run = _Run(_Trace(spans, root, watch), RunContext(context), max_turns, input)
        try:
            return await run.execute(agent, parent=root)
        except BaseException as exc:
            spans.fail(root, exc)
            raise
        finally:
            root.end()

    @classmethod
    def run_sync(
        cls,
        agent: Agent,
        input: str | list[Message],
        *,
        context: Any = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        conversation_id: str | None = None,
        loop_guard: LoopGuard | None = DEFAULT_LOOP_GUARD,
        workflow_name: str | None = None,
    ) -> RunResult:
        """``Runner.run`` for code without an event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "Runner.run_sync cannot run inside a running event loop (async code, Jupyter); "
                "use `await Runner.run(...)` there"
            )
        coroutine = cls.run(
            agent,
            input,
            context=context,
            max_turns=max_turns,
            conversation_id=conversation_id,
            loop_guard=loop_guard,
            workflow_name=workflow_name,
        )
        return asyncio.run(coroutine)


@dataclass(slots=True)
class _Trace:
    """What the runs of one trace share: the top-level run and its agents-as-tools."""

    spans: RunSpans
    root: Span
    watch: LoopWatch | None
    turns: int = 0  # model calls so far in the trace: the `turns` view's numbering


@dataclass(slots=True)
class _Answer:
    """A model response and what the runner made of it."""

    response: ModelResponse
    arguments: list[Any]  # parsed, one per tool call
    final_output: Any = None


class _Run:
    """One agent loop: a top-level run, or the nested run of an agent used as a tool."""

    def __init__(
        self, trace: _Trace, context: RunContext[Any], max_turns: int, input: str | list[Message]
    ) -> None:
        self.trace = trace
        self.spans = trace.spans
        self.context = context
        self.max_turns = max_turns
        self.input = input
        self.history: list[Message] = (
            [{"role": "user", "content": input}] if isinstance(input, str) else list(input)
        )
        self.items: list[RunItem] = []
        self.turns = 0
        self.handoffs_withdrawn = False

    async def execute(self, agent: Agent, parent: Span) -> RunResult:
        span = self.spans.agent(agent.name, parent)
        try:
            while True:
                answer = await self._call_model(agent, span)
                if not answer.response.tool_calls:
                    if self.trace.watch is not None:
                        self.trace.watch.interrupt()
                    return self._result(agent, answer.final_output)
                chosen = await self._run_tool_calls(agent, answer, span)
                if chosen is not None:
                    call, target = chosen
                    self.items.append(HandoffItem(agent, target.agent, call.id))
                    if target.input_filter is not None:
                        self.history = list(target.input_filter(list(self.history)))
                    span.end()
                    source, agent = agent, target.agent
                    span = self.spans.agent(agent.name, parent)
                    self._watch_for_loops(source, agent)
        except BaseException as exc:
            self.spans.fail(span, exc, record_exception=False)
            if isinstance(exc, RunError) and exc.result is None:
                exc.result = self._result(agent, None)
            raise
        finally:
            span.end()

    async def _call_model(self, agent: Agent, agent_span: Span) -> _Answer:
        if self.turns >= self.max_turns:
            raise MaxTurnsExceeded(
                f"no final answer after max_turns={self.max_turns} model calls (last agent: "
                f"{agent.name}); raise max_turns, or look at the run's handoffs for a loop"
            )
        self.turns += 1
        self.trace.turns += 1
        model = resolve_model(agent.model)
        request = ModelRequest(
            system=await agent.system_prompt(self.context),
            messages=list(self.history),
            tools=self._tool_definitions(agent),
            output=output_schema(agent.output_type) if agent.output_type else None,
            settings=agent.model_settings,
        )
        span = self.spans.chat(model, request, agent_span)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            try:
                response = await model.respond(request)
            except ModelError:
                raise
            except Exception as exc:
                raise ModelError(f"model {model.name} failed: {type(exc).__name__}: {exc}") from exc
            self.spans.chat_response(span, response)
            self.context.usage.add(Usage(1, response.input_tokens, response.output_tokens))
            self.history.append(response.message())
            if response.content is not None or response.refusal is not None:
                self.items.append(MessageItem(agent, response.content, response.refusal))
            self.items.extend(ToolCallItem(agent, call) for call in response.tool_calls)
            return self._interpret(agent, response)
        except Exception as exc:
            self.spans.fail(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def _interpret(self, agent: Agent, response: ModelResponse) -> _Answer:
        """Parse tool-call arguments, or the final answer into the agent's output type."""
        if response.tool_calls:
            return _Answer(response, [_arguments(agent, call) for call in response.tool_calls])
        if agent.output_type is None:
            return _Answer(response, [], response.content or response.refusal or "")
        if response.content is None:
            raise ModelBehaviorError(
                f"{agent.name} gave no {agent.output_type.__name__}"
                + (f"; the model refused: {response.refusal}" if response.refusal else "")
            )
        try:
            return _Answer(response, [], agent.output_type.model_validate_json(response.content))
        except ValidationError as exc:
            raise ModelBehaviorError(
                f"{agent.name}'s answer is not a valid {agent.output_type.__name__}: "
                f"{describe_validation_error(exc)}"
            ) from exc

    def _tool_definitions(self, agent: Agent) -> list[dict[str, Any]]:
        tools = [tool.definition for tool in agent.tools]
        if not self.handoffs_withdrawn:
            tools.extend(h.definition for h in agent.handoff_tools())
        return tools

    async def _run_tool_calls(
        self, agent: Agent, answer: _Answer, agent_span: Span
    ) -> tuple[ToolCall, Handoff] | None:
        """Run the tools concurrently; the first handoff wins, later ones are ignored.
        Results go into the history in the order the model asked for them."""
        calls = answer.response.tool_calls
        offered = [] if self.handoffs_withdrawn else agent.handoff_tools()
        handoffs = {h.tool_name: h for h in offered}
        tools = {tool.name: tool for tool in agent.tools}
        outcomes: list[tuple[str, bool] | None] = [None] * len(calls)
        jobs: list[tuple[int, Any]] = []
        chosen: tuple[ToolCall, Handoff] | None = None
        chosen_index = 0
        for index, (call, arguments) in enumerate(zip(calls, answer.arguments, strict=True)):
            target = handoffs.get(call.name)
            if target is None:
                tool = tools.get(call.name)
                jobs.append((index, self._run_tool(agent, tool, call, arguments, agent_span)))
            elif chosen is None:
                chosen, chosen_index = (call, target), index
            else:
                self.spans.handoff_ignored(agent_span, call, target.agent.name)
                outcomes[index] = (IGNORED_HANDOFF, False)
        if len(jobs) == 1:
            outcomes[jobs[0][0]] = await jobs[0][1]
        elif jobs:
            results = await asyncio.gather(*(job for _, job in jobs))
            for (index, _), outcome in zip(jobs, results, strict=True):
                outcomes[index] = outcome
        if chosen is not None:
            outcomes[chosen_index] = (self._hand_off(*chosen, agent_span), False)
        for call, outcome in zip(calls, outcomes, strict=True):
            assert outcome is not None
            text, is_error = outcome
            self.history.append({"role": "tool", "tool_call_id": call.id, "content": text})
            self.items.append(ToolResultItem(agent, call.id, text, is_error))
        return chosen

    async def _run_tool(
        self,
        agent: Agent,
        tool: FunctionTool | AgentTool | None,
        call: ToolCall,
        arguments: Any,
        agent_span: Span,
    ) -> tuple[str, bool]:
        """One tool call: its result text, and whether it failed (a failure goes back
        to the model as an error result; the run goes on)."""
        if self.trace.watch is not None:
            self.trace.watch.interrupt()
        if isinstance(tool, AgentTool):
            span = self.spans.transfer(call, tool.agent.name, RETURN_TO_CALLER, agent_span)
        else:
            span = self.spans.tool(call, agent_span)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            try:
                text = await self._tool_output(agent, tool, call, arguments, span)
                is_error = False
            except Exception as exc:
                text, is_error = _error_text(call, exc), True
                self.spans.fail(span, exc)
            self.spans.tool_result(span, text)
            return text, is_error
        finally:
            otel_context.detach(token)
            span.end()

    async def _tool_output(
        self,
        agent: Agent,
        tool: FunctionTool | AgentTool | None,
        call: ToolCall,
        arguments: Any,
        span: Span,
    ) -> str:
        if tool is None:
            available = ", ".join(t.name for t in agent.tools) or "none"
            raise UnknownTool(f"{agent.name} has no tool {call.name!r} (its tools: {available})")
        if isinstance(tool, AgentTool):
            return await self._run_agent_tool(tool, arguments, span)
        return result_text(await tool.invoke(self.context, arguments))

    async def _run_agent_tool(self, tool: AgentTool, arguments: Any, span: Span) -> str:
        try:
            request = _AgentToolInput.model_validate(arguments).input
        except ValidationError as exc:
            raise ToolArgumentsError(
                f"invalid arguments for {tool.name}: {describe_validation_error(exc)}"
            ) from None
        nested = _Run(self.trace, self.context, self.max_turns, request)
        result = await nested.execute(tool.agent, parent=span)
        return result_text(result.final_output)

    def _hand_off(self, call: ToolCall, target: Handoff, agent_span: Span) -> str:
        text = dumps({"assistant": target.agent.name})
        self.spans.transfer(call, target.agent.name, PASS_CONTROL, agent_span, text).end()
        return text

    def _watch_for_loops(self, source: Agent, target: Agent) -> None:
        watch = self.trace.watch
        if watch is None:
            return
        loop = watch.handoff(source.name, target.name, self.trace.turns)
        if loop is None:
            return
        self.spans.loop_detected(self.trace.root, loop, watch.guard.policy)
        if watch.guard.policy == "raise":
            raise HandoffLoopError(
                f"agents handed control back and forth: {loop.describe()} (handoffs "
                f"{loop.first_seq}-{loop.last_seq}), so the run stopped. Tell the agents when "
                "not to hand off, or use LoopGuard(policy='answer') to make the agent holding "
                "control answer.",
                loop=loop,
            )
        self.handoffs_withdrawn = True

    def _result(self, agent: Agent, final_output: Any) -> RunResult:
        return RunResult(
            input=self.input,
            final_output=final_output,
            last_agent=agent,
            new_items=self.items,
            usage=self.context.usage,
            trace_id=trace_id_of(self.trace.root),
            conversation_id=self.spans.conversation_id,
            messages=self.history,
        )


class _AgentToolInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str


def _arguments(agent: Agent, call: ToolCall) -> Any:
    """A tool call's arguments as JSON; text that is not JSON ends the run."""
    if not call.arguments.strip():
        return {}
    try:
        return json.loads(call.arguments)
    except ValueError:
        raise ModelBehaviorError(
            f"{agent.name}'s model sent arguments for {call.name} (call {call.id}) that are "
            f"not JSON: {call.arguments[:200]!r}. Retry the run, or use a model with strict "
            "function calling."
        ) from None


def _error_text(call: ToolCall, error: Exception) -> str:
    """What the model reads when a tool call failed."""
    if isinstance(error, ToolArgumentsError | UnknownTool):
        return f"Error: {error}"
    return f"Error running {call.name}: {type(error).__name__}: {error}"


def _new_conversation_id() -> str:
    return f"conv_{uuid.uuid4().hex}"
