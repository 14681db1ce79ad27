"""The Agents SDK loop guard (#14): a real ping-pong between two agents on the SDK's real
models over HTTP to a scripted server on 127.0.0.1, stopped at the configured threshold
in both policies, streamed or not, inside an agent used as a tool, and through
``install(loop_guard=True)``; compared with the requests the server got and the SDK's
own items."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, HandoffOutputItem, Runner
from scripted_agents_server import Reply, agent_server, call, text
from sdk_rerun_agents import model_for

import tracer
import tracer.agents_sdk as agents_sdk
from tracer.loops import LoopSettings
from tracer.store import Store

pytestmark = pytest.mark.usefixtures("sdk_processors")


def ping_pong_scripts(rounds: int) -> dict[str, list[Reply]]:
    """Triage and Billing hand the request to each other ``rounds`` times each."""
    to_billing = [
        Reply([call(f"tb{n}", "transfer_to_billing")], (10 + n, 1)) for n in range(rounds)
    ]
    to_triage = [Reply([call(f"tt{n}", "transfer_to_triage")], (30 + n, 1)) for n in range(rounds)]
    return {"Route.": to_billing, "Bill.": to_triage}


def pair(model: Any) -> Agent[Any]:
    billing = Agent(name="Billing", instructions="Bill.", model=model)
    triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing])
    billing.handoffs = [triage]
    return triage


async def play(agent: Agent[Any], streamed: bool, **options: Any) -> Any:
    if streamed:
        result = Runner.run_streamed(agent, "Is A1 paid?", **options)
        async for _ in result.stream_events():
            pass
        return result
    return await Runner.run(agent, "Is A1 paid?", **options)


def handoffs(items: Any) -> list[tuple[str, str]]:
    return [
        (i.source_agent.name, i.target_agent.name)
        for i in items
        if isinstance(i, HandoffOutputItem)
    ]


@pytest.mark.parametrize("threshold", [3, 5])
@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_raise_stops_the_ping_pong_at_the_threshold(
    api: str, streamed: bool, threshold: int
) -> None:
    guard = agents_sdk.LoopGuard(settings=LoopSettings(two_cycle_handoffs=threshold))

    async def go() -> tuple[BaseException, list[str]]:
        with agent_server(ping_pong_scripts(5)) as server:
            with pytest.raises(tracer.HandoffLoopError) as raised:
                await play(pair(model_for(api, server.base_url)), streamed, hooks=guard)
            return raised.value, [r.script for r in server.received]

    error, asked = asyncio.run(go())

    # Each handoff is one model call: the guard stops the run at the threshold's handoff.
    assert asked == ["Route.", "Bill."] * (threshold // 2) + ["Route."] * (threshold % 2)
    assert error.loop.agents == ("Triage", "Billing")  # type: ignore[attr-defined]
    assert error.loop.handoffs == threshold  # type: ignore[attr-defined]
    assert [loop.handoffs for loop in guard.loops] == [threshold]
    # The partial run: the turns before the one whose handoff completed the loop.
    partial = error.result  # type: ignore[attr-defined]
    assert [r.usage.input_tokens for r in partial.raw_responses] == [
        10 + n // 2 if n % 2 == 0 else 30 + n // 2 for n in range(threshold - 1)
    ]
    assert handoffs(partial.new_items) == [
        ("Triage", "Billing") if n % 2 == 0 else ("Billing", "Triage") for n in range(threshold - 1)
    ]


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
def test_answer_makes_the_holding_agent_answer_without_handoffs(streamed: bool) -> None:
    guard = agents_sdk.LoopGuard("answer")

    async def go() -> tuple[Any, list[tuple[str, list[str]]]]:
        scripts = {
            "Route.": ping_pong_scripts(2)["Route."],
            "Bill.": [
                *ping_pong_scripts(1)["Bill."],
                Reply([text("Billing answers: A1 is paid.")], (99, 9)),
            ],
        }
        with agent_server(scripts) as server:
            triage = guard.protect(pair(model_for("responses", server.base_url)))
            result = await play(triage, streamed, hooks=guard)
            offered = [
                (r.script, [t["name"] for t in r.body.get("tools") or ()]) for r in server.received
            ]
            return result, offered

    result, offered = asyncio.run(go())

    # Triage → Billing → Triage → Billing is the loop; Billing, holding control, is
    # offered no handoff and answers.
    assert offered == [
        ("Route.", ["transfer_to_billing"]),
        ("Bill.", ["transfer_to_triage"]),
        ("Route.", ["transfer_to_billing"]),
        ("Bill.", []),
    ]
    assert result.final_output == "Billing answers: A1 is paid."
    assert result.last_agent.name == "Billing"
    assert handoffs(result.new_items) == [
        ("Triage", "Billing"),
        ("Billing", "Triage"),
        ("Triage", "Billing"),
    ]
    assert [loop.describe() for loop in guard.loops] == ["Triage ⇄ Billing ×3"]


def test_install_guards_runs_inside_an_agent_used_as_a_tool(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    scripts = {
        **ping_pong_scripts(3),
        "Manage.": [
            Reply([call("m1", "ask_desk", {"input": "Is A1 paid?"})], (50, 1)),
            Reply([text("The desk could not settle it.")], (51, 1)),
        ],
    }

    async def go() -> tuple[Any, list[str]]:
        with agent_server(scripts) as server:
            desk = pair(model_for("responses", server.base_url))
            manager = Agent(
                name="Manager",
                instructions="Manage.",
                model=model_for("responses", server.base_url),
                tools=[desk.as_tool(tool_name="ask_desk", tool_description="Ask the desk.")],
            )
            processor = agents_sdk.install(store, loop_guard=True)
            try:
                result = await Runner.run(manager, "Is A1 paid?")
            finally:
                agents_sdk.uninstall_loop_guard()
                agents_sdk.uninstall(processor)
            return result, [r.script for r in server.received]

    result, asked = asyncio.run(go())

    # The nested run stops at its third handoff; the agent tool reports the failure to
    # the Manager, which answers.
    assert asked == ["Manage.", "Route.", "Bill.", "Route.", "Manage."]
    assert result.final_output == "The desk could not settle it."
    detected = store.query(
        "SELECT attributes->>'openai_agents.custom.agents', "
        "attributes->>'openai_agents.custom.handoffs', "
        "attributes->>'openai_agents.custom.policy' FROM spans WHERE name = 'baton.loop_detected'"
    ).rows
    assert detected == [('["Triage","Billing"]', "3", "raise")]
    loops = store.query("SELECT agents, handoffs FROM loops").rows
    assert loops == [(["Triage", "Billing"], 3)]
