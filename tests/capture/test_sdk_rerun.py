"""Re-running recorded Agents SDK runs offline (#14): a real workflow (a handoff, a tool,
one agent used as a tool twice at once) on the SDK's real OpenAIResponsesModel and
OpenAIChatCompletionsModel over HTTP to a scripted server on 127.0.0.1, recorded by
``tracer.agents_sdk``, then re-run through ``agents.Runner`` with the agents' own models
pointing where nothing listens. Compared exactly with the SDK's own RunResult."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agents import RunConfig, Runner, RunResultStreaming
from scripted_agents_server import Reply, agent_server, text
from sdk_rerun_agents import NOWHERE, SCRIPTS, build, model_for

import tracer.agents_sdk as agents_sdk
from replay.errors import ReplayError
from replay.sdk_recording import is_sdk_trace, load_sdk_recording
from replay.sdk_rerun import SdkRerunReport, sdk_rerun
from tracer.store import Store

pytestmark = pytest.mark.usefixtures("sdk_processors")

APIS = ("responses", "chat")
HERE = Path(__file__).parent
AGENTS = f"{HERE / 'sdk_rerun_agents.py'}:triage"


async def run(agent: Any, streamed: bool, **options: Any) -> Any:
    if streamed:
        result = Runner.run_streamed(agent, "Is A1 paid?", **options)
        async for _ in result.stream_events():
            pass
        return result
    return await Runner.run(agent, "Is A1 paid?", **options)


def record(store: Store, api: str, streamed: bool, **options: Any) -> tuple[Any, str]:
    """One run of the workflow recorded into ``store``: the SDK's result, the trace id."""

    async def go() -> Any:
        with agent_server(SCRIPTS) as server:
            processor = agents_sdk.install(store)
            try:
                return await run(build(model_for(api, server.base_url)), streamed, **options)
            finally:
                agents_sdk.uninstall(processor)

    result = asyncio.run(go())
    (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]
    return result, trace_id


def items(result: Any) -> list[tuple[str, str, Any]]:
    """A run's items as the SDK made them: type, agent, and the raw item itself."""
    return [(type(i).__name__, i.agent.name, i.raw_item) for i in result.new_items]


def rerun(
    store: Store, trace_id: str, api: str, variant: str = "same", **kw: Any
) -> SdkRerunReport:
    recording = load_sdk_recording(store, trace_id)
    start = build(model_for(api, kw.pop("base_url", NOWHERE)), variant)
    return asyncio.run(sdk_rerun(recording, start, **kw))


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", APIS)
def test_unchanged_agents_rerun_the_recorded_items_exactly(
    tmp_path: Path, api: str, streamed: bool
) -> None:
    store = Store(tmp_path / "s.duckdb")
    original, trace_id = record(store, api, streamed)
    assert is_sdk_trace(store, trace_id)
    recording = load_sdk_recording(store, trace_id)
    assert [(c.turn, c.agent, c.api, c.streamed) for c in recording.calls] == [
        (1, "Triage", api, streamed),
        (2, "Billing", api, streamed),
        (3, "Billing", api, streamed),
        (4, "Researcher", api, False),  # an agent used as a tool runs without streaming
        (5, "Researcher", api, False),
        (6, "Billing", api, streamed),
    ]
    assert recording.input == "Is A1 paid?"

    rerun_ = rerun(store, trace_id, api)

    assert rerun_.report.follows and rerun_.report.stopped is None and rerun_.raised is None
    assert rerun_.notes == ()
    assert isinstance(rerun_.result, RunResultStreaming) == streamed
    assert items(rerun_.result) == items(original)
    assert [r.output for r in rerun_.result.raw_responses] == [
        r.output for r in original.raw_responses
    ]
    assert [r.usage for r in rerun_.result.raw_responses] == [
        r.usage for r in original.raw_responses
    ]
    assert rerun_.result.final_output == original.final_output
    assert rerun_.result.last_agent.name == original.last_agent.name == "Billing"
    assert [t.differences for t in rerun_.report.turns] == [()] * 6


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", APIS)
def test_changed_handoffs_diverge_at_the_first_turn(
    tmp_path: Path, api: str, streamed: bool
) -> None:
    store = Store(tmp_path / "s.duckdb")
    _, trace_id = record(store, api, streamed)

    rerun_ = rerun(store, trace_id, api, "handoffs")

    divergence = rerun_.report.divergence
    assert divergence is not None
    assert (divergence.turn, divergence.aspect, divergence.expected, divergence.got) == (
        1,
        "handoff",
        "Triage hands off to Billing",
        "Triage keeps control",
    )
    assert rerun_.notes == (
        "turn 1: Triage is offered handoffs transfer_to_refunds (recorded: transfer_to_billing)",
    )


