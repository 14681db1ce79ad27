"""Recording spans in baton's conventions with the real OpenTelemetry SDK, for tests
of the store that should not depend on the runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from tracer.capture.exporter import StoreExporter
from tracer.store import Store


class SpanMaker:
    """A tracer exporting synchronously to ``store``, with helpers per span kind."""

    def __init__(self, store: Store) -> None:
        self.exporter = StoreExporter(store)
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer: Tracer = self.provider.get_tracer("baton")

    def close(self) -> None:
        self.provider.shutdown()

    @contextmanager
    def workflow(self, conversation_id: str | None = None, name: str = "support") -> Iterator[Span]:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": name,
        }
        if conversation_id:
            attributes["gen_ai.conversation.id"] = conversation_id
        with self.tracer.start_as_current_span(
            f"invoke_workflow {name}", attributes=attributes
        ) as span:
            yield span

    @contextmanager
    def agent(self, name: str) -> Iterator[Span]:
        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name}
        with self.tracer.start_as_current_span(
            f"invoke_agent {name}", attributes=attributes
        ) as span:
            yield span

    def chat(
        self,
        *,
        final: bool = False,
        input_tokens: int = 10,
        output_tokens: int = 5,
        input_messages: list[dict[str, Any]] | None = None,
        output_messages: list[dict[str, Any]] | None = None,
        system: str | None = None,
        error: str | None = None,
    ) -> None:
        """A model call; messages (GenAI parts format) are recorded when given."""
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-test",
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
            "gen_ai.response.finish_reasons": ["stop"] if final else ["tool_calls"],
        }
        if input_messages is not None:
            attributes["gen_ai.input.messages"] = json.dumps(input_messages)
        if output_messages is not None:
            attributes["gen_ai.output.messages"] = json.dumps(output_messages)
        if system is not None:
            attributes["gen_ai.system_instructions"] = json.dumps(
                [{"type": "text", "content": system}]
            )
        if error:
            attributes["error.type"] = error
        with self.tracer.start_as_current_span(
            "chat gpt-test", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            if error:
                span.set_status(Status(StatusCode.ERROR, f"{error}: the model failed"))

    def handoff(self, target: str) -> None:
        tool = f"transfer_to_{target.lower()}"
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.type": "function",
            "gen_ai.transfer.mode": "pass_control",
            "gen_ai.transfer.target.name": target,
            "gen_ai.transfer.target.type": "agent",
        }
        with self.tracer.start_as_current_span(
            f"execute_tool {tool} {target}", attributes=attributes
        ):
            pass

    def tool(
        self, name: str, *, arguments: str = "{}", result: str = "ok", error: str | None = None
    ) -> None:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": f"call_{name}",
            "gen_ai.tool.call.arguments": arguments,
            "gen_ai.tool.call.result": result,
        }
        if error:
            attributes["error.type"] = error
        with self.tracer.start_as_current_span(
            f"execute_tool {name}", attributes=attributes
        ) as span:
            if error:
                span.set_status(Status(StatusCode.ERROR, error))

    @contextmanager
    def agent_tool(self, tool: str, target: str) -> Iterator[Span]:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": f"call_{tool}",
            "gen_ai.transfer.mode": "return_to_caller",
            "gen_ai.transfer.target.name": target,
            "gen_ai.transfer.target.type": "agent",
        }
        with self.tracer.start_as_current_span(
            f"execute_tool {tool} {target}", attributes=attributes
        ) as span:
            yield span


def ping_pong_run(
    maker: SpanMaker, hops: list[tuple[str, str]], conversation_id: str | None = None
) -> None:
    """One run where each (agent, target) pair is a turn of ``agent`` handing off to ``target``;
    the last target answers."""
    with maker.workflow(conversation_id):
        for agent, target in hops:
            with maker.agent(agent):
                maker.chat()
                maker.handoff(target)
        with maker.agent(hops[-1][1]):
            maker.chat(final=True)
