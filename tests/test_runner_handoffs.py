"""Handoffs and agents used as tools, run through the real ``openai`` client against a
local Chat Completions server, checked through the store's views."""

from __future__ import annotations

import json

import pytest
from runner_fixtures import query

import tracer
from tracer.capture.config import current_conversation_id
from tracer.runner.chat_server import completion
from tracer.runner.models.scripted import tool_call
from tracer.runner.run import IGNORED_HANDOFF


def support_agents(model: tracer.Model) -> tuple[tracer.Agent, tracer.Agent, tracer.Agent]:
    @tracer.function_tool
    def lookup_invoice(order_id: int) -> dict[str, object]:
        """Find the invoice of an order."""
        return {"order_id": order_id, "amount": 42.0, "paid": True}

    refunds = tracer.Agent(
        name="Refunds",
        instructions="Issue refunds.",
        model=model,
        handoff_description="Refunds paid invoices.",
    )
    billing = tracer.Agent(
        name="Billing",
        instructions="Answer billing questions.",
        model=model,
        tools=[lookup_invoice],
        handoffs=[refunds],
    )
    triage = tracer.Agent(
        name="Triage", instructions="Route the user.", model=model, handoffs=[billing]
    )
    return triage, billing, refunds


async def test_triage_billing_refunds_records_the_handoffs_in_order(
    recording, chat_server, openai_model
):
    server = chat_server(
        completion(
            tool_calls=[tool_call("transfer_to_billing", call_id="h1")],
            prompt_tokens=10,
            completion_tokens=2,
            model="gpt-test-2025",
        ),
        completion(tool_calls=[tool_call("lookup_invoice", {"order_id": 7}, call_id="t1")]),
        completion(tool_calls=[tool_call("transfer_to_refunds", call_id="h2")]),
        completion(
            content="Your 42.00 EUR are on their way back.", prompt_tokens=30, completion_tokens=9
        ),
    )
    triage, _, refunds = support_agents(openai_model(server))

    result = await tracer.Runner.run(triage, "I was charged twice for order 7.")

    assert result.final_output == "Your 42.00 EUR are on their way back."
    assert result.last_agent is refunds
    assert result.usage.requests == 4
    assert (result.usage.input_tokens, result.usage.output_tokens) == (40, 11)
    assert len(result.trace_id or "") == 32
    # Control changed hands and the conversation carried over.
    billing_request = server.requests[1]
    assert billing_request["messages"][0] == {
        "role": "system",
        "content": "Answer billing questions.",
    }
    assert billing_request["messages"][1] == {
        "role": "user",
        "content": "I was charged twice for order 7.",
    }
    assert billing_request["messages"][3] == {
        "role": "tool",
        "tool_call_id": "h1",
        "content": '{"assistant":"Billing"}',
    }
    assert [t["function"]["name"] for t in billing_request["tools"]] == [
        "lookup_invoice",
        "transfer_to_refunds",
    ]
    assert server.requests[2]["messages"][-1]["content"] == (
        '{"order_id": 7, "amount": 42.0, "paid": true}'
    )

    tracer.shutdown()
    store = recording
    handoffs = query(
        store, "SELECT seq, turn, from_agent, to_agent, trace_id FROM handoffs ORDER BY seq"
    )
    assert [(h["seq"], h["turn"], h["from_agent"], h["to_agent"]) for h in handoffs] == [
        (1, 1, "Triage", "Billing"),
        (2, 3, "Billing", "Refunds"),
    ]
    assert {h["trace_id"] for h in handoffs} == {result.trace_id}
    turns = query(store, "SELECT turn, agent_name, model, input_tokens FROM turns ORDER BY turn")
    assert [(t["turn"], t["agent_name"]) for t in turns] == [
        (1, "Triage"),
        (2, "Billing"),
        (3, "Billing"),
        (4, "Refunds"),
    ]
    assert turns[0]["model"] == "gpt-test-2025" and turns[0]["input_tokens"] == 10
    (lookup,) = query(store, "SELECT * FROM tool_calls")
    assert (lookup["agent_name"], lookup["tool_name"], lookup["call_id"]) == (
        "Billing",
        "lookup_invoice",
        "t1",
    )
    assert (lookup["is_agent"], lookup["status"], lookup["turn"]) == (False, "unset", 2)
    assert json.loads(lookup["arguments"]) == {"order_id": 7}
    (conversation,) = query(store, "SELECT * FROM conversations")
    assert conversation["conversation_id"] == result.conversation_id
    assert conversation["agents"] == ["Triage", "Billing", "Refunds"]
    assert (conversation["n_turns"], conversation["n_handoffs"], conversation["n_tool_calls"]) == (
        4,
        2,
        1,
    )
    assert not conversation["has_loop"] and not conversation["has_error"]
    # One trace: the workflow span is its root, each agent activation its child.
    spans = query(
        store,
        "SELECT name, kind, span_id, parent_span_id, trace_id FROM spans ORDER BY start_time",
    )
    root = spans[0]
    assert root["name"] == "invoke_workflow Triage" and root["parent_span_id"] is None
    agents = [s for s in spans if s["name"].startswith("invoke_agent")]
    assert [a["name"] for a in agents] == [
        "invoke_agent Triage",
        "invoke_agent Billing",
        "invoke_agent Refunds",
    ]
    assert {a["parent_span_id"] for a in agents} == {root["span_id"]}
    assert [s["kind"] for s in spans if s["name"].startswith("chat")] == ["client"] * 4
    assert {s["trace_id"] for s in spans} == {result.trace_id}


