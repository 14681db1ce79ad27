"""Offline re-runs of recorded OpenAI Agents SDK runs, through the real ``agents.Runner``.

The user's current agents run again with a baton ``ModelProvider`` whose model answers
each call from the recording: the agent asking (the SDK's current turn span names it)
gets its own next recorded call, so agents used as tools running concurrently each get
theirs; when one agent has several calls pending (the same agent used as a tool twice at
once), the one whose first input item matches is taken. The answer goes through the SDK's
real model classes (``OpenAIResponsesModel``, ``OpenAIChatCompletionsModel``) over an
in-process HTTP transport serving the body the endpoint sent, streamed when the call
streamed, so the SDK parses, converts and streams it as it did. Tools run for real; from
``live_from`` on, calls go to each agent's own model. An agent that asks for a call the
recording does not have stops the re-run there (``Diverged``).

The re-run is traced into a store (a scratch one, or ``record_to`` with the workflow's
metadata ``baton.rerun_of`` naming the original) and compared with the recorded path turn
by turn (``replay.rerun.compare``), as for baton's runner.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from agents import (
    Agent,
    AgentsException,
    Model,
    ModelProvider,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    trace,
)
from agents.models import get_default_model_settings
from agents.models.multi_provider import MultiProvider
from agents.tracing import gen_trace_id, get_current_span, set_trace_processors
from openai import AsyncOpenAI

from replay.agents_spec import agent_roots
from replay.errors import ReplayError
from replay.load import load_conversation
from replay.rerun import RerunReport, _outcome, compare
from replay.rerun_json import rerun_report_json
from replay.sdk_bodies import failure, reply
from replay.sdk_recording import SdkCall, SdkRecording
from tracer.capture.agents_sdk import StoreTracingProcessor, _registered_processors
from tracer.capture.sdk_responses import describe_handoff, describe_tool, first_input_digest
from tracer.capture.sdk_spans import trace_hex
from tracer.store import Store

#: The SDK's own default, when the recorded run did not end on its limit.
_SDK_MAX_TURNS = 10
#: The workflow metadata key that links a re-run to the run it re-ran.
RERUN_OF = "baton.rerun_of"


class Diverged(AgentsException):
    """The re-run asked for a model call the recording does not have."""


@dataclass(frozen=True, slots=True)
class SdkRerunReport:
    """A re-run of an SDK run: the comparison, the SDK's own result of the re-run (None
    when it stopped), where the re-run was recorded, and notes on what the calls were
    offered that differs from the recording (tools, handoffs, settings)."""

    report: RerunReport
    result: Any  # RunResult | RunResultStreaming | None
    rerun_trace_id: str
    recorded_to: Path | None  # None: a scratch store, gone
    notes: tuple[str, ...]
    raised: BaseException | None


class _Ledger:
    """The recorded calls not yet served, handed to the agent that asks."""

    def __init__(
        self, recording: SdkRecording, live_from: int | None, agents: dict[str, Agent[Any]]
    ) -> None:
        self.pending = list(recording.calls)
        self.live_from = live_from
        self.agents = agents
        self.notes: list[str] = []

    def take(self, agent: str, given: Any) -> SdkCall | None:
        """The call that answers ``agent`` now (None: the live model answers)."""
        mine = [c for c in self.pending if c.agent == agent]
        if not mine:
            if self.live_from is not None:
                return None
            raise Diverged(
                f"{agent} calls the model, but the recorded run has no further call by {agent}"
            )
        digest = first_input_digest(given)
        call = next((c for c in mine if c.first_input == digest), mine[0])
        self.pending.remove(call)
        if self.live_from is not None and call.turn >= self.live_from:
            return None
        return call

    def live_model(self, agent: str) -> Model:
        found = self.agents.get(agent)
        if found is None:
            raise Diverged(f"{agent} calls the model, and no agent of --agents is named so")
        if isinstance(found.model, Model):
            return found.model
        return MultiProvider().get_model(found.model or None)

    def compare_offer(
        self, call: SdkCall, tools: Iterable[Any], handoffs: Iterable[Any], settings: Any
    ) -> None:
        """A note when the call is offered other tools, handoffs or settings than recorded."""
        for key, offered in (
            ("tools", [describe_tool(t) for t in tools]),
            ("handoffs", [describe_handoff(h) for h in handoffs]),
        ):
            recorded = call.request.get(key)
            if not isinstance(recorded, list) or recorded == offered:
                continue
            names = [str(d.get("name")) for d in offered]
            were = [str(d.get("name")) for d in recorded if isinstance(d, dict)]
            said = (
                f"is offered {key} {', '.join(names) or 'none'} "
                f"(recorded: {', '.join(were) or 'none'})"
                if names != were
                else f"is offered {key} defined otherwise than recorded"
            )
            self.notes.append(f"turn {call.turn}: {call.agent} {said}")
        to_json = getattr(settings, "to_json_dict", None)
        recorded_settings = call.request.get("model_settings")
        if callable(to_json) and isinstance(recorded_settings, dict):
            now: dict[str, Any] = to_json()
            changed = sorted(k for k in now if now.get(k) != recorded_settings.get(k))
            if changed:
                self.notes.append(
                    f"turn {call.turn}: {call.agent}'s model settings differ ({', '.join(changed)})"
                )


class RecordedSdkModel(Model):
    """The SDK ``Model`` of a re-run: each call answered from the recording, through the
    SDK's real model class for the recorded API."""

    def __init__(self, ledger: _Ledger) -> None:
        self._ledger = ledger

    def _route(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Model, tuple[Any, ...], dict[str, Any]]:
        """The model that answers this call, and the call's arguments for it."""
        given, tools, handoffs, settings = _offer(args, kwargs)
        agent = _current_agent()
        if agent is None:
            raise ReplayError("cannot tell which agent calls the model: the re-run is not traced")
        settings = _named_model_defaults(self._ledger.agents.get(agent), settings)
        args, kwargs = _with_settings(args, kwargs, settings)
        call = self._ledger.take(agent, given)
        if call is None:
            return self._ledger.live_model(agent), args, kwargs
        self._ledger.compare_offer(call, tools, handoffs, settings)
        return _serving_model(call), args, kwargs

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        model, args, kwargs = self._route(args, kwargs)
        return await model.get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        model, args, kwargs = self._route(args, kwargs)
        async for event in model.stream_response(*args, **kwargs):
            yield event


