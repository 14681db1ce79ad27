"""A span row as Arrow sees it: the ``spans`` table's columns with their Arrow types,
which every segment file and every batch handed to ingest has; and the helpers that
bring a table to that shape and let DuckDB query it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

#: The columns of ``spans``, in table order, with their Arrow types (segments use them).
SPAN_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("trace_id", pa.string()),
    ("span_id", pa.string()),
    ("parent_span_id", pa.string()),
    ("name", pa.string()),
    ("kind", pa.string()),
    ("start_time", pa.timestamp("us", tz="UTC")),
    ("end_time", pa.timestamp("us", tz="UTC")),
    ("duration_ms", pa.float64()),
    ("status", pa.string()),
    ("status_message", pa.string()),
    ("op", pa.string()),
    ("agent_name", pa.string()),
    ("tool_name", pa.string()),
    ("from_agent", pa.string()),
    ("to_agent", pa.string()),
    ("conversation_id", pa.string()),
    ("source", pa.string()),
    ("model", pa.string()),
    ("input_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("tool_call_id", pa.string()),
    ("tool_arguments", pa.string()),
    ("tool_result", pa.string()),
    ("error_type", pa.string()),
    ("final_answer", pa.bool_()),
    ("scope", pa.string()),
    ("attributes", pa.string()),
    ("events", pa.string()),
    ("resource", pa.string()),
)
SPAN_SCHEMA = pa.schema([pa.field(name, kind) for name, kind in SPAN_COLUMNS])
COLUMN_NAMES = tuple(name for name, _ in SPAN_COLUMNS)


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


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """``table`` queryable as ``name`` inside the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)
