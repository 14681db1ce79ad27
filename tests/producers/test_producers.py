"""What baton reconstructs from each framework's recorded spans, compared exactly with the
truth recorded beside them: the model server's log (which agent each model call was for,
its tokens, what it answered) and the framework's own account (its handoffs).

The fixtures are re-recorded by ``python tests/producers/record.py`` with the frameworks
installed; these tests need none of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fixture_store import FIXTURES, load, truth

from replay import load_conversation
from tracer.capture.dialects import read_messages
from tracer.loops import Handoff, find_loops
from tracer.store import Store

NAMES = sorted(p.name.removesuffix(".truth.json") for p in FIXTURES.glob("*.truth.json"))


#: What a framework leaves no trace of, by fixture prefix; applied to the truth before
#: comparing, so each gap is stated once, here and in the README's producer table.
GAPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
#: CrewAI's tool spans carry a tool's display name ("Delegate work to coworker"); the model
#: calls it by the name CrewAI sanitises it to.
SPELLINGS: dict[str, Callable[[str], str]] = {
    "crewai-": lambda name: name.lower().replace(" ", "_")
}
#: Swarm (and a loop over the openai client) runs its tools unrecorded: only the model's
#: request for them is in its spans, and the tool_calls view holds what ran.
UNRECORDED_TOOLS = ("swarm-",)


@dataclass
class Recorded:
    """A fixture imported into a store, and its truth with the framework's gaps applied."""

    name: str
    store: Store
    known: dict[str, Any]


def recording(name: str, store: Store, known: dict[str, Any]) -> Recorded:
    for prefix, gap in GAPS.items():
        if (name + ".").startswith(prefix):
            known = gap(known)
    return Recorded(name, store, known)


@pytest.fixture(params=NAMES)
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Recorded:
    name: str = request.param
    return recording(name, load(name, tmp_path), truth(name))


def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in store.query(sql).rows]


def test_every_model_call_is_a_turn_of_the_agent_it_was_for(
    recorded: Recorded,
) -> None:
    store, known = recorded.store, recorded.known
    turns = rows(
        store,
        "SELECT agent_name, input_tokens, output_tokens FROM turns ORDER BY started_at, span_id",
    )
    assert turns == [(e["agent"], e["input_tokens"], e["output_tokens"]) for e in known["server"]]


def test_handoffs_are_the_frameworks_own_in_order(
    recorded: Recorded,
) -> None:
    store, known = recorded.store, recorded.known
    handoffs = rows(store, 'SELECT from_agent, to_agent FROM handoffs ORDER BY "at", span_id')
    assert handoffs == [tuple(pair) for pair in known["framework"]["handoffs"]]


def test_tool_calls_and_agents_used_as_tools(recorded: Recorded) -> None:
    store, known = recorded.store, recorded.known
    spell = next((f for p, f in SPELLINGS.items() if recorded.name.startswith(p)), lambda n: n)
    calls = [
        (agent, spell(tool), is_agent)
        for agent, tool, is_agent in rows(
            store,
            "SELECT agent_name, tool_name, is_agent FROM tool_calls ORDER BY started_at, span_id",
        )
    ]
    expected = [
        (entry["agent"], call["name"], entry["agent_tool"] is not None)
        for entry in known["server"]
        if not entry["handoff"]
        for call in entry["tool_calls"]
        if not recorded.name.startswith(UNRECORDED_TOOLS)
    ]
    assert calls == expected


def test_loops_are_the_ping_pongs_of_the_run(recorded: Recorded) -> None:
    store, known = recorded.store, recorded.known
    # The truth's handoffs, broken (as the definition says) by a non-transfer tool call or
    # a final answer between two of them.
    handoffs: list[Handoff] = []
    broken = False
    for entry in known["server"]:
        if entry["handoff"]:
            seq = len(handoffs) + 1
            source = entry["agent"] or "?"  # an unknown agent is no agent of any cycle
            handoffs.append(Handoff(source, entry["handoff"], seq, broken_before=broken))
            broken = False
        else:
            broken = True
    expected = [(list(loop.agents), loop.handoffs) for loop in find_loops(handoffs)]
    assert rows(store, "SELECT agents, handoffs FROM loops ORDER BY first_seq") == [
        tuple(loop) for loop in expected
    ]


