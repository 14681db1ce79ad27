"""``tracer.record``: everything inside the block lands in the store, readable at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from opentelemetry import trace
from sdk_workflow import expected_from, recorded, run_support

import tracer
from tracer.capture.config import current_conversation_id
from tracer.store import Store

pytestmark = pytest.mark.usefixtures("sdk_processors")


def otel_tracer() -> trace.Tracer:
    return trace.get_tracer("my-app")


async def test_an_agents_sdk_run_in_the_block_gets_the_blocks_conversation(
    store: Store,
) -> None:
    with tracer.record(store, conversation_id="support-42") as recording:
        assert current_conversation_id.get() == "support-42"
        result = await run_support(group_id=None)
    assert current_conversation_id.get() is None
    assert recording.store is store

    assert recorded(store) == expected_from(result)
    rows = store.query("SELECT DISTINCT conversation_id FROM spans").rows
    assert rows == [("support-42",)]


async def test_the_sdks_group_id_wins_and_runs_outside_the_block_are_not_recorded(
    store: Store,
) -> None:
    await run_support(group_id="before")
    async with tracer.record(store, conversation_id="block"):
        await run_support(group_id="the-group")
    await run_support(group_id="after")
    conversations = store.query("SELECT conversation_id FROM conversations").rows
    assert conversations == [("the-group",)]


def test_opentelemetry_spans_in_the_block_are_stamped_and_flushed(store: Store) -> None:
    with otel_tracer().start_as_current_span("before the block"):
        pass
    with tracer.record(store, conversation_id="conv-otel"):
        with otel_tracer().start_as_current_span("invoke_agent Helper") as span:
            span.set_attributes(
                {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Helper"}
            )
            with otel_tracer().start_as_current_span("inner"):
                pass
        with otel_tracer().start_as_current_span("own conversation") as span:
            span.set_attribute("gen_ai.conversation.id", "explicit")
    # No flush, no shutdown: readable right after the block.
    rows = store.query(
        "SELECT name, attributes->>'gen_ai.conversation.id', agent_name FROM spans ORDER BY name"
    ).rows
    assert rows == [
        ("inner", "conv-otel", "Helper"),
        ("invoke_agent Helper", "conv-otel", "Helper"),
        ("own conversation", "explicit", None),
    ]


def test_a_span_that_ends_after_the_block_is_written_when_it_ends(store: Store) -> None:
    with tracer.record(store):
        span = otel_tracer().start_span("outlives the block")
    assert store.query("SELECT count(*) FROM spans").rows == [(0,)]
    span.end()
    assert store.query("SELECT name FROM spans").rows == [("outlives the block",)]


def test_decorating_sync_and_async_functions(tmp_path: Path) -> None:
    sync_store = Store(tmp_path / "sync.duckdb")
    async_store = Store(tmp_path / "async.duckdb")

    @tracer.record(sync_store, conversation_id="nightly")
    def job(n: int) -> int:
        with otel_tracer().start_as_current_span(f"job {n}"):
            return n * 2

    @tracer.record(async_store)
    async def async_job() -> str:
        async def child() -> None:
            with otel_tracer().start_as_current_span("in a task the job started"):
                await asyncio.sleep(0)

        await asyncio.gather(child(), child())
        return "done"

    assert job(1) == 2
    assert job(2) == 4
    assert asyncio.run(async_job()) == "done"

    assert sync_store.query("SELECT name, conversation_id FROM spans ORDER BY name").rows == [
        ("job 1", "nightly"),
        ("job 2", "nightly"),
    ]
    assert async_store.query("SELECT count(*) FROM spans").rows == [(2,)]


def test_bare_decorator_uses_the_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_STORE", str(tmp_path / "default.duckdb"))

    @tracer.record
    def work() -> None:
        with otel_tracer().start_as_current_span("bare"):
            pass

    work()
    assert Store().query("SELECT name FROM spans").rows == [("bare",)]


def test_nested_blocks_record_into_the_inner_store(tmp_path: Path) -> None:
    outer, inner = Store(tmp_path / "outer.duckdb"), Store(tmp_path / "inner.duckdb")
    with tracer.record(outer, conversation_id="outer-conv"):
        with otel_tracer().start_as_current_span("outer span"):
            pass
        with tracer.record(inner):
            assert current_conversation_id.get() == "outer-conv"
            with otel_tracer().start_as_current_span("inner span"):
                pass
    assert outer.query("SELECT name FROM spans").rows == [("outer span",)]
    assert inner.query("SELECT name, conversation_id FROM spans").rows == [
        ("inner span", "outer-conv")
    ]


async def test_an_instrumentation_on_the_global_provider_is_recorded(store: Store) -> None:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument()  # at start-up, on the global provider, as its README has it
    try:
        with tracer.record(store, conversation_id="oi-conv"):
            result = await run_support(group_id=None)
    finally:
        instrumentor.uninstrument()
    sources = store.query("SELECT DISTINCT source FROM spans WHERE op <> 'other'").rows
    assert sorted(sources) == [("openai_agents",), ("openinference",)]
    # Both producers recorded the run; each of them tells it the way the run items do.
    for trace_id, _ in store.query("SELECT trace_id, 1 FROM spans GROUP BY trace_id").rows:
        assert recorded(store, trace_id) == expected_from(result)
    assert store.query("SELECT DISTINCT conversation_id FROM spans").rows == [("oi-conv",)]


async def test_a_baton_runner_run_in_the_block(store: Store) -> None:
    billing = tracer.Agent(
        name="Billing", model=tracer.ScriptedModel([tracer.ModelResponse(content="Paid.")])
    )
    triage = tracer.Agent(
        name="Triage",
        handoffs=[billing],
        model=tracer.ScriptedModel(
            [tracer.ModelResponse(tool_calls=[tracer.ToolCall("c1", "transfer_to_billing", "{}")])]
        ),
    )
    with tracer.record(store, conversation_id="runner-conv"):
        result = await tracer.Runner.run(triage, "Is it paid?")
    assert result.conversation_id == "runner-conv"
    assert store.query("SELECT from_agent, to_agent FROM handoffs").rows == [("Triage", "Billing")]
    assert store.query(
        "SELECT DISTINCT conversation_id, source FROM spans WHERE op <> 'other'"
    ).rows == [("runner-conv", "baton")]
