"""What ends a run early: max_turns, the loop guard, model errors and answers the
runner cannot use. Each ends with a clear exception carrying the partial result, and
the trace records it."""

from __future__ import annotations

import json
import re
import threading

import openai
import pytest
from pydantic import BaseModel
from runner_fixtures import query

import tracer
from tracer.runner.chat_server import HTTPReply, completion
from tracer.runner.models.scripted import tool_call

FAST_RETRY = {"retry-after-ms": "1"}


def ping_pong_agents(model: tracer.Model) -> tuple[tracer.Agent, tracer.Agent]:
    triage = tracer.Agent(name="Triage", model=model)
    billing = tracer.Agent(name="Billing", model=model, handoffs=[triage])
    triage.handoffs.append(billing)
    return triage, billing


def ping_pong_replies() -> list[dict[str, object]]:
    return [
        completion(tool_calls=[tool_call("transfer_to_billing", call_id="h1")]),
        completion(tool_calls=[tool_call("transfer_to_triage", call_id="h2")]),
        completion(tool_calls=[tool_call("transfer_to_billing", call_id="h3")]),
    ]


def workflow_span(store: tracer.Store) -> dict[str, object]:
    (row,) = query(
        store, "SELECT status, status_message, error_type, events FROM spans WHERE op = 'workflow'"
    )
    return row


async def test_loop_guard_raises_with_the_partial_result(recording, chat_server, openai_model):
    server = chat_server(*ping_pong_replies(), completion(content="never asked for"))
    triage, billing = ping_pong_agents(openai_model(server))

    with pytest.raises(tracer.HandoffLoopError) as caught:
        await tracer.Runner.run(triage, "Refund or invoice?")

    error = caught.value
    assert "Triage ⇄ Billing ×3" in str(error) and "LoopGuard(policy='answer')" in str(error)
    assert (error.loop.agents, error.loop.first_seq, error.loop.last_seq) == (
        ("Triage", "Billing"),
        1,
        3,
    )
    assert error.result is not None and error.result.last_agent is billing
    assert error.result.final_output is None
    assert len(server.requests) == 3  # stopped as soon as the loop was seen
    tracer.shutdown()
    workflow = workflow_span(recording)
    assert (workflow["status"], workflow["error_type"]) == ("error", "HandoffLoopError")
    (event,) = [e for e in json.loads(workflow["events"]) if e["name"] == "baton.loop_detected"]
    assert event["attributes"] == {
        "baton.loop.agents": ["Triage", "Billing"],
        "baton.loop.handoffs": 3,
        "baton.loop.first_seq": 1,
        "baton.loop.last_seq": 3,
        "baton.loop.policy": "raise",
    }
    # The store's own loop detection agrees with the guard.
    (loop,) = query(recording, "SELECT agents, first_seq, last_seq, handoffs FROM loops")
    assert loop == {"agents": ["Triage", "Billing"], "first_seq": 1, "last_seq": 3, "handoffs": 3}
    (conversation,) = query(recording, "SELECT has_loop, has_error FROM conversations")
    assert conversation == {"has_loop": True, "has_error": True}
    (agent_span,) = query(
        recording, "SELECT status, error_type FROM spans WHERE op = 'agent' AND status = 'error'"
    )
    assert agent_span["error_type"] == "HandoffLoopError"


async def test_loop_guard_can_make_the_current_agent_answer(recording, chat_server, openai_model):
    server = chat_server(*ping_pong_replies(), completion(content="Billing will sort it out."))
    triage, billing = ping_pong_agents(openai_model(server))

    result = await tracer.Runner.run(
        triage, "Refund or invoice?", loop_guard=tracer.LoopGuard(policy="answer")
    )

    assert result.final_output == "Billing will sort it out."
    assert result.last_agent is billing
    assert "tools" in server.requests[2]
    assert "tools" not in server.requests[3]  # its transfer tools were withdrawn
    tracer.shutdown()
    workflow = workflow_span(recording)
    assert workflow["status"] == "unset"
    (event,) = json.loads(workflow["events"])
    assert event["name"] == "baton.loop_detected"
    assert event["attributes"]["baton.loop.policy"] == "answer"


async def test_loop_guard_off_and_looser_settings(chat_server, openai_model):
    server = chat_server(*ping_pong_replies(), completion(content="done"))
    triage, _ = ping_pong_agents(openai_model(server))
    result = await tracer.Runner.run(triage, "?", loop_guard=None)
    assert result.final_output == "done"

    server = chat_server(*ping_pong_replies(), completion(content="done"))
    triage, _ = ping_pong_agents(openai_model(server))
    looser = tracer.LoopGuard(settings=tracer.LoopSettings(two_cycle_handoffs=4))
    assert (await tracer.Runner.run(triage, "?", loop_guard=looser)).final_output == "done"


