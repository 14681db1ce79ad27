"""The Agents SDK processor: real SDK workflows on ScriptedModel, checked through the views."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    Runner,
    function_tool,
    input_guardrail,
    trace,
)
from agents.testing import ScriptedModel, assistant_message, function_call
from agents.tracing import Span, Trace, TracingProcessor, get_trace_provider, set_trace_processors
from agents.tracing.processors import default_processor
from sdk_workflow import expected_from, recorded, run_support

import tracer.agents_sdk as agents_sdk
from tracer.capture.importing import import_files
from tracer.capture.sdk_spans import span_hex, trace_hex
from tracer.store import Store

pytestmark = pytest.mark.usefixtures("sdk_processors")


def processors() -> list[Any]:
    return list(get_trace_provider()._multi_processor._processors)  # type: ignore[attr-defined]


async def test_processor_records_handoffs_and_tool_calls_as_the_run_items_say(
    store: Store,
) -> None:
    agents_sdk.install(store)
    result = await run_support()

    want = expected_from(result)
    assert want.handoffs == [("Triage", "Billing"), ("Billing", "Refunds")]
    assert recorded(store) == want
    conversation = store.query(
        "SELECT conversation_id, n_traces, n_handoffs, n_tool_calls, agents, has_error "
        "FROM conversations"
    ).rows
    assert conversation == [
        ("conv-support", 1, 2, 2, ["Triage", "Billing", "Refunds", "Researcher"], False)
    ]
    root = store.query("SELECT name, op, source FROM spans WHERE parent_span_id IS NULL").rows
    assert root == [("support", "workflow", "openai_agents")]
    # The nested Researcher run hangs under the tool span that called it.
    nested = store.query(
        """
        WITH RECURSIVE up(span_id, parent, depth) AS (
            SELECT span_id, parent_span_id, 0 FROM spans WHERE op = 'agent'
                AND agent_name = 'Researcher'
            UNION ALL
            SELECT u.span_id, s.parent_span_id, depth + 1 FROM up u
            JOIN spans s ON s.span_id = u.parent WHERE s.op <> 'agent_tool'
        )
        SELECT t.tool_name FROM up JOIN spans t ON t.span_id = up.parent
        WHERE t.op = 'agent_tool'
        """
    ).rows
    assert nested == [("ask_researcher",)]


async def test_sdk_ids_map_to_store_ids_and_keep_the_originals(store: Store) -> None:
    agents_sdk.install(store)
    seen: list[dict[str, Any]] = []

    class Keep(TracingProcessor):
        def on_trace_start(self, trace: Trace) -> None: ...
        def on_trace_end(self, trace: Trace) -> None: ...
        def on_span_start(self, span: Span[Any]) -> None: ...
        def on_span_end(self, span: Span[Any]) -> None:
            seen.append(span.export() or {})

        def shutdown(self) -> None: ...
        def force_flush(self) -> None: ...

    set_trace_processors([*processors(), Keep()])
    await run_support()
    handoff = next(s for s in seen if s["span_data"]["type"] == "handoff")
    row = store.query(
        "SELECT trace_id, span_id, parent_span_id, attributes->>'openai_agents.span_id' "
        "FROM spans WHERE op = 'handoff' ORDER BY start_time LIMIT 1"
    ).rows[0]
    assert row == (
        trace_hex(handoff["trace_id"]),
        span_hex(handoff["id"]),
        span_hex(handoff["parent_id"]),
        handoff["id"],
    )
    assert row[0] == handoff["trace_id"].removeprefix("trace_")


async def test_openai_dashboard_export_is_off_unless_kept(store: Store) -> None:
    set_trace_processors([default_processor()])
    processor = agents_sdk.install(store)
    assert processors() == [processor]
    assert agents_sdk.install(store) is processor  # installing again changes nothing

    set_trace_processors([default_processor()])
    kept = agents_sdk.install(store, keep_openai_export=True)
    assert processors() == [default_processor(), kept]


async def test_max_turns_exceeded_shows_on_the_trace_and_the_ping_pong_is_a_loop(
    store: Store,
) -> None:
    agents_sdk.install(store)
    back = [[function_call("transfer_to_billing", {}, call_id=f"b{i}")] for i in range(4)]
    forth = [[function_call("transfer_to_triage", {}, call_id=f"t{i}")] for i in range(4)]
    triage = Agent(name="Triage", model=ScriptedModel(back, emit_traces=True))
    billing = Agent(name="Billing", model=ScriptedModel(forth, emit_traces=True))
    triage.handoffs = [billing]
    billing.handoffs = [triage]

    with pytest.raises(MaxTurnsExceeded), trace("ping-pong", group_id="conv-loop"):
        await Runner.run(triage, "help", max_turns=4)

    conversation = store.query(
        "SELECT n_handoffs, has_error, has_loop FROM conversations WHERE conversation_id = ?",
        ["conv-loop"],
    ).rows
    assert conversation == [(4, True, True)]
    errors = store.query("SELECT op, agent_name, error_type FROM spans WHERE status = 'error'").rows
    assert errors == [("agent", "Triage", "Max turns exceeded")]
    loop = store.query("SELECT agents, handoffs FROM loops").rows
    assert loop == [(["Triage", "Billing"], 4)]


async def test_a_raising_tool_is_an_error_result_and_a_guardrail_is_recorded(
    store: Store,
) -> None:
    agents_sdk.install(store)

    @function_tool
    def flaky(order: str) -> str:
        """Always fails."""
        raise RuntimeError(f"backend down for {order}")

    @input_guardrail
    def polite(ctx: Any, agent: Agent[Any], text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    agent = Agent(
        name="Orders",
        tools=[flaky],
        input_guardrails=[polite],
        model=ScriptedModel(
            [
                [function_call("flaky", {"order": "42"}, call_id="f1")],
                [assistant_message("Sorry, try later")],
            ],
            emit_traces=True,
        ),
    )
    result = await Runner.run(agent, "where is order 42?")
    assert result.final_output == "Sorry, try later"

    calls = store.query("SELECT tool_name, status, error_type, result FROM tool_calls").rows
    assert len(calls) == 1
    name, status, error_type, output = calls[0]
    assert (name, status) == ("flaky", "error")
    assert error_type.startswith("Error running tool")
    assert output == str(next(i.output for i in result.new_items if hasattr(i, "output")))
    guardrails = store.query("SELECT name, agent_name FROM spans WHERE op = 'guardrail'").rows
    assert guardrails == [("guardrail polite", "Orders")]


async def test_a_tripped_guardrail_leaves_an_error_on_the_trace(store: Store) -> None:
    agents_sdk.install(store)

    @input_guardrail
    def refuse(ctx: Any, agent: Agent[Any], text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info="no", tripwire_triggered=True)

    agent = Agent(name="Gate", input_guardrails=[refuse], model=ScriptedModel([]))
    with pytest.raises(InputGuardrailTripwireTriggered), trace("gate", group_id="conv-gate"):
        await Runner.run(agent, "hi")
    rows = store.query(
        "SELECT attributes->>'openai_agents.data.triggered' FROM spans WHERE op = 'guardrail'"
    ).rows
    assert rows == [("true",)]
    errors = store.query("SELECT agent_name, error_type FROM spans WHERE status = 'error'")
    assert errors.rows == [("Gate", "Guardrail tripwire triggered")]
    has_error = store.query(
        "SELECT has_error FROM conversations WHERE conversation_id = ?", ["conv-gate"]
    ).rows
    assert has_error == [(True,)]


class JsonlExport(TracingProcessor):
    """What a user writes to keep SDK traces as JSONL: export() per line."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8")

    def on_trace_start(self, trace: Trace) -> None:
        self.handle.write(json.dumps(trace.export()) + "\n")

    def on_trace_end(self, trace: Trace) -> None: ...
    def on_span_start(self, span: Span[Any]) -> None: ...
    def on_span_end(self, span: Span[Any]) -> None:
        self.handle.write(json.dumps(span.export(), default=str) + "\n")

    def shutdown(self) -> None:
        self.handle.close()

    def force_flush(self) -> None:
        self.handle.flush()


