"""Offline re-runs: a recorded run of baton's runner, executed again with the agents as
they are defined now, each model call served the response recorded for it.

Every agent reachable from the starting one gets a copy whose model is a
``RecordedModel``: the k-th model call of the re-run is answered with the k-th recorded
response, if the agent asking is the one that asked then; otherwise the re-run has left
the recorded path and stops there. Tools run for real. From ``live_from`` on, calls go
to each agent's own model instead. The re-run records itself (to a scratch store), and
its path — agents, tool calls and arguments, handoffs — is compared with the recorded
one turn by turn (``replay.paths``), as ``baton diff`` compares two runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from replay.agents_spec import reachable
from replay.errors import ReplayError
from replay.load import load_conversation
from replay.model import Conversation
from replay.paths import Divergence, PathTurn, first_divergence, paired, run_path
from replay.recording import Recording
from tracer.capture.config import settings
from tracer.capture.exporter import StoreExporter
from tracer.capture.provider import recording_to
from tracer.runner.agent import Agent, AgentTool, Handoff
from tracer.runner.errors import ModelError, RunError
from tracer.runner.models import Model, ModelRequest, ModelResponse, resolve_model
from tracer.runner.result import RunResult
from tracer.runner.run import DEFAULT_MAX_TURNS, Runner
from tracer.store import Store


class Diverged(ModelError):
    """The re-run asked for a model call the recording cannot answer: another agent
    than the recorded one, or more calls than the run made."""


class _Ledger:
    """The recorded responses, handed out in order, one per model call of the re-run."""

    def __init__(self, recording: Recording, live_from: int | None) -> None:
        self.calls = recording.calls
        self.live_from = live_from
        self.made = 0

    async def answer(self, agent: Agent, request: ModelRequest) -> ModelResponse:
        self.made += 1
        turn = self.made
        if self.live_from is not None and turn >= self.live_from:
            return await resolve_model(agent.model).respond(request)
        if turn > len(self.calls):
            raise Diverged(
                f"turn {turn}: {agent.name} calls the model, but the recorded run made "
                f"only {len(self.calls)} calls"
            )
        call = self.calls[turn - 1]
        if call.agent != agent.name:
            raise Diverged(f"turn {turn}: {agent.name} calls the model; {call.agent} did")
        if call.error is not None:  # the recorded call failed: fail the same way
            raise ModelError(call.error)
        if call.response is None:  # checked before the run; kept as a clear failure
            raise Diverged(f"turn {turn}: no response was recorded for this call")
        return call.response


class RecordedModel:
    """A model for one agent that answers from the recording (``Model`` protocol)."""

    provider = "baton.replay"

    def __init__(self, ledger: _Ledger, agent: Agent) -> None:
        self._ledger = ledger
        self._agent = agent  # the user's own agent, whose model goes live
        model = agent.model
        self.name = model if isinstance(model, str) else getattr(model, "name", "recorded")

    async def respond(self, request: ModelRequest) -> ModelResponse:
        return await self._ledger.answer(self._agent, request)


@dataclass(frozen=True, slots=True)
class TurnReport:
    """One turn of the comparison; ``live`` when the live model answered it."""

    turn: int
    expected: PathTurn | None
    got: PathTurn | None
    differences: tuple[str, ...]
    live: bool


@dataclass(frozen=True, slots=True)
class RerunReport:
    """A re-run compared with its recording, turn by turn."""

    trace_id: str
    turns: tuple[TurnReport, ...]
    divergence: Divergence | None
    stopped: str | None  # how the re-run itself failed, if it did ("MaxTurnsExceeded: ...")
    live_from: int | None
    replayed: Conversation

    @property
    def follows(self) -> bool:
        """The re-run followed the recorded path to its end."""
        return self.divergence is None


def check_servable(recording: Recording, live_from: int | None) -> None:
    """Raise ``ReplayError`` naming the turns that cannot be served from the recording."""
    if recording.input is None:
        raise ReplayError(
            f"trace {recording.trace_id} has no recorded input for its first model call "
            "(recorded without content, or cut by the size limit), so it cannot be re-run; "
            "record it with content capture on"
        )
    missing = recording.missing(upto=live_from)
    if missing:
        turns = ", ".join(str(t) for t in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise ReplayError(
            f"trace {recording.trace_id} was recorded without the model's responses for "
            f"turn{'s' if len(missing) > 1 else ''} {turns}, so they cannot be served; "
            "record the run with content capture on (tracer.setup(capture_content=True)), "
            f"or hand those turns to the live model with --live-from {missing[0]}"
        )


async def rerun(
    recording: Recording,
    start: Agent,
    *,
    live_from: int | None = None,
    max_turns: int | None = None,
    record_to: Store | None = None,
) -> RerunReport:
    """Re-run ``recording`` from the agent ``start`` (the user's current definitions)
    and compare its path with the recorded one. The re-run is recorded into a scratch
    store, or into ``record_to`` (kept)."""
    check_servable(recording, live_from)
    assert recording.input is not None
    ledger = _Ledger(recording, live_from)
    entry = with_models(start, lambda agent: RecordedModel(ledger, agent))
    limit = max_turns or recording.max_turns or max(DEFAULT_MAX_TURNS, len(recording.calls) + 1)
    with tempfile.TemporaryDirectory(prefix="baton-rerun-") as scratch:
        store = record_to or Store(Path(scratch) / "rerun.duckdb")
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(StoreExporter(store)))
        stopped: str | None = None
        made: RunResult | None = None
        capture, settings.capture_content = settings.capture_content, True
        try:
            with recording_to(provider):
                made = await Runner.run(entry, recording.input, max_turns=limit)
        except Diverged as exc:
            made = exc.result  # the comparison below says where and how
        except Exception as exc:
            made = exc.result if isinstance(exc, RunError) else None
            stopped = f"{type(exc).__name__}: {exc}"
        finally:
            settings.capture_content = capture
            provider.shutdown()
        if made is not None and made.trace_id is not None:
            trace_id = made.trace_id
        else:
            (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]
        replayed = load_conversation(store, trace_id)
    return compare(recording, replayed, stopped, live_from)


def rerun_sync(
    recording: Recording,
    start: Agent,
    *,
    live_from: int | None = None,
    max_turns: int | None = None,
    record_to: Store | None = None,
) -> RerunReport:
    """``rerun`` for code without an event loop (the command line)."""
    return asyncio.run(
        rerun(recording, start, live_from=live_from, max_turns=max_turns, record_to=record_to)
    )


class RecordedRun(Protocol):
    """What a comparison needs of a recording (baton's runner's, or an Agents SDK run's)."""

    @property
    def conversation(self) -> Conversation: ...
    @property
    def trace_id(self) -> str: ...


def compare(
    recording: RecordedRun, replayed: Conversation, stopped: str | None, live_from: int | None
) -> RerunReport:
    expected, got = run_path(recording.conversation), run_path(replayed)
    divergence = first_divergence(expected, got)
    outcome = _outcome(recording.conversation)
    if divergence is None and (stopped.partition(":")[0] if stopped else None) != (
        outcome.partition(":")[0] if outcome else None
    ):
        last = got[-1].turn if got else 1
        divergence = Divergence(
            last, "outcome", outcome or "the run answers", stopped or "the run answers"
        )
    turns = tuple(
        TurnReport(turn, a, b, found, live_from is not None and turn >= live_from and b is not None)
        for turn, a, b, found in paired(expected, got)
    )
    return RerunReport(
        trace_id=recording.trace_id,
        turns=turns,
        divergence=divergence,
        stopped=stopped,
        live_from=live_from,
        replayed=replayed,
    )


def with_models(start: Agent, model_for: Callable[[Agent], Model]) -> Agent:
    """A copy of ``start`` and every agent it reaches, each with ``model_for(agent)`` as
    its model and its handoffs and agent tools pointing at the copies. The user's agents
    are left as they are."""
    originals = reachable([start])
    copies = {id(a): a.model_copy(update={"model": model_for(a)}) for a in originals}
    for agent in originals:
        copy = copies[id(agent)]
        copy.handoffs = [
            dataclasses.replace(h, agent=copies[id(h.agent)])
            if isinstance(h, Handoff)
            else copies[id(h)]
            for h in agent.handoffs
        ]
        copy.tools = [
            dataclasses.replace(t, agent=copies[id(t.agent)]) if isinstance(t, AgentTool) else t
            for t in agent.tools
        ]
    return copies[id(start)]


def _outcome(conversation: Conversation) -> str | None:
    """How the recorded run ended, when it ended on an error: ``Type: message``."""
    for error in reversed(conversation.errors):
        if not error.where.startswith("execute_tool"):
            message = error.message or ""
            return message if message.startswith(f"{error.kind}:") else f"{error.kind}: {message}"
    return None
