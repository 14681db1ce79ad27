"""Finding a batch's rows in the per-trace and per-conversation tables without reading
them whole.

An absorb looks up the few hundred traces and conversations it touches in
``_baton_traces``, ``_baton_conversations`` and ``_baton_loops``, which hold a row per
trace or conversation of the whole store. Trace ids are random, so no zone map skips
anything, and a semi-join on the id column decompresses every string of it: the lookup
cost the store's size. Each of those tables therefore keeps a 32-bit digest of its id
(``KEY``) beside it. A lookup first finds the row ids whose digest matches, reading one
integer per row, then fetches only those rows and keeps the ones whose id is equal: the
digest only narrows, the answer is decided on the id itself, so a collision costs a
fetched row, never a wrong answer. The rows a batch finds are its own traces' rows, which
recent batches wrote near the table's end, so the fetch reads a few vectors; a batch of
new traces fetches nothing.

(An ART index was measured first: DuckDB answers an IN-list of 1,000 constants from it at
about 65 µs a key and a point lookup at about 230 µs, no cheaper than the whole scan at a
million traces, and a DuckLake team store has no indexes.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import pyarrow as pa

from tracer.store.rows import registered
from tracer.store.schema import has_column

Connection = duckdb.DuckDBPyConnection

#: The digest stored beside an id: NULL exactly when the id is NULL. MD5 is the same in
#: every DuckDB version, so a store's keys stay valid across upgrades.
KEY = "CAST(md5_number_upper({}) >> 32 AS UINTEGER)"

#: The key columns, per table: (key column, the id it digests).
KEYED: dict[str, tuple[tuple[str, str], ...]] = {
    "_baton_traces": (("trace_key", "trace_id"), ("conversation_key", "conversation_id")),
    "_baton_conversations": (("conversation_key", "conversation_id"),),
    "_baton_loops": (("trace_key", "trace_id"),),
}


def key(expression: str) -> str:
    """SQL for the digest of ``expression``."""
    return KEY.format(expression)


def add_key_columns(con: Connection) -> None:
    """Give the keyed tables their key columns, filled for the rows they hold (a
    migration; a no-op for a table that has them)."""
    for table, keys in KEYED.items():
        for column, of in keys:
            if not has_column(con, table, column):
                con.execute(f"ALTER TABLE {table} ADD COLUMN {column} UINTEGER")
            con.execute(
                f"UPDATE {table} SET {column} = {key(of)} "
                f"WHERE {column} IS NULL AND {of} IS NOT NULL"
            )


def rows_among(
    con: Connection,
    table: str,
    by: str,
    ids: Iterable[str | None],
    columns: str,
) -> list[tuple[Any, ...]]:
    """The rows of ``table`` whose ``by`` column is one of ``ids`` (NULL matching NULL):
    ``rowid``, then ``by``, then ``columns``, in no particular order."""
    wanted = set(ids)
    found = _matching_rowids(con, table, by, wanted)
    if not found:
        return []
    select = f"rowid, {by}" + (f", {columns}" if columns else "")
    with registered(con, "_baton_rowids", pa.table({"r": pa.array(found, pa.int64())})):
        rows = con.execute(
            f"SELECT {select} FROM {table} WHERE rowid IN (SELECT r FROM _baton_rowids)"
        ).fetchall()
    return [row for row in rows if row[1] in wanted]


def delete_among(con: Connection, table: str, by: str, ids: Iterable[str | None]) -> None:
    """Delete the rows of ``table`` whose ``by`` column is one of ``ids``."""
    delete_rowids(con, table, [row[0] for row in rows_among(con, table, by, ids, "")])


def delete_rowids(con: Connection, table: str, rowids: list[int]) -> None:
    """Delete the rows of ``table`` with those ``rowids`` (from ``rows_among``, in the
    same transaction)."""
    if rowids:
        with registered(con, "_baton_rowids", pa.table({"r": pa.array(rowids, pa.int64())})):
            con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT r FROM _baton_rowids)")


def _matching_rowids(con: Connection, table: str, by: str, wanted: set[str | None]) -> list[int]:
    """Row ids of ``table`` whose key matches one of ``wanted``'s digests (a superset of
    the rows with those ids)."""
    column = next(k for k, of in KEYED[table] if of == by)
    found: list[int] = []
    named = sorted(i for i in wanted if i is not None)
    if named:
        ids = pa.table({"id": pa.array(named, pa.string())})
        with registered(con, "_baton_wanted", ids):
            found += [
                row[0]
                for row in con.execute(
                    f"SELECT rowid FROM {table} WHERE {column} IN "
                    f"(SELECT {key('id')} FROM _baton_wanted)"
                ).fetchall()
            ]
    if None in wanted:
        found += [
            row[0]
            for row in con.execute(f"SELECT rowid FROM {table} WHERE {column} IS NULL").fetchall()
        ]
    return found