async def test_sdk_jsonl_import_gives_the_same_store_as_the_live_processor(
    tmp_path: Path, store: Store
) -> None:
    exported = tmp_path / "sdk.jsonl"
    writer = JsonlExport(exported)
    set_trace_processors([writer])
    agents_sdk.install(store)
    result = await run_support()
    writer.shutdown()

    imported = Store(tmp_path / "imported.duckdb")
    summary = import_files(imported, [exported], report=pytest.fail)
    assert summary.spans_added == store.query("SELECT count(*) FROM spans").rows[0][0]
    assert recorded(imported) == expected_from(result)
    columns = "trace_id, span_id, parent_span_id, name, op, agent_name, conversation_id"
    same = f"SELECT {columns} FROM spans ORDER BY span_id"
    assert imported.query(same).rows == store.query(same).rows


async def test_the_processor_never_raises_into_the_sdk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's folder should be")
    processor = agents_sdk.install(Store(blocker / "store.duckdb"))
    with caplog.at_level(logging.ERROR, logger="baton.agents_sdk"):
        result = await run_support()
        processor.force_flush()  # ended traces are written off the run's thread: now
    assert result.final_output == "Refund of 42 EUR issued"
    assert "could not record" in caplog.text


async def test_model_calls_keep_model_usage_content_and_the_tool_call_ids(
    store: Store,
) -> None:
    from agents import OpenAIChatCompletionsModel
    from openai import AsyncOpenAI
    from scripted_openai import scripted_openai, text_reply, tool_call_reply
    from sdk_workflow import lookup_invoice

    replies = [
        tool_call_reply("call_route", "transfer_to_billing", {}, (11, 5)),
        tool_call_reply("call_lookup", "lookup_invoice", {"invoice_id": "B7"}, (12, 6)),
        text_reply("Invoice B7 is paid.", (13, 7)),
    ]
    agents_sdk.install(store)
    with scripted_openai(replies) as (base_url, received):
        client = AsyncOpenAI(base_url=base_url, api_key="sk-test-0123456789abcdefghij")
        model = OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
        billing = Agent(name="Billing", model=model, tools=[lookup_invoice])
        triage = Agent(name="Triage", model=model, handoffs=[billing])
        result = await Runner.run(triage, "Is invoice B7 paid?")
    assert result.final_output == "Invoice B7 is paid."
    assert len(received) == 3

    turns = store.query(
        "SELECT agent_name, model, input_tokens, output_tokens FROM turns ORDER BY turn"
    ).rows
    assert turns == [
        ("Triage", "gpt-scripted", 11, 5),
        ("Billing", "gpt-scripted", 12, 6),
        ("Billing", "gpt-scripted", 13, 7),
    ]
    finals = store.query("SELECT final_answer FROM spans WHERE op = 'chat' ORDER BY start_time")
    assert finals.rows == [(False,), (False,), (True,)]
    calls = store.query("SELECT tool_name, call_id, arguments, result FROM tool_calls").rows
    assert calls == [("lookup_invoice", "call_lookup", '{"invoice_id": "B7"}',
                      "invoice B7: 42 EUR, paid")]  # fmt: skip
    contents = store.query(
        "SELECT attributes->>'openai_agents.data.input', attributes->>'openai_agents.data.output'"
        " FROM spans WHERE op = 'chat' ORDER BY start_time LIMIT 1"
    ).rows[0]
    assert "Is invoice B7 paid?" in contents[0]
    assert "transfer_to_billing" in contents[1]
    everything = store.query("SELECT string_agg(attributes::VARCHAR, ' ') FROM spans").rows[0][0]
    assert "sk-test-0123456789" not in everything


