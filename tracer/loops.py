"""Ping-pong loop detection over one trace's handoffs (DESIGN.md, "Ping-pong loop").

A loop is a run of consecutive handoffs that repeats one cycle of distinct agents —
A→B→A→B, or A→B→C→A→B→C — with no non-transfer tool call and no final answer in
between: at least ``two_cycle_handoffs`` handoffs for a 2-cycle, ``cycle_repeats`` full
repeats (``k * cycle_repeats`` handoffs) for a k-cycle. The ``loops`` view in
``tracer.store.views`` is the same definition in SQL; the loop guards (baton's runner's and
the Agents SDK's, both through ``LoopWatch``) and ``replay`` use this one, and a property
test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoopSettings:
    """How much repetition counts as a loop (the store keeps its own in ``baton_settings``)."""

    two_cycle_handoffs: int = 3
    cycle_repeats: int = 2

    def min_handoffs(self, cycle_length: int) -> int:
        """How many handoffs a cycle of ``cycle_length`` agents needs to be a loop."""
        if cycle_length == 2:
            return self.two_cycle_handoffs
        return self.cycle_repeats * cycle_length


@dataclass(frozen=True, slots=True)
class Handoff:
    """One transfer of control. ``broken_before``: a non-transfer tool call or a final
    answer happened since the previous handoff of the trace."""

    from_agent: str
    to_agent: str
    seq: int
    turn: int | None = None
    broken_before: bool = False


@dataclass(frozen=True, slots=True)
class Loop:
    """A detected loop: the cycle of agents, where it starts and ends, how long it is."""

    agents: tuple[str, ...]
    first_seq: int
    last_seq: int
    handoffs: int
    first_turn: int | None = None
    last_turn: int | None = None

    @property
    def cycle(self) -> str:
        """The agents of the cycle: ``Triage ⇄ Billing`` or ``A → B → C``."""
        return " ⇄ ".join(self.agents) if len(self.agents) == 2 else " → ".join(self.agents)

    def describe(self) -> str:
        """E.g. ``Triage ⇄ Billing ×4`` or ``A → B → C ×6``."""
        return f"{self.cycle} ×{self.handoffs}"


def find_loops(handoffs: Sequence[Handoff], settings: LoopSettings | None = None) -> list[Loop]:
    """Every ping-pong loop in one trace's handoffs, given in ``seq`` order."""
    settings = settings or LoopSettings()
    loops: list[Loop] = []
    for segment in _segments(handoffs):
        loops.extend(_loops_in_segment(segment, settings))
    return loops


def _segments(handoffs: Sequence[Handoff]) -> list[list[Handoff]]:
    """Maximal runs of handoffs that chain (each starts where the last ended) unbroken."""
    segments: list[list[Handoff]] = []
    previous: Handoff | None = None
    for handoff in handoffs:
        if previous is None or handoff.broken_before or handoff.from_agent != previous.to_agent:
            segments.append([])
        segments[-1].append(handoff)
        previous = handoff
    return segments


def _loops_in_segment(segment: list[Handoff], settings: LoopSettings) -> list[Loop]:
    # Positions are 1-based; handoff j goes from_agent[j] -> to_agent[j].
    last_from: dict[str, int] = {}
    latest_repeat = 0  # highest position whose from_agent occurred earlier in the segment
    periods: list[int | None] = []
    for pos, handoff in enumerate(segment, start=1):
        seen = last_from.get(handoff.from_agent)
        if seen is not None:
            latest_repeat = max(latest_repeat, seen)
        last_from[handoff.from_agent] = pos
        distinct_len = pos - latest_repeat  # from_agents at (pos - distinct_len, pos] differ
        back = last_from.get(handoff.to_agent)
        period = pos - back + 1 if back is not None else None
        periods.append(period if period is not None and 2 <= period <= distinct_len else None)

    loops: list[Loop] = []
    pos = 1
    while pos <= len(segment):
        period = periods[pos - 1]
        if period is None:
            pos += 1
            continue
        end = pos
        while end < len(segment) and periods[end] == period:
            end += 1
        count = end - pos + period
        if count >= settings.min_handoffs(period):
            first = pos - period + 1
            members = segment[first - 1 : end]
            turns = [h.turn for h in members if h.turn is not None]
            loops.append(
                Loop(
                    agents=tuple(h.from_agent for h in segment[first - 1 : pos]),
                    first_seq=members[0].seq,
                    last_seq=members[-1].seq,
                    handoffs=count,
                    first_turn=min(turns) if turns else None,
                    last_turn=max(turns) if turns else None,
                )
            )
        pos = end + 1
    return loops


class LoopWatch:
    """One trace's handoffs as a run makes them, checked for a loop at each (nested runs
    of agents used as tools share their caller's watch, as they share its trace)."""

    def __init__(self, settings: LoopSettings | None = None) -> None:
        self.settings = settings or LoopSettings()
        self._handoffs: list[Handoff] = []
        self._broken = False
        self._reported: set[int] = set()

    def interrupt(self) -> None:
        """A non-transfer tool call or a final answer: the next handoff starts afresh."""
        self._broken = True

    def handoff(self, from_agent: str, to_agent: str, turn: int | None = None) -> Loop | None:
        """Record a handoff; the loop it completes, the first time that loop is seen."""
        handoff = Handoff(
            from_agent, to_agent, seq=len(self._handoffs) + 1, turn=turn, broken_before=self._broken
        )
        self._broken = False
        self._handoffs.append(handoff)
        for loop in find_loops(self._handoffs, self.settings):
            if loop.last_seq == handoff.seq and loop.first_seq not in self._reported:
                self._reported.add(loop.first_seq)
                return loop
        return None
