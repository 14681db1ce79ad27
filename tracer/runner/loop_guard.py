"""The loop guard: DESIGN.md's ping-pong definition (``tracer.loops``) checked while a
run goes, and what the runner does when agents start handing control back and forth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tracer.loops import Handoff, Loop, LoopSettings, find_loops

#: ``raise``: stop the run with ``HandoffLoopError`` (carrying the partial result).
#: ``answer``: let the agent that has control finish, with its handoffs withdrawn.
LoopPolicy = Literal["raise", "answer"]


@dataclass(frozen=True, slots=True)
class LoopGuard:
    """How a run reacts to a ping-pong loop; ``settings`` say how much repetition is one
    (default: three handoffs of a 2-cycle, two full repeats of a longer cycle)."""

    policy: LoopPolicy = "raise"
    settings: LoopSettings = field(default_factory=LoopSettings)

    def __post_init__(self) -> None:
        if self.policy not in ("raise", "answer"):
            raise ValueError(f"loop guard policy must be 'raise' or 'answer', not {self.policy!r}")


class LoopWatch:
    """One trace's handoffs as the run makes them (nested runs of agents used as tools
    share their caller's watch, as they share its trace)."""

    def __init__(self, guard: LoopGuard) -> None:
        self.guard = guard
        self._handoffs: list[Handoff] = []
        self._broken = False
        self._reported: set[int] = set()

    def interrupt(self) -> None:
        """A non-transfer tool call or a final answer: the next handoff starts afresh."""
        self._broken = True

    def handoff(self, from_agent: str, to_agent: str, turn: int) -> Loop | None:
        """Record a handoff; the loop it completes, the first time that loop is seen."""
        handoff = Handoff(
            from_agent, to_agent, seq=len(self._handoffs) + 1, turn=turn, broken_before=self._broken
        )
        self._broken = False
        self._handoffs.append(handoff)
        for loop in find_loops(self._handoffs, self.guard.settings):
            if loop.last_seq == handoff.seq and loop.first_seq not in self._reported:
                self._reported.add(loop.first_seq)
                return loop
        return None
