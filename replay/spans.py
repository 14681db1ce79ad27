"""One span's raw record: every attribute, event and resource attribute as stored."""

from __future__ import annotations

import json
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
    name, source, attributes, events, resource = rows[0]
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
