"""One span's raw record: every attribute, event and resource attribute as stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from replay.errors import NotFoundError, StoreLike, existing_store


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """What the store keeps of one span beyond the normalised columns."""

    trace_id: str
    span_id: str
    name: str
    source: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)


def span_record(store: StoreLike, trace_id: str, span_id: str) -> SpanRecord:
    """The stored attributes, events and resource of one span."""
    store = existing_store(store)
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT name, source, attributes, events, resource FROM spans "
            "WHERE trace_id = ? AND span_id = ?",
            [trace_id, span_id],
        ).fetchall()
    if not rows:
        raise NotFoundError(f"no span {span_id} in trace {trace_id} in {store.path}")
    return _record(trace_id, span_id, *rows[0])


def span_records(
    store: StoreLike, trace_ids: Sequence[str], started_from: dt.datetime, started_to: dt.datetime
) -> dict[tuple[str, str], SpanRecord]:
    """The records of these traces' spans that started in ``[started_from, started_to]``,
    by (trace id, span id): one read for a stretch of turns (the window lets DuckDB skip
    the rest of the store)."""
    store = existing_store(store)
    if not trace_ids:
        return {}
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT trace_id, span_id, name, source, attributes, events, resource FROM spans "
            "WHERE trace_id IN (SELECT unnest(?)) AND start_time BETWEEN ? AND ?",
            [list(trace_ids), started_from, started_to],
        ).fetchall()
    return {(row[0], row[1]): _record(*row) for row in rows}


def _record(
    trace_id: str,
    span_id: str,
    name: str,
    source: str | None,
    attributes: str | None,
    events: str | None,
    resource: str | None,
) -> SpanRecord:
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        source=source,
        attributes=_loads(attributes, {}),
        events=_loads(events, []),
        resource=_loads(resource, {}),
    )


def _loads(text: str | None, empty: Any) -> Any:
    return json.loads(text) if text else empty
