"""The replay tells the truth about Agents SDK runs: every scenario of ``sdk_scenarios`` on
the SDK's real OpenAIResponsesModel and OpenAIChatCompletionsModel (over HTTP to a scripted
server on 127.0.0.1), streamed and not, recorded by each capture path, and compared
exactly with the SDK's own RunResult and the requests the server received."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
from agents.tracing import set_trace_processors
from collector_process import CollectorProcess
from openai import AsyncOpenAI
from opentelemetry.sdk.trace import SpanProcessor
from scripted_agents_server import agent_server
from sdk_scenarios import (
    AGENT_TOOL_WITH_HANDOFF,
    GUARDRAIL_PASSES,
    GUARDRAIL_TRIPS,
    INPUT_FILTER,
    SCENARIOS,
    TWO_HANDOFFS,
    Run,
    Scenario,
)
from sdk_truth import PATHS, StepTruth, Truth, capture, recorded_steps

from replay import Conversation, load_conversation
from replay.model import Step
from tracer.store import Store

pytestmark = pytest.mark.usefixtures("sdk_processors")

#: What a capture path does not export, so is left out of its comparison (the README's
#: producer table says the same). The OTel contrib instrumentation records a model call's
#: messages as the Python repr of the SDK's items, and no system instructions; its tool
#: spans have no call id, so neither can be paired with the model's request. (OpenInference
#: tool spans have no call id either: the replay pairs them by name and arguments.)
NOT_EXPORTED: dict[str, frozenset[str]] = {
    "tracer.agents_sdk": frozenset(),
    "openinference": frozenset(),
    "otel_contrib": frozenset({"input", "output", "call_ids"}),
}


def without(steps: list[StepTruth], fields: frozenset[str]) -> list[StepTruth]:
    blank: dict[str, Any] = {name: () for name in fields if name != "call_ids"}
    return [
        replace(
            step,
            **{
                **blank,
                "tool_calls": tuple(c[:3] for c in step.tool_calls)
                if "call_ids" in fields
                else step.tool_calls,
            },
            nested=tuple(without(list(step.nested), fields)),
            guardrails=tuple(
                (name, outcome, tuple(without(list(run), fields)))
                for name, outcome, run in step.guardrails
            ),
        )
        for step in steps
    ]


async def play(
    scenario: Scenario,
    path: str,
    api: str,
    streamed: bool,
    store: Store,
    processor: SpanProcessor | None = None,
) -> tuple[Run, Truth]:
    run = Run()
    with agent_server(scenario.scripts) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test-fidelity", max_retries=0)
        model: Any = (
            OpenAIResponsesModel(model="gpt-scripted", openai_client=client)
            if api == "responses"
            else OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
        )
        with capture(path, store, processor):
            await scenario.play(model, streamed, run)
    return run, Truth(server, scenario.agents)


#: Run-level facts a capture path does not export. Only the live processor records whether
#: a run was streamed and its Session; OTLP paths keep a session's runs one conversation
#: only with ``trace(group_id=...)``. The contrib instrumentation's model messages are
#: Python reprs, so the replay cannot read a handoff's reason from them.
RUN_NOT_EXPORTED: dict[str, frozenset[str]] = {
    "tracer.agents_sdk": frozenset(),
    "openinference": frozenset({"streamed", "session", "input_filter"}),
    "otel_contrib": frozenset({"streamed", "session", "input_filter", "reason", "final_output"}),
}


def conversations_of(store: Store, path: str, scenario: Scenario) -> list[Conversation]:
    """The recorded conversations in the order they started: one, unless the runs were
    grouped by a Session that the path does not record (then one per run)."""
    rows = store.query("SELECT conversation_id FROM conversations ORDER BY started_at").rows
    if scenario.group_id is None and "session" in RUN_NOT_EXPORTED[path]:
        return [load_conversation(store, row[0]) for row in rows]
    assert len(rows) == 1, rows
    return [load_conversation(store, rows[0][0])]


def transitions_expected(steps: Sequence[StepTruth]) -> list[tuple[Any, ...]]:
    """(from, to, transfer tool, its arguments, the text beside it, ignored others) for
    every handoff, nested runs' first, in the order they happened."""
    found: list[tuple[Any, ...]] = []
    for step in steps:
        for _, _, run in step.guardrails:
            found += transitions_expected(run)
        found += transitions_expected(step.nested)
        if step.handoff is None:
            continue
        ran = {call[0] for call in step.tool_calls}
        calls = [p for p in step.output if p[1] == "tool_call" and p[2] not in ran]
        text = "\n".join(p[2] for p in step.output if p[1] == "text") or None
        found.append((*step.handoff, calls[0][2], calls[0][3], text, len(calls) > 1))
    return found