async def test_agent_as_tool_is_a_tool_call_not_a_handoff(recording, chat_server, openai_model):
    server = chat_server(
        completion(
            tool_calls=[tool_call("ask_researcher", {"input": "refund policy?"}, call_id="a1")]
        ),
        completion(tool_calls=[tool_call("search", {"query": "refund policy"}, call_id="s1")]),
        completion(content="Refunds within 30 days."),
        completion(content="Our policy: refunds within 30 days."),
    )
    model = openai_model(server)

    @tracer.function_tool
    async def search(query: str) -> str:
        """Search the help centre."""
        return f"3 articles about {query}"

    researcher = tracer.Agent(name="Researcher", model=model, tools=[search])
    triage = tracer.Agent(
        name="Triage",
        model=model,
        tools=[researcher.as_tool("ask_researcher", "Ask the researcher a question.")],
    )

    result = await tracer.Runner.run(triage, "What is your refund policy?")

    assert result.final_output == "Our policy: refunds within 30 days."
    assert result.last_agent is triage  # the caller kept control
    assert server.requests[1]["messages"] == [{"role": "user", "content": "refund policy?"}]
    assert server.requests[3]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "a1",
        "content": "Refunds within 30 days.",
    }
    tracer.shutdown()
    store = recording
    assert query(store, "SELECT * FROM handoffs") == []
    calls = query(
        store, "SELECT tool_name, agent_name, is_agent, result FROM tool_calls ORDER BY started_at"
    )
    assert calls == [
        {
            "tool_name": "ask_researcher",
            "agent_name": "Triage",
            "is_agent": True,
            "result": "Refunds within 30 days.",
        },
        {
            "tool_name": "search",
            "agent_name": "Researcher",
            "is_agent": False,
            "result": "3 articles about refund policy",
        },
    ]
    (tool_span,) = query(
        store, "SELECT span_id, trace_id, attributes FROM spans WHERE op = 'agent_tool'"
    )
    attributes = json.loads(tool_span["attributes"])
    assert attributes["gen_ai.transfer.mode"] == "return_to_caller"
    assert attributes["gen_ai.transfer.target.name"] == "Researcher"
    (nested,) = query(
        store, "SELECT parent_span_id, trace_id FROM spans WHERE name = 'invoke_agent Researcher'"
    )
    assert nested == {"parent_span_id": tool_span["span_id"], "trace_id": tool_span["trace_id"]}
    turns = query(store, "SELECT agent_name FROM turns ORDER BY turn")
    assert [t["agent_name"] for t in turns] == ["Triage", "Researcher", "Researcher", "Triage"]


async def test_only_the_first_of_several_handoffs_is_followed(recording, chat_server, openai_model):
    server = chat_server(
        completion(
            tool_calls=[
                tool_call("transfer_to_billing", call_id="h1"),
                tool_call("transfer_to_refunds", call_id="h2"),
            ]
        ),
        completion(content="Billing here."),
    )
    triage, billing, refunds = support_agents(openai_model(server))
    triage.handoffs.append(refunds)

    result = await tracer.Runner.run(triage, "Help")

    assert result.last_agent is billing
    assert server.requests[1]["messages"][-2:] == [
        {"role": "tool", "tool_call_id": "h1", "content": '{"assistant":"Billing"}'},
        {"role": "tool", "tool_call_id": "h2", "content": IGNORED_HANDOFF},
    ]
    tracer.shutdown()
    store = recording
    assert [(h["from_agent"], h["to_agent"]) for h in query(store, "SELECT * FROM handoffs")] == [
        ("Triage", "Billing")
    ]
    assert query(store, "SELECT * FROM tool_calls") == []
    (triage_span,) = query(store, "SELECT events FROM spans WHERE name = 'invoke_agent Triage'")
    (event,) = json.loads(triage_span["events"])
    assert event["name"] == "baton.handoff_ignored"
    assert event["attributes"]["gen_ai.transfer.target.name"] == "Refunds"
    assert event["attributes"]["gen_ai.tool.call.id"] == "h2"


