"""Function tools: schemas from type hints and docstrings, sync and async tools run
concurrently, and failures that go back to the model while the run goes on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Annotated, Literal

from opentelemetry import trace
from pydantic import BaseModel, Field
from runner_fixtures import query

import tracer
from tracer.runner.chat_server import completion
from tracer.runner.models.scripted import tool_call


def test_schema_comes_from_type_hints_and_the_docstring():
    class Address(BaseModel):
        city: str

    @tracer.function_tool
    def ship(
        ctx: tracer.RunContext[object],
        order_id: int,
        speed: Literal["standard", "express"] = "standard",
        to: Address | None = None,
        note: Annotated[str, Field(max_length=20)] = "",
    ) -> str:
        """Ship an order.

        Takes a while.

        Args:
            order_id: The order to ship,
                as printed on the invoice.
            speed (str): How fast.
            to: Where to, if not home.

        Returns:
            The tracking number.
        """
        return "T-1"

    assert ship.name == "ship"
    assert ship.description == "Ship an order.\n\nTakes a while."
    assert ship.takes_context
    params = ship.parameters
    assert params["required"] == ["order_id"]
    assert params["additionalProperties"] is False
    assert params["properties"]["order_id"] == {
        "type": "integer",
        "description": "The order to ship, as printed on the invoice.",
    }
    assert params["properties"]["speed"]["enum"] == ["standard", "express"]
    assert params["properties"]["speed"]["description"] == "How fast."
    assert params["properties"]["to"]["description"] == "Where to, if not home."
    assert params["properties"]["note"]["maxLength"] == 20
    assert "ctx" not in params["properties"]
    assert "Address" in params["$defs"]
    assert ship(None, 1) == "T-1"  # still callable as the function it was

    @tracer.function_tool(name="lookup", description="Find things.")
    def find(query: str) -> str:
        """:param query: what to look for"""
        return query

    assert find.definition == {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Find things.",
            "parameters": {
                "additionalProperties": False,
                "properties": {"query": {"description": "what to look for", "type": "string"}},
                "required": ["query"],
                "type": "object",
            },
        },
    }


async def test_a_raising_tool_and_bad_arguments_are_error_results_and_the_run_goes_on(
    recording, chat_server, openai_model
):
    server = chat_server(
        completion(
            tool_calls=[
                tool_call("charge", {"amount": 5}, call_id="c1"),
                tool_call("charge", {"amount": "lots"}, call_id="c2"),
                tool_call("refund_everything", {}, call_id="c3"),
            ]
        ),
        completion(content="Sorry, the card was declined."),
    )

    @tracer.function_tool
    def charge(amount: int) -> str:
        """Charge the card."""
        raise RuntimeError("card declined")

    agent = tracer.Agent(name="Billing", model=openai_model(server), tools=[charge])
    result = await tracer.Runner.run(agent, "Charge me 5")

    assert result.final_output == "Sorry, the card was declined."
    sent = {
        m["tool_call_id"]: m["content"]
        for m in server.requests[1]["messages"]
        if m["role"] == "tool"
    }
    assert sent["c1"] == "Error running charge: RuntimeError: card declined"
    assert sent["c2"].startswith(
        "Error: invalid arguments for charge: amount: Input should be a valid integer"
    )
    assert sent["c3"] == "Error: Billing has no tool 'refund_everything' (its tools: charge)"
    errors = [
        item for item in result.new_items if isinstance(item, tracer.runner.result.ToolResultItem)
    ]
    assert [e.is_error for e in errors] == [True, True, True]

    tracer.shutdown()
    rows = query(
        recording,
        "SELECT call_id, tool_name, status, error_type, result FROM tool_calls ORDER BY call_id",
    )
    assert [(r["call_id"], r["tool_name"], r["status"], r["error_type"]) for r in rows] == [
        ("c1", "charge", "error", "RuntimeError"),
        ("c2", "charge", "error", "ToolArgumentsError"),
        ("c3", "refund_everything", "error", "UnknownTool"),
    ]
    assert rows[0]["result"] == sent["c1"]
    (status,) = query(recording, "SELECT status, events FROM spans WHERE tool_call_id = 'c1'")
    assert status["status"] == "error"
    assert json.loads(status["events"])[0]["name"] == "exception"
    (conversation,) = query(recording, "SELECT has_error FROM conversations")
    assert conversation["has_error"]  # the tool errors are on the record
    (workflow,) = query(recording, "SELECT status FROM spans WHERE op = 'workflow'")
    assert workflow["status"] == "unset"  # but the run itself succeeded


async def test_parallel_async_tool_calls_run_concurrently(chat_server, openai_model):
    server = chat_server(
        completion(
            tool_calls=[
                tool_call("fetch", {"source": "crm"}, call_id="f1"),
                tool_call("fetch", {"source": "billing"}, call_id="f2"),
            ]
        ),
        completion(content="done"),
    )
    both_started = asyncio.Barrier(2)

    @tracer.function_tool
    async def fetch(source: str) -> str:
        """Fetch records."""
        # Each call waits here for the other: run one after the other, they time out.
        await asyncio.wait_for(both_started.wait(), timeout=10)
        return f"records from {source}"

    agent = tracer.Agent(name="Collector", model=openai_model(server), tools=[fetch])
    result = await tracer.Runner.run(agent, "collect")

    assert result.final_output == "done"
    assert server.requests[1]["messages"][-2:] == [
        {"role": "tool", "tool_call_id": "f1", "content": "records from crm"},
        {"role": "tool", "tool_call_id": "f2", "content": "records from billing"},
    ]


async def test_parallel_sync_tool_calls_run_concurrently_in_threads(recording):
    both_started = threading.Barrier(2, timeout=10)
    seen: list[str | None] = []

    @tracer.function_tool
    def load(name: str) -> str:
        """Load a file (blocking)."""
        both_started.wait()
        seen.append(_current_tool_name())
        return name.upper()

    model = tracer.ScriptedModel(
        [
            tracer.ModelResponse(
                tool_calls=(
                    tracer.ToolCall("l1", "load", '{"name": "a"}'),
                    tracer.ToolCall("l2", "load", '{"name": "b"}'),
                )
            ),
            tracer.ModelResponse(content="A and B"),
        ]
    )
    agent = tracer.Agent(name="Loader", model=model, tools=[load])
    result = await tracer.Runner.run(agent, "load both")

    assert result.final_output == "A and B"
    assert list(model.requests[1].messages[-2:]) == [
        {"role": "tool", "tool_call_id": "l1", "content": "A"},
        {"role": "tool", "tool_call_id": "l2", "content": "B"},
    ]
    # Inside a tool, its own span is the current one (the thread got the context).
    assert seen == ["load", "load"]


def _current_tool_name() -> object:
    attributes = getattr(trace.get_current_span(), "attributes", None) or {}
    return attributes.get("gen_ai.tool.name")


async def test_tools_can_take_the_run_context_and_return_structured_values():
    class Invoice(BaseModel):
        number: str
        total: float

    @tracer.function_tool
    async def latest_invoice(ctx: tracer.RunContext[dict[str, str]]) -> Invoice:
        """The customer's latest invoice."""
        return Invoice(number=f"{ctx.context['customer']}-1", total=9.5)

    def plain_function(x: int) -> list[int]:
        """Plain functions are wrapped for you."""
        return [x, x]

    model = tracer.ScriptedModel(
        [
            tracer.ModelResponse(
                tool_calls=(
                    tracer.ToolCall("i1", "latest_invoice", ""),
                    tracer.ToolCall("p1", "plain_function", '{"x": 2}'),
                )
            ),
            tracer.ModelResponse(content="ok"),
        ]
    )
    agent = tracer.Agent(name="Billing", model=model, tools=[latest_invoice, plain_function])
    assert isinstance(agent.tools[1], tracer.FunctionTool)

    await tracer.Runner.run(agent, "latest?", context={"customer": "ada"})

    assert [m["content"] for m in model.requests[1].messages[-2:]] == [
        '{"number":"ada-1","total":9.5}',
        "[2, 2]",
    ]


def test_importing_tracer_leaves_openai_and_textual_unloaded():
    # `import tracer` runs on every `baton` command; openai takes ~0.3 s to import.
    code = "import sys, tracer; print(sorted({'openai', 'textual'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
