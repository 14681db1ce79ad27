"""The store's views answer the questions DESIGN.md promises, from real OTel spans."""

from __future__ import annotations

import json

from opentelemetry import trace
from spanmaker import SpanMaker, ping_pong_run

from tracer.store import Store


def rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    return store.query(sql).rows


def test_handoffs_turns_and_tool_calls_of_a_support_run(store: Store) -> None:
    maker = SpanMaker(store)
    with maker.workflow("conv-1"):
        with maker.agent("Triage"):
            maker.chat()
            maker.handoff("Billing")
        with maker.agent("Billing"):
            maker.chat()
            maker.tool("lookup_invoice", arguments='{"id": "A-1"}', result='{"total": 42}')
            maker.chat()
            with maker.agent_tool("ask_refunds_policy", "Policy"), maker.agent("Policy"):
                maker.chat(final=True)
            maker.chat()
            maker.handoff("Refunds")
        with maker.agent("Refunds"):
            maker.chat(final=True, input_tokens=100, output_tokens=7)
    maker.close()

    assert rows(store, "SELECT seq, turn, from_agent, to_agent FROM handoffs ORDER BY seq") == [
        (1, 1, "Triage", "Billing"),
        (2, 5, "Billing", "Refunds"),
    ]
    assert rows(
        store, "SELECT turn, agent_name, input_tokens, output_tokens FROM turns ORDER BY turn"
    ) == [
        (1, "Triage", 10, 5),
        (2, "Billing", 10, 5),
        (3, "Billing", 10, 5),
        (4, "Policy", 10, 5),
        (5, "Billing", 10, 5),
        (6, "Refunds", 100, 7),
    ]
    calls = rows(
        store,
        "SELECT turn, agent_name, tool_name, call_id, arguments, result, is_agent, status "
        "FROM tool_calls ORDER BY started_at",
    )
    assert calls == [
        (
            2,
            "Billing",
            "lookup_invoice",
            "call_lookup_invoice",
            '{"id": "A-1"}',
            '{"total": 42}',
            False,
            "unset",
        ),
        (3, "Billing", "ask_refunds_policy", "call_ask_refunds_policy", None, None, True, "unset"),
    ]
    # The agent used as a tool is a tool call, not a transfer of control.
    assert rows(store, "SELECT count(*) FROM handoffs WHERE to_agent = 'Policy'") == [(0,)]
    conversation = rows(
        store,
        "SELECT conversation_id, n_traces, n_turns, n_handoffs, n_tool_calls, agents, has_loop, "
        "has_error FROM conversations",
    )
    assert conversation == [
        ("conv-1", 1, 6, 2, 2, ["Triage", "Billing", "Policy", "Refunds"], False, False)
    ]
    # Every span, nested ones included, carries the conversation of its trace.
    assert rows(store, "SELECT DISTINCT conversation_id FROM spans") == [("conv-1",)]


def test_runs_sharing_a_conversation_id_are_one_conversation(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], conversation_id="shared")
    ping_pong_run(maker, [("Billing", "Triage")], conversation_id="shared")
    ping_pong_run(maker, [("Triage", "Refunds")])
    maker.close()

    by_conversation = rows(
        store,
        "SELECT conversation_id, n_traces, n_handoffs FROM conversations ORDER BY n_traces DESC",
    )
    assert by_conversation[0] == ("shared", 2, 2)
    # A trace without a conversation id is its own conversation, named by its trace id.
    lone_id, lone_traces, _ = by_conversation[1]
    assert lone_traces == 1
    assert rows(store, f"SELECT count(*) FROM spans WHERE trace_id = '{lone_id}'")[0][0] == 6
    # seq and turn restart in each trace.
    seqs = rows(store, "SELECT trace_id, seq, turn FROM handoffs WHERE conversation_id = 'shared'")
    assert sorted((seq, turn) for _, seq, turn in seqs) == [(1, 1), (1, 1)]


def test_ping_pong_is_a_loop_and_tool_calls_break_it(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(
        maker,
        [
            ("Triage", "Billing"),
            ("Billing", "Triage"),
            ("Triage", "Billing"),
            ("Billing", "Triage"),
        ],
        conversation_id="looping",
    )
    # The same hops with a real tool call in the middle: progress, not a loop.
    with maker.workflow("progress"):
        for index, (agent, target) in enumerate(
            [("Triage", "Billing"), ("Billing", "Triage"), ("Triage", "Billing")]
        ):
            with maker.agent(agent):
                maker.chat()
                if index == 1:
                    maker.tool("lookup_invoice")
                maker.handoff(target)
    maker.close()

    assert rows(
        store,
        "SELECT conversation_id, agents, first_seq, last_seq, handoffs, first_turn, last_turn FROM loops",
    ) == [("looping", ["Triage", "Billing"], 1, 4, 4, 1, 4)]
    assert rows(store, "SELECT conversation_id, has_loop FROM conversations ORDER BY 1") == [
        ("looping", True),
        ("progress", False),
    ]


def test_loop_threshold_is_a_store_setting(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("A", "B"), ("B", "A"), ("A", "B")], conversation_id="three")
    maker.close()
    assert rows(store, "SELECT handoffs FROM loops") == [(3,)]
    with store.write_connection() as con:
        con.execute("UPDATE baton_settings SET value = '4' WHERE key = 'loop.two_cycle_handoffs'")
    assert rows(store, "SELECT count(*) FROM loops") == [(0,)]