async def test_content_capture_off_leaves_inputs_and_outputs_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracer.capture.config import settings

    monkeypatch.setattr(settings, "capture_content", False)
    agents_sdk.install(store)
    await run_support()
    kept = store.query(
        "SELECT count(*) FROM spans WHERE tool_arguments IS NOT NULL OR tool_result IS NOT NULL"
    ).rows
    assert kept == [(0,)]
    assert store.query("SELECT count(*) FROM tool_calls").rows == [(2,)]


async def test_a_long_trace_is_written_while_it_runs(store: Store) -> None:
    processor = agents_sdk.install(store)
    processor.flush_interval = 0.05
    seen: list[int] = []

    @function_tool
    async def slow_step() -> str:
        """Waits until the spans so far are readable."""
        for _ in range(400):  # up to 20 s; the flusher writes every 0.05 s
            count = store.query("SELECT count(*) FROM spans").rows[0][0]
            if count:
                seen.append(count)
                return "done"
            await asyncio.sleep(0.05)
        return "never written"

    agent = Agent(
        name="Worker",
        tools=[slow_step],
        model=ScriptedModel(
            [[function_call("slow_step", {}, call_id="s1")], [assistant_message("ok")]],
            emit_traces=True,
        ),
    )
    with trace("long job"):
        result = await Runner.run(agent, "go")
    assert result.new_items[1].output == "done"  # type: ignore[union-attr]
    assert seen and seen[0] >= 1
    # The spans written early and the rest written at the end make one whole trace.
    rows = store.query("SELECT count(*), count(DISTINCT trace_id) FROM spans").rows[0]
    assert rows[1] == 1
    assert store.query("SELECT count(*) FROM spans WHERE parent_span_id IS NULL").rows == [(1,)]