class RecordedModelProvider(ModelProvider):
    """A ``ModelProvider`` whose every model is the re-run's."""

    def __init__(self, model: RecordedSdkModel) -> None:
        self.model = model

    def get_model(self, model_name: str | None) -> Model:
        return self.model


_OFFER = ("input", "model_settings", "tools", "output_schema", "handoffs")


def _offer(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """(input, tools, handoffs, model_settings) of a ``get_response``/``stream_response`` call
    (system_instructions, input, model_settings, tools, output_schema, handoffs, ...)."""
    named = dict(zip(("system_instructions", *_OFFER), args, strict=False)) | kwargs
    return (
        named.get("input"),
        named.get("tools") or [],
        named.get("handoffs") or [],
        named.get("model_settings"),
    )


def _named_model_defaults(agent: Agent[Any] | None, given: Any) -> Any:
    """The settings a run gives an agent whose model is a name: a re-run's
    ``RunConfig.model`` is a ``Model``, for which the SDK leaves out the defaults it gives
    a named model (gpt-5's reasoning effort and verbosity); they are put back under what
    the run set (a tool choice reset after a tool call, say)."""
    if agent is None or isinstance(agent.model, Model) or not isinstance(given, ModelSettings):
        return given
    implicit = get_default_model_settings(agent.model or None)
    if agent.model_settings != implicit:
        return given  # the agent's own settings, which the SDK used as they are
    return implicit.resolve(given)


def _with_settings(
    args: tuple[Any, ...], kwargs: dict[str, Any], settings: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if "model_settings" in kwargs or len(args) < 3:
        return args, {**kwargs, "model_settings": settings}
    return (*args[:2], settings, *args[3:]), kwargs


def _current_agent() -> str | None:
    """The agent whose turn this is: the SDK's current turn span (or agent span) names it."""
    span = get_current_span()
    data = getattr(span, "span_data", None)
    kind = getattr(data, "type", None)
    if kind == "turn":
        return str(getattr(data, "agent_name", "")) or None
    if kind == "agent":
        return str(getattr(data, "name", "")) or None
    return None


def _serving_model(call: SdkCall) -> Model:
    """The SDK's real model for the recorded API, over a transport that answers once, with
    the recorded body."""

    def answer(request: httpx.Request) -> httpx.Response:
        if call.error is not None:
            return failure(f"recorded failure of turn {call.turn}: {call.error}")
        assert call.body is not None  # checked before the run
        return reply(call.api or "responses", call.streamed, call.body)

    client = AsyncOpenAI(
        api_key="baton-replay",
        base_url="http://baton-replay.invalid/v1",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
    )
    name = call.model or "recorded"
    if call.api == "chat":
        return OpenAIChatCompletionsModel(model=name, openai_client=client)
    return OpenAIResponsesModel(model=name, openai_client=client)


def check_sdk_servable(recording: SdkRecording, live_from: int | None) -> None:
    """Raise ``ReplayError`` naming the calls that cannot be served, and why."""
    missing = recording.missing(upto=live_from)
    if missing:
        first = missing[0]
        turns = ", ".join(str(c.turn) for c in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise ReplayError(
            f"trace {recording.trace_id} cannot be re-served: "
            f"turn{'s' if len(missing) > 1 else ''} {turns} ({first.agent}'s call first): "
            f"{first.unservable}; or hand those turns to the live model with "
            f"--live-from {first.turn}"
        )
    if recording.input is None:
        raise ReplayError(
            f"trace {recording.trace_id} has no readable input for its first model call "
            "(recorded without content, or cut by the size limit), so it cannot be re-run"
        )


def agents_by_name(start: Agent[Any]) -> dict[str, Agent[Any]]:
    """``start`` and every agent it reaches by handoffs or as tools, by name."""
    found: dict[str, Agent[Any]] = {}
    stack: list[Any] = [start]
    while stack:
        agent = stack.pop(0)
        if not isinstance(agent, Agent) or agent.name in found:
            continue
        found[agent.name] = agent
        for handoff in agent.handoffs:
            ref = getattr(handoff, "_agent_ref", None)
            stack.append(
                handoff if isinstance(handoff, Agent) else ref() if callable(ref) else None
            )
        stack.extend(getattr(tool, "_agent_instance", None) for tool in agent.tools)
    return found


def sdk_starting_agent(found: object, spec: str, recorded_first: str | None) -> Agent[Any]:
    """The Agents SDK agent to start the re-run from: the one named as the recorded run's
    first agent among the agents ``found`` is (an agent, a list or dict of them, or a
    function without arguments returning one) or reaches by handoffs or as tools."""
    roots = agent_roots(
        found,
        spec,
        Agent,
        "an Agents SDK Agent (or a list or dict of them); the recorded run is an Agents SDK run",
    )
    reached: dict[str, Agent[Any]] = {}
    for root in roots:
        if isinstance(root, Agent):
            reached |= {k: v for k, v in agents_by_name(root).items() if k not in reached}
    if not reached:
        raise ReplayError(
            f"--agents {spec} holds no Agents SDK Agent; the recorded run is an Agents SDK run"
        )
    if recorded_first in reached:
        return reached[recorded_first]
    if isinstance(found, Agent):
        return found  # the re-run will show where it leaves the recorded path: turn 1
    raise ReplayError(
        f"none of the agents in --agents {spec} is {recorded_first!r}, where the recorded "
        f"run started (found: {', '.join(sorted(reached))})"
    )


async def sdk_rerun(
    recording: SdkRecording,
    start: Agent[Any],
    *,
    live_from: int | None = None,
    max_turns: int | None = None,
    record_to: Store | None = None,
) -> SdkRerunReport:
    """Re-run ``recording`` from ``start`` (the user's current agents) with the real
    ``agents.Runner``, streamed if the run was, and compare its path with the recorded one."""
    check_sdk_servable(recording, live_from)
    ledger = _Ledger(recording, live_from, agents_by_name(start))
    model = RecordedSdkModel(ledger)
    top_calls = sum(1 for c in recording.calls if c.depth == 0)
    limit = max_turns or recording.max_turns or max(_SDK_MAX_TURNS, top_calls + 1)
    config = RunConfig(
        model=model,
        model_provider=RecordedModelProvider(model),
        tracing_disabled=False,
        trace_include_sensitive_data=True,
    )
    with tempfile.TemporaryDirectory(prefix="baton-sdk-rerun-") as scratch:
        store = record_to or Store(Path(scratch) / "rerun.duckdb")
        before = _registered_processors()
        processor = StoreTracingProcessor(store)
        set_trace_processors([processor])
        sdk_trace_id = gen_trace_id()
        result: Any = None
        stopped: str | None = None
        raised: BaseException | None = None
        try:
            with trace(
                f"baton replay {recording.trace_id}",
                trace_id=sdk_trace_id,
                metadata={RERUN_OF: recording.trace_id},
            ):
                result = await _run(start, recording, config, limit)
        except Diverged as exc:
            raised = exc  # the comparison says where and how
        except Exception as exc:
            raised = exc
            stopped = f"{type(exc).__name__}: {exc}"
        finally:
            set_trace_processors(before)
            processor.shutdown()
        trace_id = trace_hex(sdk_trace_id)
        replayed = load_conversation(store, trace_id)
    if stopped is not None:
        # How the re-run ended, as the SDK recorded it: compared with how the recorded run
        # ended in the same words (the SDK's span error, "Max turns exceeded: ...").
        stopped = _outcome(replayed) or stopped
    report = compare(recording, replayed, stopped, live_from)
    return SdkRerunReport(
        report=report,
        result=result,
        rerun_trace_id=trace_id,
        recorded_to=record_to.path if record_to is not None else None,
        notes=tuple(ledger.notes),
        raised=raised,
    )


async def _run(start: Agent[Any], recording: SdkRecording, config: RunConfig, limit: int) -> Any:
    assert recording.input is not None
    given: Any = recording.input
    if recording.streamed:
        streamed = Runner.run_streamed(start, given, run_config=config, max_turns=limit)
        async for _ in streamed.stream_events():
            pass
        return streamed
    return await Runner.run(start, given, run_config=config, max_turns=limit)


def sdk_rerun_sync(
    recording: SdkRecording,
    start: Agent[Any],
    *,
    live_from: int | None = None,
    max_turns: int | None = None,
    record_to: Store | None = None,
) -> SdkRerunReport:
    """``sdk_rerun`` for code without an event loop (the command line)."""
    return asyncio.run(
        sdk_rerun(recording, start, live_from=live_from, max_turns=max_turns, record_to=record_to)
    )


def report_json(rerun: SdkRerunReport) -> dict[str, Any]:
    """The SDK re-run's report for ``--format json``."""
    found = rerun_report_json(rerun.report)
    found["recorded_to"] = str(rerun.recorded_to) if rerun.recorded_to else None
    found["notes"] = list(rerun.notes)
    return found
