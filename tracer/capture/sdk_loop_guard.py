"""A loop guard for OpenAI Agents SDK runs: the ping-pong definition of the ``loops`` view
(``tracer.loops``) checked at every handoff while a run goes, as baton's runner does.

    guard = LoopGuard()                                   # raise on a loop (the default)
    await Runner.run(triage, "...", hooks=guard)

    tracer.agents_sdk.install(loop_guard=True)            # every run, in one line

``LoopGuard`` is the SDK's ``RunHooks`` (pass your own hooks as ``hooks=`` and it calls
them too). Handoffs are watched per SDK trace, so the runs of agents used as tools share
their caller's watch; a non-transfer tool call or a final answer breaks a chain, as in
the definition. On a loop the guard records a ``baton.loop_detected`` custom span (the
cycle, how many handoffs, the policy) and then, by ``policy``:

- ``raise``: ``HandoffLoopError`` (``tracer.HandoffLoopError``) leaves the run; its
  ``result`` is the SDK's partial run (``RunErrorDetails``: ``new_items``,
  ``raw_responses``, ``last_agent``), which the SDK attaches as the error leaves the run;
- ``answer``: the agent holding control (the one just handed to) is offered no handoffs
  for the rest of the trace, so it answers. The SDK asks a handoff's ``is_enabled`` each
  turn; ``protect`` turns the handoffs of every agent reachable from the one given into
  ``Handoff`` objects whose ``is_enabled`` also asks the guard (the same handoffs the SDK
  would build from them, changed in place, once).

``install_runner`` makes the guard part of every ``Runner.run``/``run_streamed``/
``run_sync`` (through the SDK's default agent runner, which agents used as tools run
through as well); ``tracer.agents_sdk.install(loop_guard=True)`` calls it.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any, Literal

from agents import Agent, AgentsException, Handoff, RunHooks, handoff
from agents.run import AgentRunner, get_default_agent_runner, set_default_agent_runner
from agents.tracing import custom_span, get_current_trace

from tracer.errors import HandoffLoopError
from tracer.loops import Loop, LoopSettings, LoopWatch

LoopPolicy = Literal["raise", "answer"]
LOOP_DETECTED = "baton.loop_detected"
_KEPT_TRACES = 256  # watches of this many recent traces are kept
_GUARDED = "_baton_loop_guard"


class SdkHandoffLoopError(HandoffLoopError, AgentsException):
    """``HandoffLoopError`` from an Agents SDK run. Being an ``AgentsException`` too, the
    SDK attaches the partial run (``run_data``) as it leaves the run; ``result`` is that."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "run_data" and value is not None:
            super().__setattr__("result", value)