async def test_responses_api_calls_keep_model_usage_output_and_call_ids(store: Store) -> None:
    from agents import OpenAIResponsesModel
    from openai import AsyncOpenAI
    from scripted_openai import (
        function_call_item,
        message_item,
        response_reply,
        scripted_openai,
    )
    from sdk_workflow import lookup_invoice

    replies = [
        response_reply([function_call_item("call_r1", "transfer_to_billing", {})], (21, 3)),
        response_reply(
            [function_call_item("call_r2", "lookup_invoice", {"invoice_id": "C3"})], (22, 4)
        ),
        response_reply([message_item("C3 is paid.")], (23, 5)),
    ]
    agents_sdk.install(store)
    with scripted_openai(replies) as (base_url, received):
        client = AsyncOpenAI(base_url=base_url, api_key="sk-test-0123456789abcdefghij")
        model = OpenAIResponsesModel(model="gpt-scripted-responses", openai_client=client)
        billing = Agent(name="Billing", model=model, tools=[lookup_invoice])
        triage = Agent(name="Triage", model=model, handoffs=[billing])
        result = await Runner.run(triage, "Is invoice C3 paid?")
    assert result.final_output == "C3 is paid."
    assert len(received) == 3

    turns = store.query(
        "SELECT agent_name, model, input_tokens, output_tokens FROM turns ORDER BY turn"
    ).rows
    assert turns == [
        ("Triage", "gpt-scripted-responses", 21, 3),
        ("Billing", "gpt-scripted-responses", 22, 4),
        ("Billing", "gpt-scripted-responses", 23, 5),
    ]
    finals = store.query("SELECT final_answer FROM spans WHERE op = 'chat' ORDER BY start_time")
    assert finals.rows == [(False,), (False,), (True,)]
    assert recorded(store) == expected_from(result)
    calls = store.query("SELECT call_id FROM tool_calls").rows
    assert calls == [("call_r2",)]
    first_input = store.query(
        "SELECT attributes->>'openai_agents.data.input' FROM spans WHERE op = 'chat' "
        "ORDER BY start_time LIMIT 1"
    ).rows[0][0]
    assert "Is invoice C3 paid?" in first_input


async def test_a_model_that_leaves_its_spans_empty_is_named_not_content_capture(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ScriptedModel writes generation spans without input, output or model: the replay
    says that, not that content capture was off (which it says when it was)."""
    from replay import load_conversation
    from tracer.capture.config import settings

    agents_sdk.install(store)
    await run_support("conv-empty")
    monkeypatch.setattr(settings, "capture_content", False)
    await run_support("conv-off")
    empty = load_conversation(store, "conv-empty").steps
    off = load_conversation(store, "conv-off").steps
    assert {step.missing_content for step in empty} == {
        "the model left its generation span empty: no input, output or model "
        "(the SDK's ScriptedModel, or a custom Model, does this)"
    }
    assert {step.missing_content for step in off} == {
        "content capture was off when this run was recorded (BATON_CAPTURE_CONTENT)"
    }


async def test_segments_are_absorbed_in_the_background_only_once_many_wait(
    store: Store,
) -> None:
    processor = agents_sdk.install(store)
    processor.absorb_interval = 0  # consider absorbing after every segment written
    processor.absorb_from_segments = 3
    for written in (1, 2):
        await run_support(group_id=f"conv-{written}")
        processor.force_flush()
        for thread in threading.enumerate():  # an absorb, had one started, has finished
            if thread.name == "baton-absorb":
                thread.join()
        assert len(store.pending_segments()) == written  # left to readers, for now
    await run_support(group_id="conv-3")
    processor.force_flush()
    for _ in range(600):  # the absorb runs on a thread of its own
        if not store.pending_segments():
            break
        await asyncio.sleep(0.05)
    assert store.pending_segments() == []
    assert store.query("SELECT count(*) FROM conversations").rows == [(3,)]
