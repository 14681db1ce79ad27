"""``replay.load_conversation`` reads real OpenTelemetry spans back turn by turn."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from opentelemetry.trace import Status, StatusCode
from spanmaker import SpanMaker, ping_pong_run

import replay
from replay import Message, MessagePart, NotFoundError, StepContent, load_conversation
from tracer.capture.spanrows import SpanRows
from tracer.loops import LoopSettings
from tracer.store import Store, StoreError
from tracer.store.schema import migrate


def text(role: str, content: str) -> dict[str, object]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def support_run(
    maker: SpanMaker, conversation_id: str = "conv-1", question: str = "refund?"
) -> None:
    """Triage hands to Billing, which looks up an invoice, asks Policy (an agent used as a
    tool, which itself calls a tool), then hands to Refunds, which answers."""
    with maker.workflow(conversation_id):
        with maker.agent("Triage"):
            maker.chat(
                system="You route.",
                input_messages=[text("user", question)],
                output_messages=[
                    {
                        "role": "assistant",
                        "parts": [
                            {
                                "type": "tool_call",
                                "id": "c1",
                                "name": "transfer_to_billing",
                                "arguments": {},
                            }
                        ],
                        "finish_reason": "tool_calls",
                    }
                ],
            )
            maker.handoff("Billing")
        with maker.agent("Billing"):
            maker.chat(input_messages=[text("user", question)])
            maker.tool("lookup_invoice", arguments='{"id": "A-1"}', result='{"total": 42}')
            maker.chat()
            with maker.agent_tool("ask_policy", "Policy"), maker.agent("Policy"):
                maker.chat()
                maker.tool("read_policy", arguments='{"section": 4}', result="30 days")
                maker.chat(
                    final=True, output_messages=[text("assistant", "Refunds within 30 days.")]
                )
            maker.chat()
            maker.handoff("Refunds")
        with maker.agent("Refunds"):
            maker.chat(
                final=True,
                input_tokens=100,
                output_tokens=7,
                output_messages=[{**text("assistant", "Refund issued."), "finish_reason": "stop"}],
            )


def test_a_run_reads_back_turn_by_turn(store: Store) -> None:
    maker = SpanMaker(store)
    support_run(maker)
    maker.close()

    conversation = load_conversation(store, "conv-1")

    assert conversation.agents == ("Triage", "Billing", "Policy", "Refunds")
    assert conversation.sources == ("baton",)
    assert [(s.index, s.turn, s.agent) for s in conversation.steps] == [
        (1, 1, "Triage"),
        (2, 2, "Billing"),
        (3, 3, "Billing"),
        (4, 6, "Billing"),
        (5, 7, "Refunds"),
    ]
    first, lookup, asks, hands, answer = conversation.steps
    assert first.handoff is not None
    assert (first.handoff.from_agent, first.handoff.to_agent, first.handoff.seq) == (
        "Triage",
        "Billing",
        1,
    )
    assert first.input_messages == (
        Message("system", (MessagePart("text", "You route."),)),
        Message("user", (MessagePart("text", "refund?"),)),
    )
    assert first.output_messages == (
        Message(
            "assistant",
            (MessagePart("tool_call", name="transfer_to_billing", call_id="c1", arguments="{}"),),
            finish_reason="tool_calls",
        ),
    )
    assert [(c.name, c.arguments, c.result, c.is_agent) for c in lookup.tool_calls] == [
        ("lookup_invoice", '{"id": "A-1"}', '{"total": 42}', False)
    ]
    (policy_call,) = asks.tool_calls
    assert (policy_call.name, policy_call.is_agent, policy_call.agent) == (
        "ask_policy",
        True,
        "Policy",
    )
    # The agent used as a tool: its own turns hang off the call, with their tool calls.
    assert [(s.turn, s.agent, s.index) for s in policy_call.nested] == [
        (4, "Policy", 3),
        (5, "Policy", 3),
    ]
    assert [c.name for c in policy_call.nested[0].tool_calls] == ["read_policy"]
    assert policy_call.nested[1].output_messages is not None
    assert policy_call.nested[1].output_messages[0].text == "Refunds within 30 days."
    assert hands.handoff is not None and hands.handoff.to_agent == "Refunds"
    assert hands.handoff.turn == 6
    assert answer.final_answer is True
    assert (answer.input_tokens, answer.output_tokens) == (100, 7)
    assert answer.output_messages is not None and answer.output_messages[0].text == "Refund issued."
    # Content the producer did not record is reported as such.
    assert hands.input_messages is None and hands.output_messages is None
    assert not hands.has_content
    assert [(t.seq, t.turn, t.from_agent, t.to_agent) for t in conversation.transitions] == [
        (1, 1, "Triage", "Billing"),
        (2, 6, "Billing", "Refunds"),
    ]
    assert conversation.loops == ()
    assert len(conversation.user_turns) == 1
    assert conversation.user_turns[0].text == "refund?"
    assert conversation.started_at is not None and conversation.ended_at is not None
    assert conversation.started_at <= first.started_at < conversation.ended_at


def test_the_steps_agree_with_the_store_views(store: Store) -> None:
    maker = SpanMaker(store)
    support_run(maker)
    maker.close()
    conversation = load_conversation(store, "conv-1")

    def all_steps(steps):  # type: ignore[no-untyped-def]
        for step in steps:
            yield step
            for call in step.tool_calls:
                yield from all_steps(call.nested)

    turns = sorted((s.turn, s.agent, s.span_id) for s in all_steps(conversation.steps))
    assert turns == [
        tuple(r)
        for r in store.query("SELECT turn, agent_name, span_id FROM turns ORDER BY turn").rows
    ]
    handoffs = [
        (t.seq, t.turn, t.from_agent, t.to_agent, t.span_id) for t in conversation.transitions
    ]
    assert handoffs == [
        tuple(r)
        for r in store.query(
            "SELECT seq, turn, from_agent, to_agent, span_id FROM handoffs ORDER BY seq"
        ).rows
    ]


def test_runs_of_one_conversation_are_grouped_by_user_turn(store: Store) -> None:
    maker = SpanMaker(store)
    support_run(maker, "conv-2", question="first question")
    with maker.workflow("conv-2"), maker.agent("Refunds"):
        maker.chat(
            final=True,
            input_messages=[
                text("user", "first question"),
                text("assistant", "Refund issued."),
                text("user", "thanks, when?"),
            ],
        )
    maker.close()

    conversation = load_conversation(store, "conv-2")

    assert len(conversation.trace_ids) == 2
    assert [(u.index, u.text, u.first_step, u.last_step) for u in conversation.user_turns] == [
        (1, "first question", 1, 5),
        (2, "thanks, when?", 6, 6),
    ]
    last = conversation.steps[-1]
    assert (last.index, last.turn, last.user_turn, last.trace_id) == (
        6,
        1,
        2,
        conversation.trace_ids[1],
    )


def test_a_trace_id_loads_that_run_alone_and_a_prefix_is_enough(store: Store) -> None:
    maker = SpanMaker(store)
    support_run(maker, "conv-3")
    with maker.workflow("conv-3"), maker.agent("Refunds"):
        maker.chat(final=True)
    maker.close()
    second = store.query(
        "SELECT trace_id FROM spans GROUP BY trace_id ORDER BY min(start_time) DESC LIMIT 1"
    ).rows[0][0]

    run = load_conversation(store, second)
    assert run.trace_ids == (second,)
    assert run.conversation_id == "conv-3"
    assert [s.agent for s in run.steps] == ["Refunds"]
    assert load_conversation(store, second[:10]).trace_ids == (second,)
    assert len(load_conversation(store, "conv-").trace_ids) == 2  # the only id starting so


def test_unknown_ids_name_the_store_searched(store: Store) -> None:
    maker = SpanMaker(store)
    support_run(maker, "conv-a")
    support_run(maker, "conv-b")
    maker.close()
    with pytest.raises(
        NotFoundError, match=re.escape(f"no conversation or trace 'nope' in {store.path}")
    ):
        load_conversation(store, "nope")
    with pytest.raises(NotFoundError, match=r"start of several ids.*conv-a.*conv-b"):
        load_conversation(store, "conv")
    missing = Store(store.path.with_name("missing.duckdb"))
    with pytest.raises(NotFoundError, match=re.escape(f"there is no store at {missing.path}")):
        load_conversation(missing, "conv-a")
    assert not missing.path.exists()  # looking did not create one


def test_loops_are_found_with_the_store_threshold_or_the_one_given(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(
        maker,
        [
            ("Triage", "Billing"),
            ("Billing", "Triage"),
            ("Triage", "Billing"),
            ("Billing", "Triage"),
        ],
        "loop",
    )
    maker.close()

    conversation = load_conversation(store, "loop")

    (found,) = conversation.loops
    assert found.loop.agents == ("Triage", "Billing")
    assert (found.loop.first_seq, found.loop.last_seq, found.loop.handoffs) == (1, 4, 4)
    assert (found.first_step, found.last_step) == (1, 4)
    assert found.describe() == "Triage ⇄ Billing ×4 · turns 1–4"
    view = store.query(
        "SELECT agents, first_seq, last_seq, handoffs, first_turn, last_turn FROM loops"
    ).rows
    assert view == [(list(found.loop.agents), 1, 4, 4, found.loop.first_turn, found.loop.last_turn)]

    assert (
        load_conversation(store, "loop", loop_settings=LoopSettings(two_cycle_handoffs=5)).loops
        == ()
    )
    with store.write_connection() as con:
        con.execute("UPDATE baton_settings SET value = '5' WHERE key = 'loop.two_cycle_handoffs'")
    assert load_conversation(store, "loop").loops == ()
    assert store.query("SELECT count(*) FROM loops").rows == [(0,)]


def test_failures_are_listed_with_the_step_they_belong_to(store: Store) -> None:
    maker = SpanMaker(store)
    with maker.workflow("errors"), maker.agent("Billing") as agent:
        maker.chat()
        maker.tool("charge_card", result="Error: declined", error="ValueError")
        maker.chat(error="ModelError")
        agent.set_attribute("error.type", "ModelError")
        agent.set_status(Status(StatusCode.ERROR, "ModelError: the model failed"))
    maker.close()

    conversation = load_conversation(store, "errors")

    charge = conversation.steps[0].tool_calls[0]
    assert (charge.status, charge.error_type) == ("error", "ValueError")
    assert [(e.turn, e.kind, e.where) for e in conversation.errors] == [
        (1, "ValueError", "execute_tool charge_card"),
        (2, "ModelError", "chat gpt-test"),
    ]  # the agent span failing with the model's error is the same failure
    assert [e.kind for e in conversation.steps[0].errors] == ["ValueError"]
    assert conversation.steps[1].status == "error"


def test_content_that_is_cut_or_odd_reads_as_text_not_a_crash(store: Store) -> None:
    rows = SpanRows()
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "a very long',
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "content": "plain content"}, "stray"]
        ),
    }
    rows.add(
        trace_id="ab" * 16,
        span_id="01" * 8,
        parent_span_id=None,
        name="chat",
        kind="client",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_100_000_000,
        attributes=attributes,
    )
    store.ingest(rows.to_arrow())

    (step,) = load_conversation(store, "ab" * 16).steps

    assert step.input_messages is not None
    assert step.input_messages[0].role == "unknown"
    assert step.input_messages[0].text.startswith('[{"role": "user"')
    assert step.output_messages is not None
    assert [m.text for m in step.output_messages] == ["plain content", "stray"]


def test_spans_of_unknown_producers_load_without_steps(store: Store) -> None:
    rows = SpanRows()
    rows.add(
        trace_id="cd" * 16,
        span_id="02" * 8,
        parent_span_id=None,
        name="GET /",
        kind="server",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_001_000_000_000,
        attributes={"http.method": "GET"},
    )
    store.ingest(rows.to_arrow())
    conversation = load_conversation(store, "cd" * 16)
    assert conversation.steps == () and conversation.sources == ("unknown",)


def test_steps_built_by_hand_carry_their_messages() -> None:
    content = StepContent(input=[Message("user", (MessagePart("text", "hi"),))], output=None)
    assert content.input == (Message("user", (MessagePart("text", "hi"),)),)
    assert content.output is None
    assert content == StepContent(input=(Message("user", (MessagePart("text", "hi"),)),))


def test_a_store_from_an_older_baton_is_upgraded_when_read(store: Store) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(store.path))
    migrate(con, upto=1)
    con.execute(
        "INSERT INTO spans (trace_id, span_id, name, start_time, op, agent_name, conversation_id, source) "
        "VALUES ('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b7', 'chat', now(), 'chat', 'Triage', 'old', 'baton')"
    )
    con.close()
    conversation = load_conversation(store, "old")
    assert [s.agent for s in conversation.steps] == ["Triage"]


def test_an_older_store_another_program_holds_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, upto=1)
    con.close()
    # Another process reading the file keeps us from upgrading it (DuckDB's file lock).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}, read_only=True); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="older baton and could not be upgraded") as caught:
            load_conversation(Store(path, lock_timeout=0.2), "anything")
        assert str(path) in str(caught.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_every_conversation_of_a_varied_store_agrees_with_the_views(store: Store) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        from synth import many_conversations
    finally:
        sys.path.pop(0)
    many_conversations(store, 1000)

    def grouped(sql: str) -> dict[str, list[tuple[object, ...]]]:
        out: dict[str, list[tuple[object, ...]]] = {}
        for cid, *rest in store.query(sql).rows:
            out.setdefault(cid, []).append(tuple(rest))
        return out

    handoffs = grouped(
        "SELECT conversation_id, seq, turn, from_agent, to_agent FROM handoffs ORDER BY trace_id, seq"
    )
    loops = grouped(
        "SELECT conversation_id, agents, first_seq, last_seq, handoffs, first_turn, last_turn FROM loops ORDER BY trace_id, first_seq"
    )
    summaries = grouped(
        "SELECT conversation_id, n_turns, n_tool_calls, has_error FROM conversations"
    )
    assert sum(1 for rows in loops.values() if rows) > 5  # the store has loops to compare
    for cid, ((n_turns, n_tool_calls, has_error),) in summaries.items():
        conversation = load_conversation(store, cid)
        assert len(conversation.steps) == n_turns
        assert sum(len(s.tool_calls) for s in conversation.steps) == n_tool_calls
        assert bool(conversation.errors) == has_error
        assert [
            (t.seq, t.turn, t.from_agent, t.to_agent) for t in conversation.transitions
        ] == handoffs.get(cid, [])
        found = [
            (
                list(x.loop.agents),
                x.loop.first_seq,
                x.loop.last_seq,
                x.loop.handoffs,
                x.loop.first_turn,
                x.loop.last_turn,
            )
            for x in conversation.loops
        ]
        assert found == loops.get(cid, [])


def test_a_run_of_the_runner_reads_back_with_its_messages(store: Store, tmp_path: Path) -> None:
    from replay_runs import QUESTION, record_run, support_script, write_agents

    trace_id = record_run(store, write_agents(tmp_path, "agents_read"), support_script())
    conversation = load_conversation(store, trace_id)

    assert [s.agent for s in conversation.steps] == [
        "Triage",
        "Billing",
        "Billing",
        "Billing",
        "Refunds",
    ]
    triage, lookup, asks, hands, refunds = conversation.steps
    assert triage.input_messages == (
        Message("system", (MessagePart("text", "Route the user."),)),
        Message("user", (MessagePart("text", QUESTION),)),
    )
    assert triage.model == "gpt-test-1"
    # What a tool returned is in the next call's input, as a tool_call_response part.
    assert asks.input_messages is not None
    result = asks.input_messages[-1]
    assert result.role == "tool"
    assert result.parts[0].type == "tool_call_response" and result.parts[0].call_id == "t1"
    assert json.loads(result.parts[0].content or "") == {"order_id": 7, "amount": 42.0}
    assert lookup.tool_calls[0].result == result.parts[0].content
    (policy,) = asks.tool_calls
    assert policy.is_agent and [s.agent for s in policy.nested] == ["Policy"]
    assert policy.result == "30 days."
    assert hands.handoff is not None and hands.handoff.to_agent == "Refunds"
    assert (
        refunds.output_messages is not None
        and refunds.output_messages[0].text == "Refunded 42.00 EUR."
    )
    assert (lookup.input_tokens, lookup.output_tokens) == (20, 4)
    assert conversation.user_turns[0].text == QUESTION


def test_span_record_gives_every_stored_attribute(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], conversation_id="attrs")
    maker.close()
    handoff = store.query("SELECT trace_id, span_id FROM handoffs").rows[0]
    record = replay.span_record(store, *handoff)
    assert record.name == "execute_tool transfer_to_billing Billing"
    assert record.attributes["gen_ai.transfer.target.name"] == "Billing"
    assert record.source == "baton"
    with pytest.raises(replay.NotFoundError, match="no span 0000000000000000"):
        replay.span_record(store, handoff[0], "0000000000000000")
