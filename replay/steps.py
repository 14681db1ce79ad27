"""``Steps``: a conversation's top-level steps, each made the first time it is read, and
``outlines``: what the timeline, the agent graph and the title need of every step,
without making the steps; ``Transitions`` likewise.

Opening a 10,000-turn conversation shows one turn; making the other 9,999 ``Step``
objects (with their tool calls and times) was most of the time the build took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeVar, overload

if TYPE_CHECKING:
    from replay.model import Step, Transition

T = TypeVar("T")


class HandoffOutline(NamedTuple):
    """Who a step handed control from and to: what the timeline and the graph read of
    its transition, without making it."""

    from_agent: str | None
    to_agent: str | None


class Outline(NamedTuple):
    """One top-level step as the timeline, the graph and the title see it."""

    step_index: int  # Step.index
    trace_id: str
    agent: str | None
    user_turn: int
    handoff: HandoffOutline | None  # of Step.handoff
    #: The step failed, or one of its errors or tool calls did (``_step_failed``).
    failed: bool
    #: It called an agent as a tool or was checked by a guardrail (whose agent may have
    #: run under it): the graph and the model-call count read the step itself.
    nests: bool


class Lazy(Sequence[T]):
    """Reads as the tuple of items it stands for (``==`` a tuple, hash and repr
    included); an item is made on its first read, once, whichever thread reads it."""

    __slots__ = ("_left", "_lock", "_made", "_make")

    def __init__(self, made: list[T | None], make: Callable[[int], T] | None) -> None:
        self._made = made  # None where not made yet
        self._left = made.count(None)
        self._make = make if self._left else None
        self._lock = threading.RLock()

    @property
    def made(self) -> int:
        """How many of the items have been made so far."""
        return len(self._made) - self._left

    def __len__(self) -> int:
        return len(self._made)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._item(i) for i in range(*index.indices(len(self._made))))
        item = self._made[index]  # an IndexError as a tuple's
        if item is None:
            return self._item(index % len(self._made))
        return item

    def _item(self, index: int) -> T:
        item = self._made[index]
        if item is not None:
            return item
        with self._lock:
            item = self._made[index]
            if item is None:
                assert self._make is not None
                item = self._make(index)
                self._made[index] = item
                self._left -= 1
                if not self._left:  # all made: the builder's columns can go
                    self._make = None
            return item

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self._made)):
            yield self._item(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lazy | tuple):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


class Transitions(Lazy["Transition"]):
    """A conversation's transitions, each made on first read: the first screen of a
    10,000-turn conversation reads its 5,000 handoffs' agents (``HandoffOutline``), not
    the transitions."""

    __slots__ = ()


class Steps(Lazy["Step"]):
    """A conversation's top-level steps, each made on first read, and their outlines."""

    __slots__ = ("_outlines",)

    def __init__(
        self,
        made: list[Step | None],
        make: Callable[[int], Step] | None,
        outlines: list[Outline] | None = None,
    ) -> None:
        super().__init__(made, make)
        self._outlines = outlines

    @classmethod
    def of(cls, steps: Iterable[Step]) -> Steps:
        """Steps already made."""
        return cls(list(steps), None)

    def outlines(self) -> list[Outline]:
        """Every step's outline (the builder's, else read off the steps), without making
        a step. The list is shared: not to be changed."""
        if self._outlines is None:
            self._outlines = [_outline_of(step) for step in self]
        return self._outlines


def outlines(steps: Sequence[Step]) -> list[Outline]:
    """Each step's outline; of ``Steps``, without making the steps not made yet."""
    if isinstance(steps, Steps):
        return steps.outlines()
    return [_outline_of(step) for step in steps]


def nesting(steps: Sequence[Step]) -> Sequence[Step]:
    """The steps under which others may have run (``Outline.nests``); all of a plain
    sequence. What counting every model call has to look into."""
    if isinstance(steps, Steps):
        return [steps[i] for i, o in enumerate(steps.outlines()) if o.nests]
    return steps


def _outline_of(step: Step) -> Outline:
    return Outline(
        step.index,
        step.trace_id,
        step.agent,
        step.user_turn,
        handoff_outline(step.handoff),
        step_failed(step),
        any(call.is_agent or call.nested for call in step.tool_calls) or bool(step.guardrails),
    )


def handoff_outline(transition: Transition | None) -> HandoffOutline | None:
    return (
        None if transition is None else HandoffOutline(transition.from_agent, transition.to_agent)
    )


def step_failed(step: Step) -> bool:
    """The step failed, or one of its errors or tool calls says so."""
    if step.errors or step.status == "error":
        return True
    return bool(step.tool_calls) and any(call.status == "error" for call in step.tool_calls)
