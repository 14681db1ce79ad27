"""An absorb finds the rows of the traces and conversations it touches by a digest of
their ids (``tracer.store.lookup``): it reads the ids of ``_baton_traces``,
``_baton_conversations`` and ``_baton_loops`` only at the rows the digest points to, so
what it reads follows the batch, not the store. Ids whose digests collide stay apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_derived_facts import conversations, views_and_references

from tracer.store import Store
from tracer.store.ingest import insert_spans
from tracer.store.schema import transaction

_PER_TRACE = {
    "_baton_traces": ("trace_id", "conversation_id"),
    "_baton_conversations": ("conversation_id",),
    "_baton_loops": ("trace_id",),
}


class Profiled:
    """A connection whose statements' query profiles are kept (DuckDB writes the last
    statement's profile to a file; it is read before the next statement runs)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, output: Path) -> None:
        self.con, self.output = con, output
        self.profiles: list[dict[str, Any]] = []
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{output}'")

    def keep(self) -> None:
        if self.output.exists() and self.output.stat().st_size:
            self.profiles.append(json.loads(self.output.read_text()))
            self.output.write_text("")

    def execute(self, *args: Any) -> duckdb.DuckDBPyConnection:
        self.keep()
        return self.con.execute(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def _scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("name") in ("SEQ_SCAN", "TABLE_SCAN") else []
    for child in node.get("children", []):
        found += _scans(child)
    return found


def _renamed(table: pa.Table, names: dict[str, str]) -> pa.Table:
    """``table`` with its trace and conversation ids replaced as ``names`` says."""
    for column in ("trace_id", "conversation_id"):
        values = [names.get(v, v) if v else v for v in table.column(column).to_pylist()]
        table = table.set_column(
            table.column_names.index(column), column, pa.array(values, pa.string())
        )
    return table


def test_an_absorb_reads_stored_ids_only_at_the_rows_their_digest_points_to(
    tmp_path: Path,
) -> None:
    everything = conversations(240, 5)
    traces = pc.unique(everything.column("trace_id")).to_pylist()
    stored = traces[:200]  # the other 40 arrive in the batch
    in_store = pc.is_in(everything.column("trace_id"), pa.array(stored))
    store = Store(tmp_path / "store.duckdb")
    store.ingest(everything.filter(in_store))
    # A batch of new traces and the rest of a stored one (its root span arrives late).
    batch = everything.filter(pc.invert(in_store))
    continued = everything.filter(pc.equal(everything.column("trace_id"), stored[-1]))
    with store.write_connection() as con:
        con.execute("DELETE FROM spans WHERE trace_id = ? AND parent_span_id IS NULL", [stored[-1]])
    batch = pa.concat_tables([batch, continued.filter(pc.is_null(continued["parent_span_id"]))])

    with store.write_connection() as con:
        profiled = Profiled(con, tmp_path / "profile.json")
        with transaction(con):
            insert_spans(profiled, batch)  # type: ignore[arg-type]
        profiled.keep()
        con.execute("PRAGMA disable_profiling")

    read = []
    for profile in profiled.profiles:
        for node in profile.get("operator", profile.get("children", [])):
            for scan in _scans(node):
                info = scan.get("extra_info", {})
                table = str(info.get("Table", "")).rsplit(".", 1)[-1]
                projections = info.get("Projections", [])
                projected = (
                    projections if isinstance(projections, list) else str(projections).split()
                )
                filters = f"{info.get('Filters', '')} {info.get('Dynamic Filters', '')}"
                for column in _PER_TRACE.get(table, ()):
                    if column in projected:
                        read.append((table, column, "rowid" in filters))
    assert read, "the absorb read no stored id at all"
    assert all(by_rowid for _, _, by_rowid in read), read
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name


def _colliding_pairs(count: int) -> list[tuple[str, str]]:
    """``count`` pairs of distinct ids, the two of a pair with one digest (found by
    DuckDB, which digests them)."""
    found = (
        duckdb.connect()
        .execute(
            "SELECT list(id ORDER BY id)[1:2] FROM (SELECT printf('%032x', i) AS id "
            "FROM range(400000) AS r(i)) GROUP BY CAST(md5_number_upper(id) >> 32 AS UINTEGER) "
            "HAVING count(*) >= 2 ORDER BY 1 LIMIT ?",
            [count],
        )
        .fetchall()
    )
    assert len(found) == count, "too few collisions among the candidates"
    return [(pair[0][0], pair[0][1]) for pair in found]


@pytest.mark.parametrize("order", ["first_then_second", "second_then_first", "together"])
def test_traces_and_conversations_whose_digests_collide_stay_apart(
    tmp_path: Path, order: str
) -> None:
    table = conversations(2, 3)
    traces = pc.unique(table.column("trace_id")).to_pylist()
    convs = [c for c in pc.unique(table.column("conversation_id")).to_pylist() if c]
    (a, b), (c, d) = _colliding_pairs(2)  # two traces, and their two conversations
    names = {traces[0]: a, traces[1]: b, **dict(zip(convs, [c, d], strict=False))}
    renamed = _renamed(table, names)
    first = renamed.filter(pc.equal(renamed.column("trace_id"), a))
    second = renamed.filter(pc.equal(renamed.column("trace_id"), b))
    store = Store(tmp_path / "store.duckdb")
    if order == "together":
        store.ingest(renamed)
    else:
        for part in (first, second) if order == "first_then_second" else (second, first):
            store.ingest(part)
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
    assert store.query(
        "SELECT trace_id, conversation_id FROM _baton_traces ORDER BY trace_id"
    ).rows == sorted(
        {
            (trace, conversation)
            for trace, conversation in zip(
                renamed["trace_id"].to_pylist(), renamed["conversation_id"].to_pylist(), strict=True
            )
            if conversation
        }
    )
    assert store.query("SELECT count(*) FROM conversations").rows == [(2,)]


def test_a_store_without_lookup_keys_gets_them_and_keeps_its_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.duckdb"
    table = conversations(30, 7)
    traces = pc.unique(table.column("trace_id")).to_pylist()
    early = pc.is_in(table.column("trace_id"), pa.array(traces[:20]))
    Store(path).ingest(table.filter(early))
    con = duckdb.connect(str(path))  # back to schema 8: no keys
    for table_name, column in (
        ("_baton_traces", "trace_key"),
        ("_baton_traces", "conversation_key"),
        ("_baton_conversations", "conversation_key"),
        ("_baton_loops", "trace_key"),
    ):
        con.execute(f"ALTER TABLE {table_name} DROP COLUMN {column}")
    con.execute("DELETE FROM _baton_migrations WHERE id >= 9")
    con.close()
    store = Store(path)
    store.ingest(table.filter(pc.invert(early)))  # upgraded, then absorbed by key
    assert "keying its 20 traces" in caplog.text
    assert store.query(
        "SELECT count(*) FROM _baton_traces WHERE trace_key IS NULL OR conversation_key IS NULL"
    ).rows == [(0,)]
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
    assert store.query("SELECT count(*) FROM conversations").rows == [(30,)]
