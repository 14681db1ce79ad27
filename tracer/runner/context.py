"""``RunContext``: what a run hands to tools and instruction functions that ask for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tracer.runner.models.base import Usage

T = TypeVar("T")


@dataclass(slots=True)
class RunContext(Generic[T]):
    """``context`` is the object given to ``Runner.run(context=...)``; ``usage`` grows as
    the run calls models. A tool receives it when its first parameter is annotated
    ``RunContext``; an ``instructions`` function always receives it."""

    context: T
    usage: Usage = field(default_factory=Usage)


def wants_context(annotation: Any) -> bool:
    """Whether a parameter annotation asks for the run context."""
    return annotation is RunContext or getattr(annotation, "__origin__", None) is RunContext
