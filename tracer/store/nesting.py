"""Which spans run nested, off the conversation's path: below an agent used as a tool
(``agent_tool``) or a guardrail that runs its own agent. ``spans.nested_in`` holds the
nearest such span (NULL on the conversation's path), so the ``turns`` view can mark a
guardrail's or an agent tool's model calls as nested and "the agent that answered in the
end" never is a guardrail's agent.

Like the other inherited columns it is completed from the span's relatives as batches
arrive in any order (``tracer.store.resolve``): a span whose ancestors have not arrived
yet is on the path until they do, and stored spans the batch changes are fixed.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from tracer.store.rows import registered

NESTING_OPS = frozenset(("agent_tool", "guardrail"))
_MAX_DEPTH = 64

Key = tuple[str, str]  # (trace_id, span_id)
Node = tuple[str | None, str, str | None]  # parent, op, agent


def nested_in(nodes: dict[Key, Node], promoted: Iterable[Key]) -> dict[Key, str | None]:
    """Every span's nearest enclosing nesting span (itself excluded; a span left out has
    none); ``promoted`` are tool spans the batch found to run an agent (their stored op
    still says ``tool``)."""
    nesting = {key for key, (_, op, _) in nodes.items() if op in NESTING_OPS}
    nesting.update(promoted)
    if not nesting:  # every walk ends on the path (None): none is needed
        return {}
    found: dict[Key, str | None] = {}
    for key in nodes:
        path: list[Key] = []
        result: str | None = None
        current = key
        while len(path) < _MAX_DEPTH:
            path.append(current)
            parent = nodes[current][0]
            parent_key = (current[0], parent) if parent else None
            if parent_key is None or parent_key not in nodes:
                break
            if parent_key in nesting:
                result = parent
                break
            if parent_key in found:
                result = found[parent_key]
                break
            current = parent_key
        for step in path:
            found.setdefault(step, result)
    return found


def stored_nesting(
    con: duckdb.DuckDBPyConnection, traces: set[str], window: tuple[object, object]
) -> dict[Key, str | None]:
    """The ``nested_in`` of the stored spans of ``traces``, which start within ``window``."""
    with registered(con, "_baton_nest_touched", pa.table({"trace_id": sorted(traces)})):
        rows = con.execute(
            "SELECT trace_id, span_id, nested_in FROM spans WHERE start_time BETWEEN ? AND ? "
            "AND trace_id IN (SELECT trace_id FROM _baton_nest_touched)",
            list(window),
        ).fetchall()
    return {(t, s): n for t, s, n in rows}