def test_the_replay_highlights_the_loops_the_view_lists(recorded: Recorded) -> None:
    """Each conversation's replay has the ``loops`` view's loops, spanning the steps that
    asked for their first and last handoff (a loop over linked traces included)."""
    store = recorded.store
    for (conversation_id,) in rows(store, "SELECT conversation_id FROM conversations"):
        conversation = load_conversation(store, conversation_id)
        step_of = {(step.trace_id, step.turn): step.index for step in conversation.steps}
        handoffs = [
            tuple(row)
            for row in store.query(
                "SELECT trace_id, seq, turn FROM handoffs WHERE conversation_id = ? "
                'ORDER BY "at", span_id',
                [conversation_id],
            ).rows
        ]
        expected = []
        for trace_id, agents, first_seq, last_seq, n, first_turn, last_turn in store.query(
            "SELECT trace_id, agents, first_seq, last_seq, handoffs, first_turn, last_turn "
            "FROM loops WHERE conversation_id = ?",
            [conversation_id],
        ).rows:
            at = handoffs.index((trace_id, first_seq, first_turn))
            last = handoffs[at + n - 1]  # a loop's handoffs are consecutive in its run
            assert (last[1], last[2]) == (last_seq, last_turn)
            first_step, last_step = (
                step_of.get((trace_id, first_turn)),
                step_of.get((last[0], last[2])),
            )
            loop = (tuple(agents), trace_id, first_seq, last_seq, n, first_turn, last_turn)
            expected.append((*loop, first_step, last_step))
        replayed = [
            (
                found.loop.agents,
                found.trace_id,
                found.loop.first_seq,
                found.loop.last_seq,
                found.loop.handoffs,
                found.loop.first_turn,
                found.loop.last_turn,
                found.first_step,
                found.last_step,
            )
            for found in conversation.loops
        ]
        assert sorted(replayed, key=repr) == sorted(expected, key=repr)


def test_replay_shows_what_each_model_call_answered(
    recorded: Recorded,
) -> None:
    store, known = recorded.store, recorded.known
    spans = rows(
        store,
        "SELECT source, attributes FROM spans WHERE op = 'chat' ORDER BY start_time, span_id",
    )
    answered = []
    for source, attributes in spans:
        output = read_messages(source, json.loads(attributes)).output or []
        parts = [part for message in output for part in message["parts"]]
        texts = [p["content"] for p in parts if p["type"] == "text" and p["content"]]
        calls = [p["name"] for p in parts if p["type"] == "tool_call"]
        answered.append((texts[0] if texts else None, calls))
    assert answered == [(e["text"], [c["name"] for c in e["tool_calls"]]) for e in known["server"]]


def test_linked_traces_are_one_conversation(tmp_path: Path) -> None:
    """AutoGen started outside any span: one run, many traces related only by links."""
    name = "autogen-swarm_unwrapped"
    store = load(name, tmp_path)
    sent: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for line in (FIXTURES / f"{name}.otlp.jsonl").read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    links = [(link["traceId"], link["spanId"]) for link in span.get("links", [])]
                    sent[(span["traceId"], span["spanId"])] = links
    stored = {
        (trace, span): [(link["trace_id"], link["span_id"]) for link in json.loads(links or "[]")]
        for trace, span, links in rows(store, "SELECT trace_id, span_id, links FROM spans")
    }
    assert stored == sent
    assert len({trace for trace, _ in sent}) > 1
    run = rows(
        store,
        "SELECT DISTINCT conversation_id FROM spans WHERE op IN ('chat', 'handoff', 'tool')",
    )
    assert len(run) == 1
    turns = rows(store, "SELECT agent_name FROM turns ORDER BY started_at, span_id")
    assert turns == [(entry["agent"],) for entry in truth(name)["server"]]


# -- fixtures whose truth holds the requests the model server answered (baton's own
# processor for the TypeScript Agents SDK) ---------------------------------------------

WITH_REQUESTS = [name for name in NAMES if "requests" in truth(name)]


@pytest.fixture(params=WITH_REQUESTS)
def recorded_requests(request: pytest.FixtureRequest, tmp_path: Path) -> Recorded:
    name: str = request.param
    return recording(name, load(name, tmp_path), truth(name))


def _asked(message: dict[str, Any]) -> tuple[Any, ...]:
    """A message the server received (Chat Completions, or a Responses API input item):
    role, text, tool calls, tool result."""
    if message.get("type") == "function_call":
        return (
            "assistant",
            None,
            [(message["call_id"], message["name"], message["arguments"])],
            None,
        )
    if message.get("type") == "function_call_output":
        return ("tool", None, [], (message["call_id"], message["output"]))
    if message["role"] == "tool":
        return ("tool", None, [], (message["tool_call_id"], message["content"]))
    calls = [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls") or []
    ]
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(part["text"] for part in content)
    return (message["role"], content, calls, None)