def test_errors_mark_the_conversation(store: Store) -> None:
    maker = SpanMaker(store)
    with maker.workflow("failing"), maker.agent("Billing"):
        maker.chat()
        maker.tool("charge_card", error="ValueError")
        maker.chat(final=True)
    maker.close()
    assert rows(store, "SELECT tool_name, status, error_type FROM tool_calls") == [
        ("charge_card", "error", "ValueError")
    ]
    assert rows(store, "SELECT has_error FROM conversations") == [(True,)]


def test_children_recorded_before_their_parents_are_resolved_later(store: Store) -> None:
    """BatchSpanProcessor exports children before the parents that enclose them; the agent
    name and conversation id arrive with the parent, possibly in a later segment."""
    maker = SpanMaker(store)
    with maker.workflow("late-parent"), maker.agent("Billing"):
        maker.chat()
        maker.tool("lookup_invoice")
        store.absorb()  # the children are in the database before their parents exist
        assert rows(store, "SELECT count(*) FROM spans WHERE agent_name IS NULL") == [(2,)]
    maker.close()
    assert rows(store, "SELECT agent_name, conversation_id FROM tool_calls") == [
        ("Billing", "late-parent")
    ]
    assert rows(store, "SELECT agent_name FROM turns") == [("Billing",)]


def test_a_tool_stored_before_the_agent_it_ran_becomes_an_agent_tool(store: Store) -> None:
    """The Agents SDK records ``agent.as_tool()`` as a plain function span with the nested
    run under it. When the nested agent's span arrives after the tool's was stored, the
    stored tool is completed then: an agent tool, calling that agent, from its caller."""
    maker = SpanMaker(store)
    with maker.workflow("late-agent"), maker.agent("Manager"):
        tool = maker.tracer.start_span(
            "execute_tool ask_policy",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "ask_policy"},
        )
        nested = maker.tracer.start_span(
            "invoke_agent Policy",
            context=trace.set_span_in_context(tool),
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Policy"},
        )
        tool.end()
        store.absorb()
        assert rows(store, "SELECT op FROM spans WHERE tool_name = 'ask_policy'") == [("tool",)]
        nested.end()
    maker.close()
    assert rows(store, "SELECT agent_name, tool_name, is_agent FROM tool_calls") == [
        ("Manager", "ask_policy", True)
    ]
    assert rows(store, "SELECT from_agent, to_agent FROM spans WHERE tool_name = 'ask_policy'") == [
        ("Manager", "Policy")
    ]


def test_span_whose_parent_never_arrives_is_kept(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], conversation_id="whole")
    maker.close()
    table_rows = store.query("SELECT * FROM spans WHERE op = 'handoff'")
    orphan = dict(zip(table_rows.columns, table_rows.rows[0], strict=True))
    from tracer.capture.spanrows import SpanRows

    batch = SpanRows()
    batch.add(
        trace_id="ab" * 16,
        span_id="cd" * 8,
        parent_span_id="ef" * 8,  # never recorded
        name="execute_tool transfer_to_refunds",
        kind="internal",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_100_000_000,
        attributes=json.loads(str(orphan["attributes"])),
    )
    store.write_segment(batch.to_arrow())
    found = rows(
        store,
        "SELECT conversation_id, from_agent, to_agent FROM handoffs WHERE trace_id = '"
        + "ab" * 16
        + "'",
    )
    assert found == [("ab" * 16, None, "Billing")]
    assert rows(store, "SELECT count(*) FROM handoffs") == [(2,)]


def test_a_tool_call_belongs_to_the_turn_that_asked_for_it(store: Store) -> None:
    """Agents called as tools in one response run one after the other in time, each with
    its own model calls; every call still belongs to the manager's turn that made it."""
    maker = SpanMaker(store)
    with maker.workflow("manager"), maker.agent("Manager"):
        maker.chat()
        with maker.agent_tool("ask_billing", "Billing"), maker.agent("Billing"):
            maker.chat()
            maker.tool("lookup_invoice")
            maker.chat(final=True)
        with maker.agent_tool("ask_technical", "Technical"), maker.agent("Technical"):
            maker.chat(final=True)
        maker.chat(final=True)
    maker.close()
    assert rows(store, "SELECT tool_name, turn FROM tool_calls ORDER BY started_at") == [
        ("ask_billing", 1),
        ("lookup_invoice", 2),
        ("ask_technical", 1),
    ]
