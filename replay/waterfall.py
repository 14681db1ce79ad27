"""``run_timings``: every span of one run with its start and end, in tree order, for a
waterfall of where the run's time went (slow tools, gaps between calls)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from replay.errors import NotFoundError, StoreLike, existing_store


@dataclass(frozen=True, slots=True)
class SpanTiming:
    """One span of a run: what it was, where it sits in the tree, when it ran."""

    span_id: str
    parent_span_id: str | None
    name: str
    op: str | None
    depth: int  # 0 for the run's root spans
    start_us: int
    end_us: int | None  # None while the span is still open
    status: str

    @property
    def duration_us(self) -> int | None:
        return None if self.end_us is None else self.end_us - self.start_us


def run_timings(store: StoreLike, trace_id: str) -> tuple[SpanTiming, ...]:
    """The spans of trace ``trace_id``, each parent before its children, siblings in the
    order they started."""
    opened = existing_store(store)
    with opened.read_connection() as con:
        rows = con.execute(
            "SELECT span_id, parent_span_id, name, op, epoch_us(start_time), "
            "epoch_us(end_time), status FROM spans WHERE trace_id = ? "
            "ORDER BY start_time, span_id",
            [trace_id],
        ).fetchall()
    if not rows:
        raise NotFoundError(f"no trace {trace_id!r} in {opened.path}")
    ids = {row[0] for row in rows}
    children: dict[str | None, list[tuple[object, ...]]] = defaultdict(list)
    for row in rows:
        parent = row[1] if row[1] in ids else None  # a parent not recorded: a root
        children[parent].append(row)
    ordered: list[SpanTiming] = []
    stack = [(row, 0) for row in reversed(children[None])]
    while stack:
        row, depth = stack.pop()
        span_id, parent, name, op, start, end, status = row
        ordered.append(
            SpanTiming(
                span_id=str(span_id),
                parent_span_id=parent if isinstance(parent, str) else None,
                name=str(name),
                op=op if isinstance(op, str) else None,
                depth=depth,
                start_us=int(start),  # type: ignore[call-overload]
                end_us=None if end is None else int(end),  # type: ignore[call-overload]
                status=str(status),
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children[str(span_id)]))
    return tuple(ordered)