def _told(request: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Everything a request told the model, its system instructions first."""
    if "messages" in request:
        return [_asked(m) for m in request["messages"]]
    return [("system", request["instructions"], [], None)] + [_asked(m) for m in request["input"]]


def _replayed(message: dict[str, Any]) -> tuple[Any, ...]:
    """The same facts of a message as the replay reads it (GenAI parts)."""
    parts = message["parts"]
    texts = [p["content"] for p in parts if p["type"] == "text"]
    calls = [(p["id"], p["name"], p["arguments"]) for p in parts if p["type"] == "tool_call"]
    results = [(p["id"], p["response"]) for p in parts if p["type"] == "tool_call_response"]
    return (
        message["role"],
        "".join(texts) if texts else None,
        calls,
        results[0] if results else None,
    )


def check_replay_shows_each_request_system_message_first(recorded: Recorded) -> None:
    spans = rows(
        recorded.store,
        "SELECT source, attributes FROM spans WHERE op = 'chat' ORDER BY start_time, span_id",
    )
    replayed = []
    for source, attributes in spans:
        messages = read_messages(source, json.loads(attributes))
        # A Responses call's instructions are the replay's system message.
        system = [{"role": "system", "parts": messages.system}] if messages.system else []
        replayed.append([_replayed(m) for m in system + (messages.input or [])])
    told = [_told(request) for request in recorded.known["requests"]]
    assert replayed == told
    assert [messages[0][0] for messages in replayed] == ["system"] * len(told)


def check_tool_calls_carry_the_models_call_ids_and_results(recorded: Recorded) -> None:
    results = {
        told[3][0]: told[3][1]
        for request in recorded.known["requests"]
        for told in _told(request)
        if told[3] is not None
    }
    expected = [
        (
            entry["agent"],
            call["name"],
            call["id"],
            results.get(call["id"]),
            bool(entry["agent_tool"]),
        )
        for entry in recorded.known["server"]
        if not entry["handoff"]
        for call in entry["tool_calls"]
    ]
    calls = rows(
        recorded.store,
        "SELECT agent_name, tool_name, call_id, result, is_agent FROM tool_calls "
        "ORDER BY started_at, span_id",
    )
    assert calls == expected


def check_the_group_is_the_conversation_and_every_span_arrived(recorded: Recorded) -> None:
    framework = recorded.known["framework"]
    conversations = rows(recorded.store, "SELECT conversation_id, n_turns FROM conversations")
    assert conversations == [(framework["group_id"], len(recorded.known["server"]))]
    assert rows(recorded.store, "SELECT count(*) FROM spans") == [(framework["sent"],)]
    assert framework["dropped"] == 0


def check_handoffs_say_why(recorded: Recorded) -> None:
    """``handoffs.reason``: the transfer call the model made, its arguments, its text."""
    reasons = [
        json.loads(reason)
        for (reason,) in rows(recorded.store, 'SELECT reason FROM handoffs ORDER BY "at", span_id')
    ]
    expected = [
        {
            "tool": entry["tool_calls"][0]["name"],
            "call_id": entry["tool_calls"][0]["id"],
            "arguments": json.loads(entry["tool_calls"][0]["arguments"]),
            "text": entry["text"],
        }
        for entry in recorded.known["server"]
        if entry["handoff"]
    ]
    assert reasons == expected


def check_failed_tools_are_errors(recorded: Recorded) -> None:
    """The tool calls that threw are errors, in order, and so is their conversation."""
    failed = list(recorded.known["framework"]["failed_tools"])
    calls = rows(
        recorded.store,
        "SELECT tool_name, status FROM tool_calls ORDER BY started_at, span_id",
    )
    assert [tool for tool, status in calls if status == "error"] == failed
    assert [status for _, status in calls if status != "error"] == ["unset"] * (
        len(calls) - len(failed)
    )
    assert rows(recorded.store, "SELECT has_error FROM conversations") == [(bool(failed),)]


REQUEST_CHECKS: list[Callable[[Recorded], None]] = [
    check_failed_tools_are_errors,
    check_replay_shows_each_request_system_message_first,
    check_tool_calls_carry_the_models_call_ids_and_results,
    check_the_group_is_the_conversation_and_every_span_arrived,
    check_handoffs_say_why,
]


@pytest.mark.parametrize("check", REQUEST_CHECKS, ids=lambda check: check.__name__)
def test_what_the_requests_say(
    recorded_requests: Recorded, check: Callable[[Recorded], None]
) -> None:
    check(recorded_requests)
