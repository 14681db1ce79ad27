"""Writing a batch of span rows into the ``spans`` table.

Every span reaches the table through ``insert_spans``, so this is where the last
guarantees are applied to every batch, whatever wrote it: the ``spans`` shape
(``conform``) and secret redaction (``tracer.store.redact``; a no-op for batches that
``SpanRows`` already redacted under the same rules). The batch's inherited columns are
then resolved (``tracer.store.resolve``), it is inserted with spans already stored, or
repeated in the batch, kept once, and finally stored spans that the batch completes are
updated.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tracer.store.derived import conversations_of, refresh, trace_rows
from tracer.store.redact import redactor
from tracer.store.resolve import apply_fixes, resolve
from tracer.store.rows import COLUMN_NAMES, conform, registered
from tracer.store.schema import scalar

_COLUMNS = ", ".join(COLUMN_NAMES)


def insert_spans(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Insert ``table``'s spans and resolve the traces it touches; returns how many spans
    were new. Runs in the caller's transaction; callers hold the store's write lock,
    which is what makes the anti-join a sufficient uniqueness check."""
    if table.num_rows == 0:
        return 0
    batch = prepared(table)
    # The stored rows of the batch's traces, read once for resolution and the refresh.
    looked_up = set(_distinct(batch, "trace_id"))
    known = trace_rows(con, looked_up)
    resolution = resolve(con, batch, known)
    traces = looked_up if batch is table else set(_distinct(table, "trace_id"))
    touched = [*traces, *resolution.conversation_fixes]
    known.update(trace_rows(con, [t for t in touched if t not in looked_up]))
    previous = conversations_of(known, touched)
    lo, hi = window = _window(table)
    with registered(con, "_baton_batch", resolution.table):
        # A span delivered again has its start time again: looking for it among the
        # stored spans of the batch's times lets the zone maps skip every other time.
        # A span repeated within the batch is kept once, the earliest; the window that
        # picks it costs more than the insert, so it runs only when there is a repeat.
        once = (
            "QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY start_time) = 1"
            if (_repeats(con) if resolution.repeats is None else resolution.repeats)
            else ""
        )
        inserted = con.execute(
            f"INSERT INTO spans ({_COLUMNS}) "
            f"SELECT {_COLUMNS} FROM _baton_batch AS b "
            "WHERE NOT EXISTS (SELECT 1 FROM spans AS s "
            "                  WHERE s.start_time BETWEEN $lo AND $hi "
            "                    AND s.trace_id = b.trace_id AND s.span_id = b.span_id "
            f"                    AND s.start_time = b.start_time) {once}",
            {"lo": lo, "hi": hi},
        ).fetchone()
        added = int(inserted[0]) if inserted is not None else 0  # the rows the INSERT wrote
    apply_fixes(con, resolution)
    refresh(con, touched, previous, window, known, resolution.claims)
    return added


def _repeats(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a (trace id, span id) occurs more than once in ``_baton_batch``."""
    return bool(
        scalar(
            con,
            "SELECT EXISTS (SELECT 1 FROM _baton_batch GROUP BY trace_id, span_id "
            "HAVING count(*) > 1)",
        )
    )


def _window(table: pa.Table) -> tuple[object, object]:
    """The earliest and latest start time in the batch."""
    bounds = pc.min_max(table.column("start_time"))
    return bounds["min"].as_py(), bounds["max"].as_py()


def prepared(table: pa.Table) -> pa.Table:
    """``table`` in the ``spans`` shape, its secrets redacted."""
    return redactor().table(conform(table))


def _distinct(table: pa.Table, column: str) -> list[str]:
    """The distinct values of ``column`` (computed in Arrow, not one Python str per row)."""
    values: list[str] = pc.unique(table.column(column)).to_pylist()
    return values
