"""Writing a batch of span rows into the ``spans`` table, and resolving what spans
learn only from their relatives: the agent they ran under, the source of a handoff,
and the conversation of their trace.

Spans of one trace arrive in any order and in different batches (a parent usually ends,
and so is exported, after its children), so resolution runs over every trace a batch
touches, after the insert, and is idempotent.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from tracer.schema import COLUMN_NAMES, SPAN_SCHEMA

_MAX_NESTING = 64
_COLUMNS = ", ".join(COLUMN_NAMES)


def conform(table: pa.Table) -> pa.Table:
    """``table`` with exactly the ``spans`` columns, in order (segments from other
    versions may lack some or carry extra ones)."""
    if table.schema.equals(SPAN_SCHEMA):
        return table
    arrays = []
    for field in SPAN_SCHEMA:
        if field.name in table.column_names:
            arrays.append(table.column(field.name).cast(field.type))
        else:
            arrays.append(pa.nulls(table.num_rows, type=field.type))
    return pa.Table.from_arrays(arrays, schema=SPAN_SCHEMA)


def insert_spans(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Insert ``table``'s spans (a span already stored, or repeated in the batch, is kept
    once) and resolve the traces it touches. Returns how many spans were new.
    Runs in the caller's transaction; callers hold the store's write lock, which is what
    makes the anti-join a sufficient uniqueness check."""
    if table.num_rows == 0:
        return 0
    con.register("_baton_batch", conform(table))
    try:
        before = _count(con)
        con.execute(
            f"INSERT INTO spans ({_COLUMNS}) "
            f"SELECT {_COLUMNS} FROM _baton_batch AS b "
            "WHERE NOT EXISTS (SELECT 1 FROM spans AS s "
            "                  WHERE s.trace_id = b.trace_id AND s.span_id = b.span_id) "
            "QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY start_time) = 1"
        )
        added = _count(con) - before
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _baton_touched AS "
            "SELECT DISTINCT trace_id FROM _baton_batch"
        )
    finally:
        con.unregister("_baton_batch")
    resolve_touched(con)
    return added


def resolve_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Fill inherited columns for the traces listed in temp table ``_baton_touched``."""
    touched = "trace_id IN (SELECT trace_id FROM _baton_touched)"
    # The agent a span ran under is its nearest enclosing agent's; one level per pass.
    for _ in range(_MAX_NESTING):
        changed = con.execute(
            f"""
            UPDATE spans AS c SET agent_name = p.agent_name
            FROM spans AS p
            WHERE c.{touched} AND c.agent_name IS NULL AND c.op <> 'workflow'
              AND p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
              AND p.agent_name IS NOT NULL
            """
        ).fetchone()
        if not changed or not changed[0]:
            break
    # A transfer's source is the agent that made it, when the producer did not say.
    con.execute(
        f"""
        UPDATE spans SET from_agent = agent_name
        WHERE {touched} AND op IN ('handoff', 'agent_tool')
          AND from_agent IS NULL AND agent_name IS NOT NULL
        """
    )
    # Every span carries its trace's conversation: the first explicit one, else the trace.
    con.execute(
        f"""
        UPDATE spans AS s SET conversation_id = c.cid
        FROM (
            SELECT trace_id,
                   coalesce(arg_min(conversation_id, start_time) FILTER (
                       WHERE conversation_id IS NOT NULL AND conversation_id <> trace_id
                   ), trace_id) AS cid
            FROM spans WHERE {touched} GROUP BY trace_id
        ) AS c
        WHERE s.trace_id = c.trace_id AND s.conversation_id IS DISTINCT FROM c.cid
        """
    )


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM spans").fetchone()
    return int(row[0]) if row else 0
