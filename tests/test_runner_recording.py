"""What the runner records on its spans: messages in the GenAI semantic conventions'
parts format, complete enough to re-serve every model answer offline, and nothing of
the content when capture is off."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest
from pydantic import BaseModel
from runner_fixtures import query

import tracer
from tracer.runner.chat_server import (
    ChatServer,
    ScriptedResponder,
    completion,
    completion_from_response,
)
from tracer.runner.genai_format import recorded_response
from tracer.runner.models.scripted import tool_call


class Summary(BaseModel):
    topic: str
    urgent: bool


def build_agents(model: tracer.Model) -> tracer.Agent:
    @tracer.function_tool
    def lookup(order_id: int) -> str:
        """Find an order."""
        return f"order {order_id}: shipped"

    summariser = tracer.Agent(name="Summariser", model=model, output_type=Summary)
    billing = tracer.Agent(
        name="Billing", model=model, tools=[lookup], instructions="You handle billing."
    )
    return tracer.Agent(
        name="Triage",
        model=model,
        instructions="Route the user.",
        handoffs=[billing],
        tools=[summariser.as_tool("summarise", "Summarise the request.")],
    )


def scripted_run() -> list[dict[str, object]]:
    return [
        completion(
            "Let me check.",
            [
                tool_call("summarise", {"input": "where is order 7"}, call_id="s1"),
                tool_call("transfer_to_billing", call_id="h1"),
            ],
            prompt_tokens=11,
            completion_tokens=7,
            model="gpt-test-a",
            id="chatcmpl-1",
        ),
        completion(
            '{"topic": "shipping", "urgent": false}',
            model="gpt-test-b",
            id="chatcmpl-2",
            prompt_tokens=5,
            completion_tokens=3,
        ),
        completion(
            None,
            [
                tool_call("lookup", {"order_id": 7}, call_id="l1"),
                tool_call("lookup", '{"order_id":8}', call_id="l2"),
            ],
            id="chatcmpl-3",
        ),
        completion(
            "Order 7 has shipped; 8 too.",
            finish_reason="length",
            id="chatcmpl-4",
            prompt_tokens=40,
            completion_tokens=12,
        ),
    ]


async def test_recorded_answers_can_be_served_again_exactly(recording, chat_server, openai_model):
    server = chat_server(*scripted_run())
    original = await tracer.Runner.run(build_agents(openai_model(server)), "Where is order 7?")
    tracer.shutdown()

    chats = query(recording, "SELECT attributes FROM spans WHERE op = 'chat' ORDER BY start_time")
    recorded = [recorded_response(json.loads(c["attributes"])) for c in chats]
    served = [completion_from_response(r) for r in recorded]
    for sent, again in zip(scripted_run(), served, strict=True):
        for key in ("id", "model", "choices", "usage"):
            assert again[key] == sent[key]

    # Replaying the recorded answers gives the same run, offline.
    with ChatServer(ScriptedResponder(recorded)) as replay_server:
        replay = await tracer.Runner.run(
            build_agents(openai_model(replay_server)), "Where is order 7?", loop_guard=None
        )
    assert replay.final_output == original.final_output
    assert replay.to_input_list() == original.to_input_list()
    assert replay_server.requests == server.requests


async def test_chat_spans_carry_messages_in_the_semconv_parts_format(
    recording, chat_server, openai_model
):
    server = chat_server(*scripted_run())
    await tracer.Runner.run(build_agents(openai_model(server)), "Where is order 7?")
    tracer.shutdown()
    chats = query(
        recording, "SELECT agent_name, attributes FROM spans WHERE op = 'chat' ORDER BY start_time"
    )
    billing = json.loads(chats[2]["attributes"])
    assert chats[2]["agent_name"] == "Billing"
    assert json.loads(billing["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You handle billing."}
    ]
    assert json.loads(billing["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is order 7?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {
                    "type": "tool_call",
                    "id": "s1",
                    "name": "summarise",
                    "arguments": '{"input": "where is order 7"}',
                },
                {"type": "tool_call", "id": "h1", "name": "transfer_to_billing", "arguments": "{}"},
            ],
        },
        {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": "s1",
                    "response": '{"topic":"shipping","urgent":false}',
                }
            ],
        },
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "h1", "response": '{"assistant":"Billing"}'}
            ],
        },
    ]
    assert billing["gen_ai.operation.name"] == "chat"
    assert billing["gen_ai.request.model"] == "gpt-test"
    assert billing["gen_ai.provider.name"] == "openai"
    assert billing["gen_ai.response.finish_reasons"] == ["tool_calls"]
    last = json.loads(chats[3]["attributes"])
    assert json.loads(last["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "length",
            "parts": [{"type": "text", "content": "Order 7 has shipped; 8 too."}],
        }
    ]
    tools = query(recording, "SELECT tool_name, arguments, result FROM tool_calls ORDER BY call_id")
    assert [t["arguments"] for t in tools] == [
        '{"order_id": 7}',
        '{"order_id":8}',
        '{"input": "where is order 7"}',
    ]


async def test_capture_off_keeps_the_shape_and_drops_the_content(store, chat_server, openai_model):
    tracer.setup(store, capture_content=False)
    try:
        server = chat_server(*scripted_run())
        await tracer.Runner.run(build_agents(openai_model(server)), "Where is order 7?")
    finally:
        tracer.shutdown()
        tracer.capture.config.settings.capture_content = True

    attributes = [json.loads(r["attributes"]) for r in query(store, "SELECT attributes FROM spans")]
    content_keys = {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    }
    assert not any(content_keys & set(a) for a in attributes)
    assert "Where is order 7" not in json.dumps(attributes)
    assert [h["to_agent"] for h in query(store, "SELECT to_agent FROM handoffs")] == ["Billing"]
    assert len(query(store, "SELECT * FROM tool_calls")) == 3
    (chat, *_) = query(store, "SELECT attributes FROM spans WHERE op = 'chat' ORDER BY start_time")
    with pytest.raises(ValueError, match="capture_content off"):
        recorded_response(json.loads(chat["attributes"]))


async def test_without_setup_nothing_is_recorded_and_the_run_still_works(store):
    model = tracer.ScriptedModel([tracer.ModelResponse(content="hi")])
    result = await tracer.Runner.run(tracer.Agent(name="A", model=model), "hello")
    assert result.final_output == "hi"
    assert not store.path.exists()


def test_the_chat_server_answers_bad_requests_and_keeps_serving(chat_server):
    server = chat_server(completion("still here"))

    def post(path: str, body: bytes) -> tuple[int, dict[str, object]]:
        request = urllib.request.Request(
            server.base_url.removesuffix("/v1") + path,
            data=body,
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, body = post("/v1/chat/completions", b"{not json")
    assert status == 400 and "invalid JSON" in body["error"]["message"]  # type: ignore[index]
    assert post("/v1/embeddings", b"{}")[0] == 404
    assert post("/v1/chat/completions", b'{"stream": true}')[0] == 400
    status, body = post("/v1/chat/completions", b'{"messages": []}')
    assert status == 200 and body["choices"][0]["message"]["content"] == "still here"  # type: ignore[index]
    status, body = post("/v1/chat/completions", b'{"messages": []}')
    assert status == 500 and "no reply left" in body["error"]["message"]  # type: ignore[index]


def test_a_responder_that_raises_is_a_500_that_is_not_retried(chat_server):
    def broken(request: dict[str, object]) -> dict[str, object]:
        raise ValueError("no such fixture")

    server = chat_server(responder=broken)
    client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=3)
    with pytest.raises(openai.InternalServerError, match="no such fixture"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    client.close()
    assert len(server.requests) == 1