async def test_input_filter_and_instruction_functions(chat_server, openai_model):
    server = chat_server(
        completion(content="Let me look.", tool_calls=[tool_call("to_billing", call_id="h1")]),
        completion(content="Billing here."),
    )
    model = openai_model(server)

    async def billing_instructions(
        ctx: tracer.RunContext[dict[str, str]], agent: tracer.Agent
    ) -> str:
        return f"You are {agent.name}; the customer is {ctx.context['customer']}."

    billing = tracer.Agent(name="Billing", model=model, instructions=billing_instructions)
    only_user_messages = tracer.handoff(
        billing,
        tool_name="to_billing",
        description="Billing questions.",
        input_filter=lambda messages: [m for m in messages if m["role"] == "user"],
    )
    triage = tracer.Agent(
        name="Triage",
        model=model,
        handoffs=[only_user_messages],
        instructions=lambda ctx, agent: f"{agent.name} for {ctx.context['customer']}",
    )
    assert triage.handoffs[0] is only_user_messages

    result = await tracer.Runner.run(triage, "Why two charges?", context={"customer": "Ada"})

    assert result.final_output == "Billing here."
    first, second = server.requests
    assert first["messages"][0] == {"role": "system", "content": "Triage for Ada"}
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "to_billing",
                "description": "Billing questions.",
                "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
            },
        }
    ]
    assert second["messages"] == [
        {"role": "system", "content": "You are Billing; the customer is Ada."},
        {"role": "user", "content": "Why two charges?"},
    ]
    kinds = [type(item).__name__ for item in result.new_items]
    assert kinds == ["MessageItem", "ToolCallItem", "ToolResultItem", "HandoffItem", "MessageItem"]


async def test_conversation_id_comes_from_argument_then_context_then_fresh(recording):
    agent = tracer.Agent(
        name="Echo",
        model=tracer.ScriptedModel(
            [
                tracer.ModelResponse(content="one"),
                tracer.ModelResponse(content="two"),
                tracer.ModelResponse(content="three"),
                tracer.ModelResponse(content="four"),
            ]
        ),
    )
    explicit = await tracer.Runner.run(agent, "hi", conversation_id="conv-explicit")
    token = current_conversation_id.set("conv-from-context")
    try:
        from_context = await tracer.Runner.run(agent, "hi")
        overridden = await tracer.Runner.run(agent, "hi", conversation_id="conv-explicit")
    finally:
        current_conversation_id.reset(token)
    fresh = await tracer.Runner.run(agent, "hi")

    assert explicit.conversation_id == "conv-explicit"
    assert from_context.conversation_id == "conv-from-context"
    assert overridden.conversation_id == "conv-explicit"
    assert fresh.conversation_id not in ("conv-explicit", "conv-from-context", fresh.trace_id)
    tracer.shutdown()
    rows = query(
        recording, "SELECT conversation_id, n_traces FROM conversations ORDER BY conversation_id"
    )
    assert rows == [
        {"conversation_id": "conv-explicit", "n_traces": 2},
        {"conversation_id": "conv-from-context", "n_traces": 1},
        {"conversation_id": fresh.conversation_id, "n_traces": 1},
    ]


async def test_a_conversation_continues_from_to_input_list(chat_server, openai_model):
    server = chat_server(completion(content="Hello Ada."), completion(content="You are Ada."))
    agent = tracer.Agent(name="Assistant", model=openai_model(server))
    first = await tracer.Runner.run(agent, "I am Ada.")
    second = await tracer.Runner.run(
        agent,
        [*first.to_input_list(), {"role": "user", "content": "Who am I?"}],
        conversation_id=first.conversation_id,
    )
    assert second.final_output == "You are Ada."
    assert server.requests[1]["messages"] == [
        {"role": "user", "content": "I am Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Who am I?"},
    ]


def test_default_tool_names_follow_the_agents_sdk():
    agent = tracer.Agent(name="Billing Agent")
    assert tracer.handoff(agent).tool_name == "transfer_to_billing_agent"
    assert agent.as_tool().name == "billing_agent"
    assert tracer.handoff(tracer.Agent(name="Refunds-EU")).tool_name == "transfer_to_refunds_eu"


def test_run_sync_with_a_model_name_uses_openai_settings_from_the_environment(
    chat_server, monkeypatch: pytest.MonkeyPatch
):
    server = chat_server(completion(content="pong"))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    result = tracer.Runner.run_sync(tracer.Agent(name="Ping", model="gpt-4o-mini"), "ping")
    assert result.final_output == "pong"
    assert server.requests[0]["model"] == "gpt-4o-mini"
    assert "tools" not in server.requests[0]
