"""What the Agents SDK says happened in a run, and what baton says, in one comparable shape.

The SDK's truth is its own ``RunResult`` (``new_items``, ``raw_responses``, ``last_agent``,
``final_output``, and the nested runs' results) together with the requests the scripted
server received (what each model call was sent, system instructions included). baton's
is ``replay.load_conversation`` and the store's views. Every scripted reply has its own
token counts, which is how a recorded model call, an SDK ``ModelResponse`` and the
request that got that reply are matched: no timing is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agents import (
    HandoffCallItem,
    HandoffOutputItem,
    RunResult,
    ToolCallItem,
    ToolCallOutputItem,
)
from agents.tracing import set_trace_processors
from scripted_agents_server import AgentServer

import tracer.agents_sdk as agents_sdk
from replay import Conversation, load_conversation
from replay.model import Message, Step
from tracer.store import Store

PATHS = ("tracer.agents_sdk", "openinference", "otel_contrib")
Flat = tuple[Any, ...]  # one message part: (role, kind, ...)


@contextmanager
def capture(path: str, store: Store, processor: Any = None) -> Iterator[None]:
    """Record the SDK runs inside the block into ``store`` the way ``path`` does it: the
    live processor, or an instrumentation exporting OpenTelemetry spans to the store
    (through ``processor`` when given, e.g. an OTLP exporter to ``baton collect``)."""
    set_trace_processors([])
    if path == "tracer.agents_sdk":
        processor = agents_sdk.install(store)
        try:
            yield
        finally:
            agents_sdk.uninstall(processor)
        return
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tracer.capture.exporter import StoreExporter

    if path == "openinference":
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    else:
        from opentelemetry.instrumentation.openai_agents import (
            OpenAIAgentsInstrumentor,
        )
    provider = TracerProvider()
    provider.add_span_processor(processor or SimpleSpanProcessor(StoreExporter(store)))
    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
        set_trace_processors([])


# -- the SDK's side ---------------------------------------------------------------------


@dataclass(frozen=True)
class StepTruth:
    """One model call: who made it, what it was sent and answered, what it caused."""

    agent: str
    input_tokens: int
    output_tokens: int
    input: tuple[Flat, ...]
    output: tuple[Flat, ...]
    tool_calls: tuple[tuple[str, str, str, str | None], ...]  # (name, arguments, result, id)
    handoff: tuple[str, str] | None
    nested: tuple[StepTruth, ...] = ()  # an agent tool's run, or a guardrail's agent's
    guardrails: tuple[tuple[str, str, tuple[StepTruth, ...]], ...] = ()  # (name, outcome, run)


def flat_request(api: str, body: dict[str, Any]) -> tuple[Flat, ...]:
    """A request as the model got it: system instructions first, then every message."""
    found: list[Flat] = []
    if api == "responses":
        if body.get("instructions"):
            found.append(("system", "text", body["instructions"]))
        items = body.get("input")
        items = [{"role": "user", "content": items}] if isinstance(items, str) else items
        for item in items or ():
            found.extend(_flat_item(item))
        return tuple(found)
    for message in body.get("messages") or ():
        role = message["role"]
        if role == "tool":
            found.append(
                ("tool", "tool_call_response", message["content"], message["tool_call_id"])
            )
            continue
        content = message.get("content")
        if isinstance(content, str) and content:
            found.append((role, "text", content))
        elif isinstance(content, list):
            found.extend((role, "text", p["text"]) for p in content if p.get("text"))
        for call in message.get("tool_calls") or ():
            function = call["function"]
            found.append((role, "tool_call", function["name"], function["arguments"], call["id"]))
    return tuple(found)


def _flat_item(item: dict[str, Any]) -> list[Flat]:
    kind = item.get("type")
    if kind == "function_call":
        return [("assistant", "tool_call", item["name"], item["arguments"], item["call_id"])]
    if kind == "function_call_output":
        return [("tool", "tool_call_response", item["output"], item["call_id"])]
    role = item.get("role", "user")
    content = item.get("content")
    if isinstance(content, str):
        return [(role, "text", content)]
    return [(role, "text", part["text"]) for part in content or () if part.get("text")]


def flat_output(output: Sequence[Any]) -> tuple[Flat, ...]:
    """A ``ModelResponse.output`` as flat parts."""
    found: list[Flat] = []
    for item in output:
        data = item.model_dump() if hasattr(item, "model_dump") else dict(item)
        found.extend(_flat_item({**data, "role": data.get("role", "assistant")}))
    return tuple(found)


class Truth:
    """Reads the SDK's own account of the runs of one scenario."""

    def __init__(self, server: AgentServer, agents_by_instructions: dict[str, str]) -> None:
        self.server = server
        self.agents = agents_by_instructions
        self.requests = {
            tuple(served.usage): (served.api, served.body, served.script)
            for served in server.received
            if served.usage is not None
        }

    def steps(self, result: Any, nested: Nested) -> list[StepTruth]:
        """The top-level steps of ``result`` (a ``RunResult``, or the ``run_data`` of the
        exception that ended a run), in order, with their nested runs."""
        steps: list[StepTruth] = []
        agents = [
            self.agents[self.requests[(r.usage.input_tokens, r.usage.output_tokens)][2]]
            for r in result.raw_responses
        ]
        last_agent = getattr(result, "last_agent", None)
        following = [*agents[1:], last_agent.name if last_agent is not None else None]
        items = list(result.new_items)
        outputs = {
            _call_id(item.raw_item): str(item.output)
            for item in items
            if isinstance(item, ToolCallOutputItem)
        }
        handoffs = [
            (item.source_agent.name, item.target_agent.name)
            for item in items
            if isinstance(item, HandoffOutputItem)
        ]
        for position, response in enumerate(result.raw_responses):
            usage = (response.usage.input_tokens, response.usage.output_tokens)
            api, body, script = self.requests[usage]
            call_ids = [
                c.call_id for c in response.output if getattr(c, "type", "") == "function_call"
            ]
            tools = [
                item
                for item in items
                if isinstance(item, ToolCallItem) and _call_id(item.raw_item) in call_ids
            ]
            handoff_calls = [
                item
                for item in items
                if isinstance(item, HandoffCallItem) and _call_id(item.raw_item) in call_ids
            ]
            steps.append(
                StepTruth(
                    agent=self.agents[script],
                    input_tokens=usage[0],
                    output_tokens=usage[1],
                    input=flat_request(api, body),
                    output=flat_output(response.output),
                    tool_calls=tuple(
                        (
                            item.raw_item.name,  # type: ignore[union-attr]
                            item.raw_item.arguments,  # type: ignore[union-attr]
                            outputs[_call_id(item.raw_item)],
                            _call_id(item.raw_item),
                        )
                        for item in tools
                    ),
                    handoff=handoffs.pop(0)
                    if handoff_calls
                    else _filtered_handoff(agents[position], following[position], call_ids, tools),
                    nested=tuple(
                        s
                        for item in tools
                        for run in nested.tool_runs.get(_call_id(item.raw_item), ())
                        for s in self.steps(run, nested)
                    ),
                    guardrails=tuple(
                        (name, outcome, tuple(s for r in runs for s in self.steps(r, nested)))
                        for name, outcome, runs in nested.guardrails.get(usage, ())
                    ),
                )
            )
        return steps


