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
    ("redacted", pa.int32()),
    ("nested_in", pa.string()),  # the agent-tool call or guardrail a span runs under
    ("links", pa.string()),  # JSON: the span's OTLP links (trace_id, span_id, attributes)
)
SPAN_SCHEMA = pa.schema([pa.field(name, kind) for name, kind in SPAN_COLUMNS])
COLUMN_NAMES = tuple(name for name, _ in SPAN_COLUMNS)


def conform(table: pa.Table) -> pa.Table:
    """``table`` with exactly the ``spans`` columns, in order, and the table's constraints
    met (segments from other versions may lack some columns or carry extra ones, or a
    column of another type). A column that cannot be converted is left empty; a row
    without an id or a start time, which no reader could place, is dropped."""
    if table.schema.equals(SPAN_SCHEMA):
        return table
    import pyarrow.compute as pc

    arrays = []
    for field in SPAN_SCHEMA:
        arrays.append(_column(table, field))
    conformed = pa.Table.from_arrays(arrays, schema=SPAN_SCHEMA)
    for name, value in _DEFAULTS.items():
        column = conformed.column(name)
        if column.null_count:
            index = conformed.column_names.index(name)
            conformed = conformed.set_column(index, name, pc.fill_null(column, value))
    required = [pc.is_valid(conformed.column(name)) for name in _REQUIRED]
    keep = required[0]
    for mask in required[1:]:
        keep = pc.and_(keep, mask)
    if pc.all(keep).as_py() is False:
        conformed = conformed.filter(keep)
    return conformed.replace_schema_metadata(table.schema.metadata)


# Columns the table declares NOT NULL: a default where one exists, else the row goes.
_DEFAULTS = {"name": "", "status": "unset", "op": "other"}
_REQUIRED = ("trace_id", "span_id", "start_time")


def _column(table: pa.Table, field: pa.Field) -> pa.ChunkedArray | pa.Array:
    if field.name not in table.column_names:
        return pa.nulls(table.num_rows, type=field.type)
    column = table.column(field.name)
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.nulls(table.num_rows, type=field.type)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """``table`` queryable as ``name`` inside the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)