@pytest.mark.parametrize("api", APIS)
def test_a_failing_tool_diverges_at_its_turn(tmp_path: Path, api: str) -> None:
    store = Store(tmp_path / "s.duckdb")
    _, trace_id = record(store, api, streamed=False)

    rerun_ = rerun(store, trace_id, api, "tool")

    divergence = rerun_.report.divergence
    assert divergence is not None
    assert (divergence.turn, divergence.aspect, divergence.expected, divergence.got) == (
        2,
        "tool failures",
        "no tool failed",
        "failed: lookup",
    )


def test_live_from_hands_later_turns_to_the_agents_own_model(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    _, trace_id = record(store, "responses", streamed=False)
    live = {"Bill.": [Reply([text("Live: A1 is paid.")], (99, 9))]}
    with agent_server(live) as server:
        rerun_ = rerun(store, trace_id, "responses", live_from=2, base_url=server.base_url)
        asked = [r.script for r in server.received]

    assert asked == ["Bill."]
    assert [(t.turn, t.live) for t in rerun_.report.turns] == [
        (1, False),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
    ]
    assert rerun_.result.final_output == "Live: A1 is paid."
    assert rerun_.report.turns[1].got is not None
    assert rerun_.report.turns[1].got.describe() == 'Billing: answers "Live: A1 is paid."'


def test_without_sensitive_data_the_run_cannot_be_re_served(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    _, trace_id = record(
        store, "responses", streamed=False, run_config=RunConfig(trace_include_sensitive_data=False)
    )
    recording = load_sdk_recording(store, trace_id)
    with pytest.raises(ReplayError) as raised:
        asyncio.run(sdk_rerun(recording, build(model_for("responses", NOWHERE))))
    assert str(raised.value) == (
        f"trace {trace_id} cannot be re-served: turns 1, 2, 3, 4, 5, 6 (Triage's call first): "
        "the SDK kept no response for this call: the run was traced without sensitive data "
        "(RunConfig(trace_include_sensitive_data=False) or "
        "OPENAI_AGENTS_TRACE_INCLUDE_SENSITIVE_DATA=false), or the call failed; or hand "
        "those turns to the live model with --live-from 1"
    )


def test_the_command_reruns_records_and_diffs(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store(path)
    _, trace_id = record(store, "chat", streamed=True)
    store.absorb_if_free()
    env = {**os.environ, "SDK_RERUN_API": "chat", "BATON_STORE": str(path)}

    def baton(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).parents[2],
            timeout=120,
        )

    done = baton("replay", trace_id, "--agents", AGENTS, "--record-to", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"Re-running Agents SDK run {trace_id} (6 model calls recorded) from Triage "
        "through agents.Runner, streamed, offline."
    )
    assert lines[1:8] == [
        "   1 ✓ Triage: hands off to Billing",
        '   2 ✓ Billing: lookup {"invoice": "A1"}',
        '   3 ✓ Billing: ask_researcher {"input": "Is A1 refundable?"}, ask_researcher {…',
        '   4 ✓   Researcher: answers "Research says yes."',
        '   5 ✓   Researcher: answers "Research says no."',
        '   6 ✓ Billing: answers "A1: 42 EUR, paid, refundable."',
        "Follows the recorded path to the end (6 turns).",
    ]
    rerun_id = lines[8].split()[4]
    assert lines[8] == (
        f"Recorded the re-run as {rerun_id} in {path}; compare: baton diff {trace_id} {rerun_id}"
    )
    diffed = baton("diff", trace_id, rerun_id)
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr
    assert diffed.stdout.splitlines()[-1] == "Same path (6 turns)."
    metadata = (
        Store(path)
        .query(
            "SELECT attributes->>'openai_agents.metadata' FROM spans "
            "WHERE trace_id = ? AND parent_span_id IS NULL",
            [rerun_id],
        )
        .rows
    )
    assert metadata == [(json.dumps({"baton.rerun_of": trace_id}),)]

    changed = baton("replay", trace_id, "--agents", AGENTS, "--format", "json")
    assert changed.returncode == 0, changed.stderr
    report = json.loads(changed.stdout)
    assert (report["trace_id"], report["follows"], report["first_divergence"]) == (
        trace_id,
        True,
        None,
    )
    assert [t["got"]["agent"] for t in report["turns"]] == [
        "Triage",
        "Billing",
        "Billing",
        "Researcher",
        "Researcher",
        "Billing",
    ]

    env["SDK_RERUN_VARIANT"] = "handoffs"
    diverged = baton("replay", trace_id, "--agents", AGENTS)
    assert diverged.returncode == 1, diverged.stderr
    assert diverged.stdout.splitlines()[-4:] == [
        "Diverges at turn 1 (handoff):",
        "  expected: Triage hands off to Billing",
        "  got:      Triage keeps control",
        "Note: turn 1: Triage is offered handoffs transfer_to_refunds "
        "(recorded: transfer_to_billing)",
    ]


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
def test_a_ping_pong_to_max_turns_reruns_to_the_same_end(tmp_path: Path, streamed: bool) -> None:
    from agents import Agent, MaxTurnsExceeded
    from scripted_agents_server import call

    scripts = {
        "Route.": [Reply([call(f"tb{n}", "transfer_to_billing")], (10 + n, 1)) for n in range(2)],
        "Bill.": [Reply([call(f"tt{n}", "transfer_to_triage")], (30 + n, 1)) for n in range(2)],
    }

    def pair(model: Any) -> Any:
        billing = Agent(name="Billing", instructions="Bill.", model=model)
        triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing])
        billing.handoffs = [triage]
        return triage

    store = Store(tmp_path / "s.duckdb")

    async def go() -> None:
        with agent_server(scripts) as server:
            processor = agents_sdk.install(store)
            try:
                with pytest.raises(MaxTurnsExceeded):
                    await run(pair(model_for("chat", server.base_url)), streamed, max_turns=4)
            finally:
                agents_sdk.uninstall(processor)

    asyncio.run(go())
    (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]
    recording = load_sdk_recording(store, trace_id)
    assert (recording.max_turns, recording.streamed) == (4, streamed)

    rerun_ = asyncio.run(sdk_rerun(recording, pair(model_for("chat", NOWHERE))))

    assert rerun_.report.follows
    assert rerun_.report.stopped == 'Max turns exceeded: {"max_turns": 4}'
    assert type(rerun_.raised) is MaxTurnsExceeded
    assert [t.got.describe() for t in rerun_.report.turns if t.got] == [
        "Triage: hands off to Billing",
        "Billing: hands off to Triage",
        "Triage: hands off to Billing",
        "Billing: hands off to Triage",
    ]