def _filtered_handoff(
    agent: str, following: str | None, call_ids: list[str], tools: list[Any]
) -> tuple[str, str] | None:
    """A handoff whose run items an input filter took out of ``new_items``
    (``remove_all_tools`` does): the response asked for a call no tool ran, and the next
    model call (or the run's ``last_agent``) is another agent's."""
    if following is None or following == agent or len(call_ids) == len(tools):
        return None
    return (agent, following)


@dataclass
class Nested:
    """The nested runs a scenario kept: agent-tool runs by the call id that ran them, and
    guardrails (name, outcome, runs) by the usage of the model call they checked."""

    tool_runs: dict[str, list[RunResult]]
    guardrails: dict[tuple[int, int], list[tuple[str, str, list[RunResult]]]]


def _call_id(raw: Any) -> str:
    return str(raw["call_id"] if isinstance(raw, dict) else raw.call_id)


# -- baton's side -----------------------------------------------------------------------


def flat_messages(messages: Sequence[Message] | None) -> tuple[Flat, ...] | None:
    if messages is None:
        return None
    found: list[Flat] = []
    for message in messages:
        for part in message.parts:
            if part.type == "text":
                found.append((message.role, "text", part.content))
            elif part.type == "tool_call":
                found.append((message.role, "tool_call", part.name, part.arguments, part.call_id))
            elif part.type == "tool_call_response":
                found.append((message.role, "tool_call_response", part.content, part.call_id))
            else:
                found.append((message.role, part.type, part.content))
    return tuple(found)


def recorded_steps(steps: Sequence[Step]) -> list[StepTruth]:
    """What baton replays, in the SDK's shape."""
    return [
        StepTruth(
            agent=step.agent or "?",
            input_tokens=step.input_tokens or 0,
            output_tokens=step.output_tokens or 0,
            input=flat_messages(step.input_messages) or (),
            output=flat_messages(step.output_messages) or (),
            tool_calls=tuple(
                (call.name, call.arguments or "", call.result or "", call.call_id)
                for call in step.tool_calls
            ),
            handoff=(step.handoff.from_agent or "?", step.handoff.to_agent or "?")
            if step.handoff is not None
            else None,
            nested=tuple(s for call in step.tool_calls for s in recorded_steps(call.nested)),
            guardrails=tuple(
                (g.name or "?", g.outcome, tuple(recorded_steps(g.nested))) for g in step.guardrails
            ),
        )
        for step in steps
    ]


def conversation_of(store: Store, conversation_id: str | None = None) -> Conversation:
    if conversation_id is None:
        rows = store.query("SELECT DISTINCT conversation_id FROM spans").rows
        assert len(rows) == 1, rows
        conversation_id = rows[0][0]
    return load_conversation(store, conversation_id)


def dumps(value: Any) -> str:
    return json.dumps(value)
