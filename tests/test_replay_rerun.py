"""Offline re-runs of recorded runs of baton's runner, with the user's current agents."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from replay_runs import QUESTION, Recorded, record_run, support_script, write_agents

import tracer
from replay.agents_spec import import_agents, starting_agent
from replay.errors import ReplayError
from replay.recording import load_recording
from replay.rerun import rerun
from tracer.runner.chat_server import ChatServer, ScriptedResponder, completion
from tracer.runner.models.scripted import tool_call


@pytest.fixture
def recorded(store: tracer.Store, tmp_path: Path) -> Recorded:
    agents = write_agents(tmp_path, "agents_v1")
    return Recorded(store, record_run(store, agents, support_script()), agents)


async def rerun_with(recorded: Recorded, path: Path | None = None, **options: int):  # type: ignore[no-untyped-def]
    recording = load_recording(recorded.store, recorded.trace_id)
    found = import_agents(recorded.spec(path=path))
    return await rerun(recording, starting_agent(found, "spec", recording.first_agent), **options)


def baton(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert "OPENAI_API_KEY" not in os.environ and "OPENAI_BASE_URL" not in os.environ
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


async def test_the_unchanged_agents_follow_the_recorded_path_offline(recorded: Recorded) -> None:
    report = await rerun_with(recorded)

    assert report.follows, report.divergence
    assert report.stopped is None
    assert [(t.got.depth, t.got.describe()) for t in report.turns if t.got] == [
        (0, "Triage: hands off to Billing"),
        (0, 'Billing: lookup_invoice {"order_id": 7}'),
        (0, 'Billing: policy {"input": "refund window?"}'),
        (1, 'Policy: answers "30 days."'),
        (0, "Billing: hands off to Refunds"),
        (0, 'Refunds: answers "Refunded 42.00 EUR."'),
    ]
    assert all(t.differences == () for t in report.turns)
    # Tools ran for real, against the agents as defined now; the agents were not touched.
    module = sys.modules["agents_v1"]
    assert module.CALLS == [7]
    assert module.triage.model == "gpt-test"
    # The re-run recorded itself apart: the store holds only the original run.
    assert recorded.store.query("SELECT count(DISTINCT trace_id) FROM spans").rows == [(1,)]


@pytest.mark.parametrize("attribute", ["BY_NAME", "build"])
async def test_agents_given_as_a_dict_or_a_factory_start_from_the_recorded_agent(
    recorded: Recorded, attribute: str
) -> None:
    recording = load_recording(recorded.store, recorded.trace_id)
    start = starting_agent(import_agents(recorded.spec(attribute)), attribute, "Triage")
    assert start.name == "Triage"
    assert (await rerun(recording, start)).follows


def test_the_command_reports_turn_by_turn_and_exits_0(recorded: Recorded) -> None:
    result = baton(
        "replay",
        recorded.trace_id,
        "--agents",
        recorded.spec(),
        "--store",
        str(recorded.store.path),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == f"Re-running {recorded.trace_id} (6 model calls recorded) from Triage, offline."
    )
    assert lines[1:7] == [
        "   1 ✓ Triage: hands off to Billing",
        '   2 ✓ Billing: lookup_invoice {"order_id": 7}',
        '   3 ✓ Billing: policy {"input": "refund window?"}',
        '   4 ✓   Policy: answers "30 days."',
        "   5 ✓ Billing: hands off to Refunds",
        '   6 ✓ Refunds: answers "Refunded 42.00 EUR."',
    ]
    assert lines[7] == "Follows the recorded path to the end (6 turns)."


def test_a_changed_handoff_diverges_where_it_happens(recorded: Recorded, tmp_path: Path) -> None:
    changed = write_agents(tmp_path, "agents_sales", billing_handoffs="sales")
    result = baton(
        "replay",
        recorded.trace_id,
        "--agents",
        recorded.spec(path=changed),
        "--store",
        str(recorded.store.path),
    )
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "   5 ✗ Billing: transfer_to_refunds ✗" not in out
    assert "Diverges at turn 5 (handoff):" in out
    assert "  expected: Billing hands off to Refunds" in out
    assert "  got:      Billing keeps control" in out
    assert "   4 ✓   Policy" in out  # everything before was on the path


async def test_an_agent_that_no_longer_hands_off_diverges_at_that_turn(
    recorded: Recorded, tmp_path: Path
) -> None:
    changed = write_agents(tmp_path, "agents_no_billing", triage_handoffs="")
    report = await rerun_with(recorded, changed)
    assert report.divergence is not None
    assert (report.divergence.turn, report.divergence.aspect) == (1, "handoff")
    # It stopped at the next call: the recording answers Billing's turn 2, not Triage's.
    assert [t.got.agent for t in report.turns if t.got] == ["Triage", "Triage"]


async def test_a_tool_that_now_fails_diverges(recorded: Recorded, tmp_path: Path) -> None:
    changed = write_agents(
        tmp_path, "agents_failing", lookup_body='raise ValueError("ledger offline")'
    )
    report = await rerun_with(recorded, changed)
    assert report.divergence is not None
    assert (report.divergence.turn, report.divergence.aspect) == (2, "tool failures")
    assert report.divergence.got == "failed: lookup_invoice"


async def test_an_answer_the_agent_can_no_longer_accept_is_a_different_outcome(
    recorded: Recorded, tmp_path: Path
) -> None:
    changed = write_agents(tmp_path, "agents_typed", refunds_output="Verdict")
    report = await rerun_with(recorded, changed)
    assert report.divergence is not None
    assert report.divergence.aspect == "outcome"
    assert report.divergence.got.startswith(
        "ModelBehaviorError: Refunds's answer is not a valid Verdict"
    )
    assert report.divergence.expected == "the run answers"


async def test_a_run_that_hit_max_turns_is_followed_to_the_same_end(
    store: tracer.Store, tmp_path: Path
) -> None:
    agents = write_agents(tmp_path, "agents_short")
    trace_id = await asyncio.to_thread(record_run, store, agents, support_script(), max_turns=3)
    report = await rerun_with(Recorded(store, trace_id, agents))
    assert report.follows, report.divergence
    assert report.stopped is not None and report.stopped.startswith("MaxTurnsExceeded")


def test_live_from_hands_later_turns_to_the_live_model(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live model (here a local server through the real openai client) answers turn 5
    # differently: Billing answers itself instead of handing off.
    live = ChatServer(ScriptedResponder([completion(content="I refunded it myself.")])).start()
    try:
        env = {**os.environ, "OPENAI_BASE_URL": live.base_url, "OPENAI_API_KEY": "test-key"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "replay",
                recorded.trace_id,
                "--agents",
                recorded.spec(),
                "--store",
                str(recorded.store.path),
                "--live-from",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        live.stop()
    assert result.returncode == 1, result.stderr
    assert "live from turn 5" in result.stdout.splitlines()[0]
    assert '   5 ~ Billing: answers "I refunded it myself."' in result.stdout
    assert "Diverges at turn 5 (handoff):" in result.stdout
    # The live model saw the conversation as the recorded turns left it.
    (request,) = live.requests
    assert request["model"] == "gpt-test"
    assert request["messages"][0] == {"role": "system", "content": "Answer billing questions."}
    assert request["messages"][1] == {"role": "user", "content": QUESTION}
    assert {"role": "tool", "tool_call_id": "p1", "content": "30 days."} in request["messages"]


async def test_live_from_that_answers_as_recorded_follows(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ChatServer(ScriptedResponder(support_script()[4:])) as live:
        monkeypatch.setenv("OPENAI_BASE_URL", live.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        report = await rerun_with(recorded, live_from=5)
    assert report.follows, report.divergence
    assert [t.live for t in report.turns] == [False] * 4 + [True] * 2


def test_bad_input_exits_2_with_a_clear_message(recorded: Recorded, tmp_path: Path) -> None:
    store = ["--store", str(recorded.store.path)]
    unknown = baton("replay", "0123456789abcdef", "--agents", recorded.spec(), *store)
    assert unknown.returncode == 2
    assert f"no conversation or trace '0123456789abcdef' in {recorded.store.path}" in unknown.stderr

    missing = baton("replay", recorded.trace_id, "--agents", "nowhere.agents:triage", *store)
    assert missing.returncode == 2
    assert (
        "cannot import nowhere.agents (--agents nowhere.agents:triage): ModuleNotFoundError: No module named 'nowhere'"
        in missing.stderr
    )
    assert "Traceback" not in missing.stderr

    broken = tmp_path / "broken_agents.py"
    broken.write_text("import tracer\n\ntriage = tracer.Agnet(name='Triage')\n", encoding="utf-8")
    failing = baton(
        "replay", recorded.trace_id, "--agents", "broken_agents:triage", *store, cwd=tmp_path
    )
    assert failing.returncode == 2
    assert "AttributeError: module 'tracer' has no attribute 'Agnet'" in failing.stderr
    assert "(broken_agents.py:3)" in failing.stderr  # where, in the user's code
    assert "Traceback" not in failing.stderr

    no_attr = baton("replay", recorded.trace_id, "--agents", recorded.spec("triag"), *store)
    assert no_attr.returncode == 2
    assert (
        "has no 'triag'" in no_attr.stderr
        and "its agents: billing, policy, refunds, sales, triage" in no_attr.stderr
    )

    not_agents = baton("replay", recorded.trace_id, "--agents", recorded.spec("CALLS"), *store)
    assert not_agents.returncode == 2 and "is a list" not in not_agents.stderr
    assert "holds no Agent" in not_agents.stderr


def test_a_run_recorded_without_content_cannot_be_replayed(
    store: tracer.Store, tmp_path: Path
) -> None:
    agents = write_agents(tmp_path, "agents_quiet")
    trace_id = record_run(store, agents, support_script(), capture_content=False)
    result = baton("replay", trace_id, "--agents", f"{agents}:triage", "--store", str(store.path))
    assert result.returncode == 2
    assert f"trace {trace_id} has no recorded input" in result.stderr
    assert "content capture on" in result.stderr


def test_turns_without_a_recorded_response_are_named(store: tracer.Store, tmp_path: Path) -> None:
    from spanmaker import SpanMaker

    maker = SpanMaker(store)
    question = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    answer = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "h", "name": "transfer_to_billing", "arguments": "{}"}
            ],
        }
    ]
    with maker.workflow("partial"):
        with maker.agent("Triage"):
            maker.chat(input_messages=question, output_messages=answer)
            maker.handoff("Billing")
        with maker.agent("Billing"):
            maker.chat(input_messages=question)
            maker.chat(final=True)
    maker.close()
    agents = write_agents(tmp_path, "agents_partial")
    result = baton("replay", "partial", "--agents", f"{agents}:triage", "--store", str(store.path))
    assert result.returncode == 2
    assert "without the model's responses for turns 2, 3, so they cannot be served" in result.stderr
    assert "--live-from 2" in result.stderr


def test_a_conversation_of_several_runs_asks_for_one_of_them(
    store: tracer.Store, tmp_path: Path
) -> None:
    from spanmaker import SpanMaker, ping_pong_run

    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], "two-runs")
    ping_pong_run(maker, [("Triage", "Billing")], "two-runs")
    maker.close()
    with pytest.raises(
        ReplayError, match=r"is a conversation of 2 runs.*give one of its trace ids"
    ):
        load_recording(store, "two-runs")


def test_help_lists_run_and_serve() -> None:
    result = baton("replay", "--help")
    assert result.returncode == 0
    assert "run" in result.stdout and "serve" in result.stdout


def test_the_tool_call_id_of_the_recorded_answer_is_served_as_is(recorded: Recorded) -> None:
    recording = load_recording(recorded.store, recorded.trace_id)
    assert recording.input == QUESTION and recording.first_agent == "Triage"
    first = recording.calls[0].response
    assert first is not None and first.tool_calls == (
        tool_call("transfer_to_billing", call_id="h1"),
    )
    assert first.model == "gpt-test-1"
    assert [c.depth for c in recording.calls] == [0, 0, 0, 1, 0, 0]