async def test_a_tool_call_between_handoffs_is_not_a_loop(chat_server, openai_model):
    server = chat_server(
        completion(tool_calls=[tool_call("transfer_to_billing")]),
        completion(tool_calls=[tool_call("transfer_to_triage")]),
        completion(tool_calls=[tool_call("note", {"text": "back again"})]),
        completion(tool_calls=[tool_call("transfer_to_billing")]),
        completion(content="ok"),
    )
    triage, _ = ping_pong_agents(openai_model(server))

    def note(text: str) -> str:
        """Write a note."""
        return "noted"

    triage.tools.append(tracer.function_tool(note))
    assert (await tracer.Runner.run(triage, "?")).final_output == "ok"


async def test_max_turns_counts_model_calls_across_agents(recording, chat_server, openai_model):
    server = chat_server(
        completion(tool_calls=[tool_call("transfer_to_billing")]),
        completion(tool_calls=[tool_call("clock", call_id="k1")]),
        completion(tool_calls=[tool_call("clock", call_id="k2")]),
        completion(content="never asked for"),
    )
    model = openai_model(server)

    @tracer.function_tool
    def clock() -> str:
        """The time."""
        return "12:00"

    billing = tracer.Agent(name="Billing", model=model, tools=[clock])
    triage = tracer.Agent(name="Triage", model=model, handoffs=[billing])

    with pytest.raises(tracer.MaxTurnsExceeded, match="max_turns=3") as caught:
        await tracer.Runner.run(triage, "What time is it?", max_turns=3)

    partial = caught.value.result
    assert partial is not None and partial.last_agent is billing
    assert partial.usage.requests == 3
    assert [
        i.output for i in partial.new_items if isinstance(i, tracer.runner.result.ToolResultItem)
    ] == [
        '{"assistant":"Billing"}',
        "12:00",
        "12:00",
    ]
    assert len(server.requests) == 3
    tracer.shutdown()
    workflow = workflow_span(recording)
    assert (workflow["status"], workflow["error_type"]) == ("error", "MaxTurnsExceeded")
    assert "max_turns=3" in workflow["status_message"]
    (conversation,) = query(recording, "SELECT has_error, n_turns FROM conversations")
    assert conversation == {"has_error": True, "n_turns": 3}


async def test_http_errors_after_the_clients_retries_end_the_run(
    recording, chat_server, openai_model
):
    server = chat_server(*[HTTPReply(500, "upstream exploded", headers=FAST_RETRY)] * 3)
    agent = tracer.Agent(name="Assistant", model=openai_model(server, max_retries=2))

    with pytest.raises(tracer.ModelError, match="HTTP 500") as caught:
        await tracer.Runner.run(agent, "hello")

    assert "upstream exploded" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)
    assert caught.value.result is not None and caught.value.result.usage.requests == 0
    assert len(server.requests) == 3  # the first try and two retries
    tracer.shutdown()
    assert workflow_span(recording)["error_type"] == "ModelError"
    (chat,) = query(recording, "SELECT status, error_type FROM spans WHERE op = 'chat'")
    assert chat == {"status": "error", "error_type": "ModelError"}
    (conversation,) = query(recording, "SELECT has_error FROM conversations")
    assert conversation["has_error"]


async def test_a_retried_error_that_recovers_is_one_model_call(
    recording, chat_server, openai_model
):
    server = chat_server(HTTPReply(503, "busy", headers=FAST_RETRY), completion(content="hi"))
    agent = tracer.Agent(name="Assistant", model=openai_model(server))
    assert (await tracer.Runner.run(agent, "hello")).final_output == "hi"
    assert len(server.requests) == 2
    tracer.shutdown()
    assert query(recording, "SELECT status FROM turns") == [{"status": "unset"}]


async def test_client_errors_are_not_retried_and_say_what_to_check(chat_server, openai_model):
    server = chat_server(HTTPReply(401, "bad key"))
    agent = tracer.Agent(name="Assistant", model=openai_model(server))
    with pytest.raises(tracer.ModelError, match="OPENAI_API_KEY"):
        await tracer.Runner.run(agent, "hello")
    assert len(server.requests) == 1


async def test_an_unreachable_endpoint_is_a_model_error(chat_server, openai_model):
    server = chat_server()
    model = openai_model(server, max_retries=0)
    server.stop()
    with pytest.raises(tracer.ModelError, match="cannot reach"):
        await tracer.Runner.run(tracer.Agent(name="A", model=model), "hello")


