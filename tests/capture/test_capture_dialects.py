"""Each producer's instrumentation, on a real Agents SDK workflow, shipped to a real
``baton collect`` over OTLP the way users ship it: the store's ``handoffs`` and
``tool_calls`` must say what the SDK's own run items say happened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from agents.tracing import Span, Trace, TracingProcessor, set_trace_processors
from collector_process import CollectorProcess
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sdk_workflow import expected_from, recorded, run_support

pytestmark = pytest.mark.usefixtures("sdk_processors")


@pytest.fixture
def otlp_provider(collector: CollectorProcess) -> Iterator[TracerProvider]:
    """An OpenTelemetry SDK provider exporting to the collector with the standard
    OTLP/HTTP protobuf exporter (gzip, as many deployments configure it)."""
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=collector.url, compression=Compression.Gzip)
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=512))
    yield provider
    provider.shutdown()


def stored_sources(collector: CollectorProcess) -> set[str]:
    rows = collector.store.query("SELECT DISTINCT source FROM spans WHERE op <> 'other'").rows
    return {row[0] for row in rows}


def finish(collector: CollectorProcess, provider: TracerProvider) -> None:
    """Flush the exporter, then stop the collector the way a user does (SIGTERM)."""
    provider.force_flush()
    code, out, err = collector.stop()
    assert code == 0, err
    assert "stopped" in out


async def test_openinference_instrumentation(
    collector: CollectorProcess, otlp_provider: TracerProvider
) -> None:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=otlp_provider)
    try:
        result = await run_support()
    finally:
        instrumentor.uninstrument()
    finish(collector, otlp_provider)

    assert recorded(collector.store) == expected_from(result)
    assert stored_sources(collector) == {"openinference"}
    roots = collector.store.query("SELECT op FROM spans WHERE parent_span_id IS NULL").rows
    assert roots == [("workflow",)]


async def test_opentelemetry_contrib_instrumentation(
    collector: CollectorProcess, otlp_provider: TracerProvider
) -> None:
    from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=otlp_provider)
    try:
        result = await run_support()
    finally:
        instrumentor.uninstrument()
    finish(collector, otlp_provider)

    assert recorded(collector.store) == expected_from(result)
    assert stored_sources(collector) == {"otel_openai_agents"}
    handoff_ops = collector.store.query(
        "SELECT DISTINCT attributes->>'gen_ai.operation.name' FROM spans WHERE op = 'handoff'"
    ).rows
    assert handoff_ops == [("agent_handoff",)]


class LogfireStyle(TracingProcessor):
    """Mirrors SDK spans into OpenTelemetry spans shaped as Pydantic Logfire's Agents SDK
    integration shapes them (logfire itself is not a dependency): the message template
    as the span name, the formatted message in ``logfire.msg``, the span data's fields
    as plain attributes."""

    _TEMPLATES: ClassVar[dict[str, str]] = {
        "agent": "Agent run: {name!r}",
        "function": "Function: {name}",
        "handoff": "Handoff: {from_agent} → {to_agent}",
        "generation": "Chat completion with {gen_ai.request.model!r}",
        "guardrail": "Guardrail {name!r} {triggered=}",
    }

    def __init__(self, provider: TracerProvider) -> None:
        self.tracer = provider.get_tracer("logfire")
        self.open: dict[str, Any] = {}

    def on_trace_start(self, trace: Trace) -> None:
        self.open[trace.trace_id] = self.tracer.start_span(trace.name)

    def on_trace_end(self, trace: Trace) -> None:
        self.open.pop(trace.trace_id).end()

    def on_span_start(self, span: Span[Any]) -> None:
        parent = self.open[span.parent_id or span.trace_id]
        context = otel_trace.set_span_in_context(parent)
        kind = span.span_data.type
        template = self._TEMPLATES.get(kind, "OpenAI agents: {type} span")
        self.open[span.span_id] = self.tracer.start_span(
            template, context=context, attributes={"logfire.msg_template": template}
        )

    def on_span_end(self, span: Span[Any]) -> None:
        otel_span = self.open.pop(span.span_id)
        data = span.span_data.export()
        fields = {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool))}
        message = otel_span.name
        if data["type"] == "agent":
            message = f"Agent run: {data['name']!r}"
        elif data["type"] in ("function", "handoff"):
            message = otel_span.name.format(**fields)
        otel_span.set_attributes({**fields, "logfire.msg": message})
        otel_span.end()

    def shutdown(self) -> None: ...
    def force_flush(self) -> None: ...


async def test_logfire_style_spans(
    collector: CollectorProcess, otlp_provider: TracerProvider
) -> None:
    set_trace_processors([LogfireStyle(otlp_provider)])
    result = await run_support()
    finish(collector, otlp_provider)

    assert recorded(collector.store) == expected_from(result)
    assert stored_sources(collector) == {"logfire"}


def test_a_plain_span_named_handoff_arrow_is_a_handoff(
    collector: CollectorProcess, otlp_provider: TracerProvider
) -> None:
    tracer = otlp_provider.get_tracer("my-app")
    attributes = {"gen_ai.operation.name": "invoke_agent"}
    with tracer.start_as_current_span("invoke_agent Triage") as span:
        span.set_attributes({**attributes, "gen_ai.agent.name": "Triage"})
        with tracer.start_as_current_span("Handoff: Triage → Billing"):
            pass
    with tracer.start_as_current_span("invoke_agent Billing") as span:
        span.set_attributes({**attributes, "gen_ai.agent.name": "Billing"})
        with tracer.start_as_current_span("Handoff: Billing -> Triage"):
            pass
        with tracer.start_as_current_span("something else entirely"):
            pass
    finish(collector, otlp_provider)

    rows = collector.store.query(
        "SELECT from_agent, to_agent, source FROM spans WHERE op = 'handoff' ORDER BY start_time"
    ).rows
    assert rows == [("Triage", "Billing", "logfire"), ("Billing", "Triage", "logfire")]
    other = collector.store.query(
        "SELECT op, source, agent_name FROM spans WHERE name = 'something else entirely'"
    ).rows
    assert other == [("other", "unknown", "Billing")]


def instrumentor(producer: str) -> Any:
    if producer == "openinference":
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        return OpenAIAgentsInstrumentor()
    from opentelemetry.instrumentation.openai_agents import (
        OpenAIAgentsInstrumentor as ContribInstrumentor,
    )

    return ContribInstrumentor()


@pytest.mark.parametrize("producer", ["openai_agents", "openinference", "otel_openai_agents"])
async def test_replay_reads_each_producers_messages(
    producer: str, collector: CollectorProcess, otlp_provider: TracerProvider
) -> None:
    """A real model over HTTP (a scripted local server), recorded by each producer:
    the replayed steps show the messages that went to the model and came back."""
    from agents import Agent, OpenAIChatCompletionsModel, Runner
    from openai import AsyncOpenAI
    from scripted_openai import scripted_openai, text_reply, tool_call_reply
    from sdk_workflow import lookup_invoice

    import tracer.agents_sdk as agents_sdk
    from replay import load_conversation

    replies = [
        tool_call_reply("call_route", "transfer_to_billing", {}, (11, 5)),
        tool_call_reply("call_lookup", "lookup_invoice", {"invoice_id": "B7"}, (12, 6)),
        text_reply("Invoice B7 is paid.", (13, 7)),
    ]
    installed = None
    if producer == "openai_agents":
        agents_sdk.install(collector.store)
    else:
        installed = instrumentor(producer)
        installed.instrument(tracer_provider=otlp_provider)
    try:
        with scripted_openai(replies) as (base_url, _):
            client = AsyncOpenAI(base_url=base_url, api_key="sk-test-0123456789abcdefghij")
            model = OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
            billing = Agent(
                name="Billing", instructions="Bill.", model=model, tools=[lookup_invoice]
            )
            triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing])
            result = await Runner.run(triage, "Is invoice B7 paid?")
    finally:
        if installed is not None:
            installed.uninstrument()
    finish(collector, otlp_provider)
    assert result.final_output == "Invoice B7 is paid."

    trace_id = collector.store.query("SELECT DISTINCT trace_id FROM spans").rows[0][0]
    steps = load_conversation(collector.store, trace_id).steps
    assert [step.agent for step in steps] == ["Triage", "Billing", "Billing"]
    first, _, last = (step.content for step in steps)
    assert first is not None and last is not None
    assert first.input is not None and first.output is not None and last.output is not None
    assert any("Is invoice B7 paid?" in message.text for message in first.input)
    calls = [part for message in first.output for part in message.parts if part.type == "tool_call"]
    if producer == "otel_openai_agents":
        # That instrumentation records the model's message as the text of its Python repr
        # (a text part), not as tool-call parts: replay shows what it recorded.
        assert calls == []
        assert "'name': 'transfer_to_billing'" in first.output[0].text
    else:
        assert [(c.name, c.call_id) for c in calls] == [("transfer_to_billing", "call_route")]
    assert "Invoice B7 is paid." in "".join(message.text for message in last.output)
    assert collector.store.query("SELECT DISTINCT source FROM spans WHERE op = 'chat'").rows == [
        (producer,)
    ]