def transitions_recorded(conversation: Conversation) -> list[tuple[Any, ...]]:
    return [
        (
            t.from_agent,
            t.to_agent,
            t.reason.tool if t.reason else None,
            t.reason.arguments if t.reason else None,
            t.reason.text if t.reason else None,
            bool(t.warning and t.warning.startswith("Multiple handoffs requested")),
        )
        for t in conversation.transitions
    ]


def nested_count(steps: Sequence[StepTruth]) -> int:
    return sum(
        len(step.nested)
        + nested_count(step.nested)
        + sum(len(run) + nested_count(run) for _, _, run in step.guardrails)
        for step in steps
    )


def inside(step: Step) -> list[Step]:
    """Every step nested under ``step``, at any depth."""
    found: list[Step] = []
    for inner in [
        *(s for call in step.tool_calls for s in call.nested),
        *(s for g in step.guardrails for s in g.nested),
    ]:
        found += [inner, *inside(inner)]
    return found


def user_text(given: Any) -> str:
    if isinstance(given, str):
        return given
    return str([item for item in given if item.get("role") == "user"][-1]["content"])


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", ["responses", "chat"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_the_replay_is_what_the_sdk_did(
    scenario: Scenario, path: str, api: str, streamed: bool, store: Store
) -> None:
    run, truth = await play(scenario, path, api, streamed, store)
    check(scenario, path, streamed, store, run, truth)


@pytest.mark.parametrize("path", ["openinference", "otel_contrib"])
@pytest.mark.parametrize(
    "scenario", [GUARDRAIL_PASSES, AGENT_TOOL_WITH_HANDOFF, TWO_HANDOFFS], ids=lambda s: s.name
)
async def test_the_same_over_otlp_to_baton_collect(
    scenario: Scenario, path: str, collector: CollectorProcess
) -> None:
    """The instrumentations as users ship them: the standard OTLP/HTTP exporter, batched,
    to a real ``baton collect`` (spans arrive in any order and batch)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    processor = BatchSpanProcessor(
        OTLPSpanExporter(endpoint=collector.url), max_export_batch_size=3
    )
    run, truth = await play(scenario, path, "responses", True, collector.store, processor)
    code, _, err = collector.stop()
    assert code == 0, err
    check(scenario, path, True, collector.store, run, truth)


def check(
    scenario: Scenario, path: str, streamed: bool, store: Store, run: Run, truth: Truth
) -> None:
    """Everything the replay and the views say about ``run``, against the SDK's account."""
    conversations = conversations_of(store, path, scenario)
    # A run the SDK ended with an exception: its account is the exception's run_data.
    results: list[Any] = [*run.results] or [getattr(run.raised, "run_data", None)]
    expected = [step for result in results if result for step in truth.steps(result, run.nested)]
    gaps, run_gaps = NOT_EXPORTED[path], RUN_NOT_EXPORTED[path]

    # Every top-level step: agent, messages in and out with the system message, tool
    # calls with arguments and results, handoff, nested runs and guardrails, tokens.
    steps = [step for conversation in conversations for step in conversation.steps]
    assert without(recorded_steps(steps), gaps) == without(expected, gaps)

    # Handoffs with their reason, and the ignored second handoff as a warning.
    transitions = [t for c in conversations for t in transitions_recorded(c)]
    want = transitions_expected(expected)
    if "reason" in run_gaps:
        transitions = [(*t[:2], t[5]) for t in transitions]
        want = [(*t[:2], t[5]) for t in want]
    assert transitions == want

    # One user turn per user message, each with the agent that answered in the end, the
    # run's final output, and (where recorded) whether it was streamed and its session.
    turns = [u for c in conversations for u in c.user_turns]
    recorded_turns = [
        (
            u.text,
            u.last_agent,
            u.final_output if "final_output" not in run_gaps else None,
            u.streamed if "streamed" not in run_gaps else None,
            u.session_id if "session" not in run_gaps else None,
        )
        for u in turns
    ]
    assert recorded_turns == [
        (
            user_text(result.input),
            result.last_agent.name,
            None
            if getattr(result, "final_output", None) is None or "final_output" in run_gaps
            else str(result.final_output),
            streamed if "streamed" not in run_gaps else None,
            run.session_id if "session" not in run_gaps else None,
        )
        for result in results
        if result is not None and result.raw_responses  # a run that made a model call
    ]

    # A nested step answers the same user message as the step it runs under.
    assert [
        {inner.user_turn for inner in inside(step)} - {step.user_turn}
        for c in conversations
        for step in c.steps
    ] == [set() for c in conversations for _ in c.steps]

    # Errors: only what the SDK raised; a tripped guardrail is named, and shown with its
    # agent's run even though no step followed it.
    errors = [e for c in conversations for e in c.errors]
    if run.raised is None:
        assert errors == []
    else:
        assert [type(run.raised).__name__] == [
            "MaxTurnsExceeded"
            if "Max turns exceeded" in f"{e.kind} {e.message}"
            else "InputGuardrailTripwireTriggered"
            if "harm" in (e.message or "") and "tripwire" in (e.message or "").lower()
            else e.kind
            for e in errors
        ]
    if scenario is GUARDRAIL_TRIPS:
        (guardrail,) = conversations[0].guardrails
        verdict = run.nested.guardrails[(20, 1)][0][2]
        want_run = [s for r in verdict for s in truth.steps(r, run.nested)]
        assert (
            guardrail.name,
            guardrail.outcome,
            without(recorded_steps(guardrail.nested), gaps),
        ) == (
            "harm",
            "tripped",
            without(want_run, gaps),
        )

    # The handoff input filter, and what it removed: the calls (and their results) in
    # what the first agent had that the next agent's request no longer carried.
    if scenario is INPUT_FILTER:
        (transition,) = conversations[0].transitions
        triage, expert = expected[1], expected[2]
        ids = {p[-1] for p in (*triage.input, *triage.output) if p[1].startswith("tool_call")}
        kept = {p[-1] for p in expert.input if p[1].startswith("tool_call")}
        if "input_filter" in run_gaps:
            assert (transition.input_filter, transition.removed) == (None, None)
        else:
            assert transition.input_filter == "remove_all_tools"
            removed = {re.sub(r".*\((.+)\)$", r"\1", item) for item in transition.removed or ()}
            assert removed == ids - kept == {"a1", "h1"}

    # The views: the conversation list (has_error, turns nested or not), the turns, the
    # README's "which agent answered in the end", and the handoffs' reason column.
    listed = store.query(
        "SELECT has_error, n_turns, n_nested_turns FROM conversations ORDER BY started_at"
    ).rows
    nested = nested_count(expected)
    if scenario is GUARDRAIL_TRIPS:
        nested = 1
    assert [
        bool(any(r[0] for r in listed)),
        sum(r[1] for r in listed),
        sum(r[2] for r in listed),
    ] == [
        run.raised is not None,
        len(expected) + nested,
        nested,
    ]
    assert sum(c.n_turns for c in conversations) == len(expected) + nested
    top_turns = store.query(
        "SELECT agent_name, input_tokens, output_tokens FROM turns WHERE NOT nested "
        "ORDER BY started_at"
    ).rows
    assert top_turns == [(s.agent, s.input_tokens, s.output_tokens) for s in expected]
    if run.results:
        last = store.query(
            "SELECT arg_max(agent_name, started_at) FROM turns WHERE NOT nested"
        ).rows
        assert last == [(run.results[-1].last_agent.name,)]
    if path == "tracer.agents_sdk":
        reasons = store.query('SELECT reason FROM handoffs ORDER BY "at"').rows
        assert [
            (
                json.loads(r[0])["tool"],
                json.dumps(json.loads(r[0])["arguments"]),
                json.loads(r[0])["text"],
            )
            for r in reasons
        ] == [(t[2], json.dumps(json.loads(t[3])), t[4]) for t in transitions_expected(expected)]