async def test_tool_arguments_that_are_not_json_end_the_run(recording, chat_server, openai_model):
    server = chat_server(
        completion(tool_calls=[tracer.ToolCall("x1", "lookup", "{order: 7")]),
        completion(content="never asked for"),
    )
    called = []

    @tracer.function_tool
    def lookup(order: int) -> str:
        """Look up an order."""
        called.append(order)
        return "found"

    agent = tracer.Agent(name="Billing", model=openai_model(server), tools=[lookup])
    with pytest.raises(tracer.ModelBehaviorError, match=re.escape("not JSON: '{order: 7'")):
        await tracer.Runner.run(agent, "order 7?")

    assert called == [] and len(server.requests) == 1
    tracer.shutdown()
    assert workflow_span(recording)["error_type"] == "ModelBehaviorError"
    (chat,) = query(recording, "SELECT status, error_type, attributes FROM spans WHERE op = 'chat'")
    assert chat["error_type"] == "ModelBehaviorError"
    # The bad answer itself is on the record, exactly as sent.
    (output,) = json.loads(json.loads(chat["attributes"])["gen_ai.output.messages"])
    assert output["parts"] == [
        {"type": "tool_call", "id": "x1", "name": "lookup", "arguments": "{order: 7"}
    ]


class Refund(BaseModel):
    order_id: int
    amount: float
    reason: str | None = None


async def test_structured_output_is_requested_and_parsed(recording, chat_server, openai_model):
    server = chat_server(completion(content='{"order_id": 7, "amount": 42.5, "reason": null}'))
    agent = tracer.Agent(name="Refunds", model=openai_model(server), output_type=Refund)

    result = await tracer.Runner.run(agent, "refund order 7")

    assert result.final_output == Refund(order_id=7, amount=42.5)
    assert result.final_output_as(Refund).amount == 42.5
    response_format = server.requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Refund"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["required"] == ["order_id", "amount", "reason"]
    assert schema["additionalProperties"] is False
    tracer.shutdown()
    (chat,) = query(recording, "SELECT attributes FROM spans WHERE op = 'chat'")
    attributes = json.loads(chat["attributes"])
    assert attributes["gen_ai.output.type"] == "json"


async def test_an_answer_that_does_not_fit_the_output_type_ends_the_run(chat_server, openai_model):
    server = chat_server(completion(content='{"order_id": "seven"}'))
    agent = tracer.Agent(name="Refunds", model=openai_model(server), output_type=Refund)
    with pytest.raises(tracer.ModelBehaviorError, match="not a valid Refund: order_id"):
        await tracer.Runner.run(agent, "refund order 7")


async def test_run_sync_refuses_to_nest_in_a_running_loop():
    agent = tracer.Agent(name="A", model=tracer.ScriptedModel([]))
    with pytest.raises(RuntimeError, match=r"await Runner\.run"):
        tracer.Runner.run_sync(agent, "hi")


async def test_a_script_that_runs_out_says_so():
    agent = tracer.Agent(name="A", model=tracer.ScriptedModel([], name="demo"))
    with pytest.raises(tracer.ModelError, match="'demo' has no answer left for call 1"):
        await tracer.Runner.run(agent, "hi")


async def test_a_model_object_that_raises_is_a_model_error():
    agent = tracer.Agent(name="A", model=tracer.ScriptedModel([KeyError("boom")]))
    with pytest.raises(tracer.ModelError, match="KeyError") as caught:
        await tracer.Runner.run(agent, "hi")
    assert isinstance(caught.value.__cause__, KeyError)


async def test_a_model_that_does_not_answer_in_time_is_a_model_error(chat_server):
    release = threading.Event()

    def slow(request: dict[str, object]) -> dict[str, object]:
        release.wait(timeout=10)
        return completion(content="too late")

    server = chat_server(responder=slow)
    client = openai.AsyncOpenAI(
        base_url=server.base_url, api_key="test-key", timeout=0.2, max_retries=0
    )
    agent = tracer.Agent(name="A", model=tracer.OpenAIChatModel("gpt-test", client=client))
    try:
        with pytest.raises(tracer.ModelError, match="did not answer in time"):
            await tracer.Runner.run(agent, "hello")
    finally:
        release.set()
        await client.close()


async def test_model_settings_reach_the_endpoint_and_the_record(
    recording, chat_server, openai_model
):
    server = chat_server(completion(content="ok"))
    settings = tracer.ModelSettings(
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        seed=7,
        tool_choice="lookup",
        parallel_tool_calls=False,
        stop=("END",),
        extra_body={"top_k": 3},
    )

    def lookup(order_id: int) -> str:
        """Find an order."""
        return "found"

    agent = tracer.Agent(
        name="A", model=openai_model(server), model_settings=settings, tools=[lookup]
    )
    await tracer.Runner.run(agent, "hello")

    sent = server.requests[0]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["seed"]) == (
        0.2,
        0.9,
        50,
        7,
    )
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert sent["parallel_tool_calls"] is False
    assert (sent["stop"], sent["top_k"]) == (["END"], 3)
    tracer.shutdown()
    (chat,) = query(recording, "SELECT attributes FROM spans WHERE op = 'chat'")
    attributes = json.loads(chat["attributes"])
    assert attributes["gen_ai.request.temperature"] == 0.2
    assert attributes["gen_ai.request.max_tokens"] == 50