def test_with_content_capture_off_the_run_cannot_be_re_served(tmp_path: Path) -> None:
    from tracer.capture.config import settings

    store = Store(tmp_path / "s.duckdb")
    before, settings.capture_content = settings.capture_content, False
    try:
        _, trace_id = record(store, "responses", streamed=False)
    finally:
        settings.capture_content = before
    recording = load_sdk_recording(store, trace_id)
    assert {c.unservable for c in recording.calls} == {
        "recorded with content capture off (tracer.setup(capture_content=False))"
    }
    with pytest.raises(ReplayError) as raised:
        asyncio.run(sdk_rerun(recording, build(model_for("responses", NOWHERE))))
    assert str(raised.value).startswith(
        f"trace {trace_id} cannot be re-served: turns 1, 2, 3, 4, 5, 6 (Triage's call first): "
        "recorded with content capture off"
    )


def test_a_response_cut_by_the_value_limit_is_named(tmp_path: Path) -> None:
    from tracer.store.sanitize import Limits

    store = Store(tmp_path / "s.duckdb")

    async def go() -> None:
        with agent_server(SCRIPTS) as server:
            processor = agents_sdk.install(store)
            processor.limits = Limits(max_value_chars=200)
            try:
                await run(build(model_for("responses", server.base_url)), False)
            finally:
                agents_sdk.uninstall(processor)

    asyncio.run(go())
    (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]
    recording = load_sdk_recording(store, trace_id)
    assert {c.unservable for c in recording.calls} == {
        "its response was cut by the store's value limit (raise BATON_MAX_VALUE_CHARS before "
        "recording)"
    }


@pytest.mark.parametrize("api", APIS)
def test_agents_with_a_model_name_keep_its_default_settings(tmp_path: Path, api: str) -> None:
    """Agents naming their model ("gpt-5", served by a RunConfig's provider) get the SDK's
    defaults for it (reasoning effort, verbosity) in the re-run as they did when recorded."""
    from agents import Agent, OpenAIProvider
    from openai import AsyncOpenAI

    def named() -> Any:
        billing = Agent(name="Billing", instructions="Bill.", model="gpt-5")
        return Agent(name="Triage", instructions="Route.", model="gpt-5", handoffs=[billing])

    scripts = {"Route.": SCRIPTS["Route."], "Bill.": [Reply([text("Paid.")], (11, 2))]}
    store = Store(tmp_path / "s.duckdb")

    async def go() -> tuple[Any, list[Any]]:
        with agent_server(scripts) as server:
            client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test-rerun", max_retries=0)
            provider = OpenAIProvider(openai_client=client, use_responses=api == "responses")
            processor = agents_sdk.install(store)
            try:
                result = await run(named(), False, run_config=RunConfig(model_provider=provider))
            finally:
                agents_sdk.uninstall(processor)
            return result, [r.body.get("reasoning") for r in server.received]

    original, reasoning = asyncio.run(go())
    if api == "responses":
        assert reasoning == [{"effort": "low"}, {"effort": "low"}]
    (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]

    rerun_ = asyncio.run(sdk_rerun(load_sdk_recording(store, trace_id), named()))

    assert rerun_.report.follows and rerun_.notes == ()
    assert items(rerun_.result) == items(original)