class LoopGuard(RunHooks[Any]):
    """SDK run hooks that stop a ping-pong loop (see the module's docstring)."""

    def __init__(
        self,
        policy: LoopPolicy = "raise",
        settings: LoopSettings | None = None,
        *,
        hooks: RunHooks[Any] | None = None,
    ) -> None:
        if policy not in ("raise", "answer"):
            raise ValueError(f"loop guard policy must be 'raise' or 'answer', not {policy!r}")
        self.policy: LoopPolicy = policy
        self.settings = settings or LoopSettings()
        self.hooks = hooks
        self.loops: list[Loop] = []  # every loop the guard acted on, in order
        self._watches: OrderedDict[str, LoopWatch] = OrderedDict()
        self._answering: dict[str, set[str]] = {}  # trace -> agents that must answer

    def with_hooks(self, hooks: RunHooks[Any] | None) -> LoopGuard:
        """This guard's settings and state, calling ``hooks`` as well (one run's)."""
        if hooks is None or hooks is self:
            return self
        paired = LoopGuard(self.policy, self.settings, hooks=hooks)
        paired.loops, paired._watches, paired._answering = (
            self.loops,
            self._watches,
            self._answering,
        )
        return paired

    # -- the hooks ----------------------------------------------------------------------

    async def on_handoff(self, context: Any, from_agent: Any, to_agent: Any) -> None:
        await self._forward("on_handoff", context, from_agent, to_agent)
        key = _trace_key(context)
        loop = self._watch(key).handoff(str(from_agent.name), str(to_agent.name))
        if loop is None:
            return
        self.loops.append(loop)
        _record(loop, self.policy)
        if self.policy == "answer":
            self._answering.setdefault(key, set()).add(str(to_agent.name))
            return
        raise SdkHandoffLoopError(
            f"handoff loop: {loop.describe()} (handoffs {loop.first_seq}-{loop.last_seq}); "
            "tell the agents when not to hand off, or use LoopGuard(policy='answer') to make "
            "the agent holding control answer",
            loop=loop,
        )

    async def on_tool_end(self, context: Any, agent: Any, tool: Any, result: Any) -> None:
        self._watch(_trace_key(context)).interrupt()  # a non-transfer tool breaks the chain
        await self._forward("on_tool_end", context, agent, tool, result)

    async def on_agent_end(self, context: Any, agent: Any, output: Any) -> None:
        self._watch(_trace_key(context)).interrupt()  # a final answer does too
        await self._forward("on_agent_end", context, agent, output)

    async def on_agent_start(self, context: Any, agent: Any) -> None:
        await self._forward("on_agent_start", context, agent)

    async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
        await self._forward("on_tool_start", context, agent, tool)

    async def on_llm_start(self, context: Any, agent: Any, *args: Any) -> None:
        await self._forward("on_llm_start", context, agent, *args)

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        await self._forward("on_llm_end", context, agent, response)

    # -- the answer policy --------------------------------------------------------------

    def protect(self, start: Agent[Any]) -> Agent[Any]:
        """Make the handoffs of ``start`` and every agent it reaches ask the guard whether
        they are offered (for ``policy='answer'``); returns ``start``."""
        seen: set[int] = set()
        stack: list[Any] = [start]
        while stack:
            agent = stack.pop()
            if not isinstance(agent, Agent) or id(agent) in seen:
                continue
            seen.add(id(agent))
            agent.handoffs = [self._guarded(h) for h in agent.handoffs]
            for item in agent.handoffs:
                ref = getattr(item, "_agent_ref", None)
                stack.append(ref() if callable(ref) else None)
            stack.extend(getattr(tool, "_agent_instance", None) for tool in agent.tools)
        return start

    def offers_handoffs(self, context: Any, agent: Any) -> bool:
        """Whether ``agent`` may still hand off in this run's trace."""
        return str(getattr(agent, "name", "")) not in self._answering.get(_trace_key(context), ())

    def _guarded(self, item: Any) -> Any:
        made = handoff(item) if isinstance(item, Agent) else item
        if not isinstance(made, Handoff) or getattr(made, _GUARDED, None) is not None:
            return made
        before = made.is_enabled

        async def is_enabled(context: Any, agent: Any) -> bool:
            if not self.offers_handoffs(context, agent):
                return False
            if isinstance(before, bool):
                return before
            answer = before(context, agent)
            return bool(await answer) if inspect.isawaitable(answer) else bool(answer)

        made.is_enabled = is_enabled
        setattr(made, _GUARDED, True)
        return made

    # -- internals ----------------------------------------------------------------------

    def _watch(self, key: str) -> LoopWatch:
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = LoopWatch(self.settings)
            while len(self._watches) > _KEPT_TRACES:
                old, _ = self._watches.popitem(last=False)
                self._answering.pop(old, None)
        return watch

    async def _forward(self, name: str, *args: Any) -> None:
        if self.hooks is not None:
            await getattr(self.hooks, name)(*args)


def _trace_key(context: Any) -> str:
    """The SDK trace of the run (agents used as tools share it); without tracing, the run's
    usage object (which their nested runs share too)."""
    current = get_current_trace()
    trace_id = getattr(current, "trace_id", None)
    if isinstance(trace_id, str) and trace_id and trace_id != "no-op":
        return trace_id
    return f"usage:{id(getattr(context, 'usage', context))}"


def _record(loop: Loop, policy: str) -> None:
    """A ``baton.loop_detected`` custom span where the guard acted."""
    span = custom_span(
        LOOP_DETECTED,
        data={
            "agents": list(loop.agents),
            "handoffs": loop.handoffs,
            "first_seq": loop.first_seq,
            "last_seq": loop.last_seq,
            "policy": policy,
        },
    )
    span.start()
    span.finish()


class GuardedRunner(AgentRunner):
    """The SDK's default agent runner with ``guard`` in every run's hooks."""

    def __init__(self, guard: LoopGuard, previous: AgentRunner) -> None:
        super().__init__()
        self.guard = guard
        self.previous = previous

    def _options(self, starting_agent: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.guard.policy == "answer":
            self.guard.protect(starting_agent)
        return {**kwargs, "hooks": self.guard.with_hooks(kwargs.get("hooks"))}

    async def run(self, starting_agent: Any, input: Any, **kwargs: Any) -> Any:
        return await self.previous.run(
            starting_agent, input, **self._options(starting_agent, kwargs)
        )

    def run_sync(self, starting_agent: Any, input: Any, **kwargs: Any) -> Any:
        return self.previous.run_sync(
            starting_agent, input, **self._options(starting_agent, kwargs)
        )

    def run_streamed(self, starting_agent: Any, input: Any, **kwargs: Any) -> Any:
        return self.previous.run_streamed(
            starting_agent, input, **self._options(starting_agent, kwargs)
        )


def install_runner(guard: LoopGuard) -> GuardedRunner:
    """Put ``guard`` in every SDK run from now on; ``uninstall_runner`` undoes it."""
    current = get_default_agent_runner()
    if isinstance(current, GuardedRunner):
        current.guard = guard
        return current
    runner = GuardedRunner(guard, current)
    set_default_agent_runner(runner)
    return runner


def uninstall_runner() -> None:
    """Runs are no longer guarded (the runner before ``install_runner`` comes back)."""
    current = get_default_agent_runner()
    if isinstance(current, GuardedRunner):
        set_default_agent_runner(current.previous)
