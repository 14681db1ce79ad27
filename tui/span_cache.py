"""The span records the replay's details panel shows, read a stretch of turns at a time.

Stepping must not open the store for every turn (a read's fixed cost is a connection,
about 20 ms, and a scan): the first turn whose record is missing reads the records of
the turns around it in one query, and steps within that stretch show theirs at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from replay.model import Conversation
from replay.spans import SpanRecord

AROUND = 32  # turns read on either side of the one shown
MAX_RECORDS = 4096  # records kept; the oldest read go first


@dataclass(frozen=True, slots=True)
class Stretch:
    """Which spans one read takes: those of ``trace_ids`` started in the window."""

    trace_ids: tuple[str, ...]
    started_from: dt.datetime
    started_to: dt.datetime


def stretch_around(conversation: Conversation, index: int, around: int = AROUND) -> Stretch:
    """The turns ``index - around`` to ``index + around`` (1-based) with their tool calls,
    transfers and nested runs, which start before the next turn does."""
    steps = conversation.steps
    first, last = max(1, index - around), min(len(steps), index + around)
    shown = steps[first - 1 : last]
    if last < len(steps):
        ends = steps[last].started_at
    else:
        ends = conversation.ended_at or max(step.started_at for step in shown)
    return Stretch(
        trace_ids=tuple(dict.fromkeys(step.trace_id for step in shown)),
        started_from=min(step.started_at for step in shown),
        started_to=max(ends, *(step.started_at for step in shown)),
    )


class SpanRecords:
    """Records already read, by (trace id, span id)."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self._limit = limit
        self._records: dict[tuple[str, str], SpanRecord] = {}

    def get(self, trace_id: str, span_id: str) -> SpanRecord | None:
        return self._records.get((trace_id, span_id))

    def add(self, records: dict[tuple[str, str], SpanRecord]) -> None:
        self._records.update(records)
        for key in list(self._records)[: max(0, len(self._records) - self._limit)]:
            del self._records[key]

    def clear(self) -> None:
        self._records.clear()

    def __len__(self) -> int:
        return len(self._records)