async def test_logfire_style_guardrails_nest_and_show(store: Store) -> None:
    """Logfire's Agents SDK spans (mirrored as Logfire shapes them: its message templates
    and the span data's fields): the guardrail's own agent runs nested under it, shown on
    the turn it checked with its outcome, and the agents' path is the SDK's."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from test_capture_dialects import LogfireStyle

    from tracer.capture.exporter import StoreExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreExporter(store)))
    run = Run()
    with agent_server(GUARDRAIL_PASSES.scripts) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test-fidelity", max_retries=0)
        model = OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
        set_trace_processors([LogfireStyle(provider)])
        await GUARDRAIL_PASSES.play(model, False, run)
        set_trace_processors([])
    provider.shutdown()
    (conversation,) = [
        load_conversation(store, r[0])
        for r in store.query("SELECT conversation_id FROM conversations").rows
    ]
    truth = Truth(server, GUARDRAIL_PASSES.agents)
    (want,) = truth.steps(run.results[0], run.nested)
    (step,) = conversation.steps
    assert [
        (
            step.agent,
            [(g.name, g.kind, g.outcome, [s.agent for s in g.nested]) for g in step.guardrails],
        )
    ] == [
        (
            want.agent,
            [
                (name, "input", outcome, [s.agent for s in steps])
                for name, outcome, steps in want.guardrails
            ],
        )
    ]
    assert conversation.user_turns[0].last_agent == run.results[0].last_agent.name
