"""The conversation list, the agent graph and the change marker the TUI polls."""

from __future__ import annotations

import pytest
from spanmaker import SpanMaker, ping_pong_run
from test_replay_load import support_run

from replay import AgentEdge, agent_graph, list_conversations, load_conversation, store_version
from tracer.store import Store


@pytest.fixture
def three(store: Store) -> Store:
    maker = SpanMaker(store)
    support_run(maker, "support-1")
    ping_pong_run(
        maker, [("Triage", "Sales"), ("Sales", "Triage"), ("Triage", "Sales")], "looping-2"
    )
    with maker.workflow("failing-3"), maker.agent("Technical"):
        maker.chat()
        maker.tool("reboot", error="TimeoutError")
        maker.chat(final=True)
    maker.close()
    return store


def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.conversation_id for row in page.rows]


def test_filters_sorting_and_pages(three: Store) -> None:
    everything = list_conversations(three)
    assert ids(everything) == ["failing-3", "looping-2", "support-1"]  # newest first
    assert everything.total == 3
    support = everything.rows[2]
    assert (support.n_turns, support.n_handoffs, support.n_tool_calls, support.n_traces) == (
        7,
        2,
        3,
        1,
    )
    assert support.agents == ("Triage", "Billing", "Policy", "Refunds")
    assert not support.has_loop and not support.has_error and support.duration_ms is not None

    assert ids(list_conversations(three, text="LOOKUP_inv")) == ["support-1"]  # a tool name
    assert ids(list_conversations(three, text="sales")) == ["looping-2"]  # an agent name
    assert ids(list_conversations(three, text="ing-3")) == ["failing-3"]  # the id
    assert ids(list_conversations(three, text="100%")) == []  # no pattern characters
    assert ids(list_conversations(three, agent="Triage")) == ["looping-2", "support-1"]
    # Any case, the start of a name (issue #15: agent:billing found nothing).
    assert ids(list_conversations(three, agent="triage")) == ["looping-2", "support-1"]
    assert ids(list_conversations(three, agent="TRI")) == ["looping-2", "support-1"]
    assert ids(list_conversations(three, agent="riage")) == []
    assert ids(list_conversations(three, only_loops=True)) == ["looping-2"]
    assert ids(list_conversations(three, only_errors=True)) == ["failing-3"]
    assert ids(list_conversations(three, sort="n_turns", descending=False)) == [
        "failing-3",
        "looping-2",
        "support-1",
    ]

    page = list_conversations(three, agent="Triage", offset=1, limit=1)
    assert ids(page) == ["support-1"] and page.total == 2
    assert list_conversations(three, offset=10).rows == ()
    with pytest.raises(ValueError, match="cannot sort by 'name; drop table'"):
        list_conversations(three, sort="name; drop table")


def test_agent_graph_counts_handoffs_and_agent_tools(three: Store) -> None:
    support = load_conversation(three, "support-1")
    graph = agent_graph(support)
    assert graph.agents == ("Triage", "Billing", "Policy", "Refunds")
    assert set(graph.edges) == {
        AgentEdge("Triage", "Billing", "handoff", 1),
        AgentEdge("Billing", "Policy", "agent_tool", 1),
        AgentEdge("Billing", "Refunds", "handoff", 1),
    }
    early = agent_graph(support, upto_step=2)
    assert early.agents == ("Triage", "Billing")
    assert early.edges == (AgentEdge("Triage", "Billing", "handoff", 1),)

    looping = agent_graph(load_conversation(three, "looping-2"))
    assert set(looping.edges) == {
        AgentEdge("Triage", "Sales", "handoff", 2),
        AgentEdge("Sales", "Triage", "handoff", 1),
    }


def test_the_change_marker_moves_when_spans_arrive(three: Store) -> None:
    before = store_version(three)
    assert before == store_version(three)
    maker = SpanMaker(three)  # records through segment files, like a live recorder
    with maker.workflow("late"), maker.agent("Triage"):
        maker.chat(final=True)
    maker.close()
    after = store_version(three)
    assert after[0] == before[0] + 3 and after[1] > before[1]


def test_a_page_read_with_its_version_carries_the_marker_of_its_snapshot(three: Store) -> None:
    plain = list_conversations(three)
    assert plain.version is None
    page = list_conversations(three, with_version=True)
    assert (page.rows, page.total) == (plain.rows, plain.total)
    assert page.version == store_version(three)
    maker = SpanMaker(three)
    with maker.workflow("late"), maker.agent("Triage"):
        maker.chat(final=True)
    maker.close()
    later = list_conversations(three, with_version=True)
    assert later.total == page.total + 1 and later.version == store_version(three)
    assert later.version != page.version
