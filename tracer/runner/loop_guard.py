"""The loop guard: DESIGN.md's ping-pong definition (``tracer.loops``) checked while a
run goes, and what the runner does when agents start handing control back and forth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tracer import loops
from tracer.loops import LoopSettings

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


class LoopWatch(loops.LoopWatch):
    """``tracer.loops.LoopWatch`` under a runner's ``LoopGuard``."""

    def __init__(self, guard: LoopGuard) -> None:
        super().__init__(guard.settings)
        self.guard = guard
