"""The store's tables and the migrations that create and upgrade them.

Migrations are an ordered list of functions; each one applied is recorded in
``_baton_migrations``, so a store written by an older baton is upgraded in place the
next time it is opened for writing. Views are not migrations: they are recreated from
``tracer.store.views`` whenever their definition changed (see ``tracer.store.views.ensure_views``).
Also the few connection helpers every module of the store uses. The columns of a span
row as Arrow sees them are in ``tracer.store.rows``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

Connection = duckdb.DuckDBPyConnection
logger = logging.getLogger("baton.store")


def _m001_spans(con: Connection) -> None:
    # (trace_id, span_id) is unique, kept so by ingest's anti-join rather than an index:
    # absorbs are serialised by DuckDB's write lock, and an ART index over a large store
    # costs more memory and insert time than the join.
    con.execute("CREATE TABLE _baton_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute(
        """
        CREATE TABLE spans (
            trace_id        VARCHAR NOT NULL,
            span_id         VARCHAR NOT NULL,
            parent_span_id  VARCHAR,
            name            VARCHAR NOT NULL,
            kind            VARCHAR,
            start_time      TIMESTAMPTZ NOT NULL,
            end_time        TIMESTAMPTZ,
            duration_ms     DOUBLE,
            status          VARCHAR NOT NULL DEFAULT 'unset',
            status_message  VARCHAR,
            op              VARCHAR NOT NULL DEFAULT 'other',
            agent_name      VARCHAR,
            tool_name       VARCHAR,
            from_agent      VARCHAR,
            to_agent        VARCHAR,
            conversation_id VARCHAR,
            source          VARCHAR,
            model           VARCHAR,
            input_tokens    BIGINT,
            output_tokens   BIGINT,
            tool_call_id    VARCHAR,
            tool_arguments  VARCHAR,
            tool_result     VARCHAR,
            error_type      VARCHAR,
            final_answer    BOOLEAN,
            scope           VARCHAR,
            attributes      JSON,
            events          JSON,
            resource        JSON
        )
        """
    )


def _m002_settings(con: Connection) -> None:
    # Settings the views read, so thresholds are per store and visible in SQL.
    con.execute("CREATE TABLE baton_settings (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute(
        "INSERT INTO baton_settings VALUES "
        "('loop.two_cycle_handoffs', '3'), ('loop.cycle_repeats', '2')"
    )


def _m003_redacted(con: Connection) -> None:
    # How many values redaction replaced in each span: users see that something was
    # removed, and how much, never what.
    con.execute("ALTER TABLE spans ADD COLUMN redacted INTEGER")


def _m004_nested_in(con: Connection) -> None:
    # The agent-tool call or guardrail a span runs under (NULL on the conversation's
    # path), so views tell nested turns apart (tracer.store.nesting). Filled for the
    # spans already stored by walking up their parents.
    con.execute("ALTER TABLE spans ADD COLUMN nested_in VARCHAR")
    con.execute(
        """
        UPDATE spans SET nested_in = found.nested_in
        FROM (
            WITH RECURSIVE up(trace_id, span_id, ancestor, depth, hit) AS (
                SELECT trace_id, span_id, parent_span_id, 0, NULL::VARCHAR FROM spans
                UNION ALL
                SELECT u.trace_id, u.span_id, p.parent_span_id, u.depth + 1,
                       CASE WHEN p.op IN ('agent_tool', 'guardrail') THEN p.span_id END
                FROM up AS u
                JOIN spans AS p ON p.trace_id = u.trace_id AND p.span_id = u.ancestor
                WHERE u.hit IS NULL AND u.depth < 64
            )
            SELECT trace_id, span_id, any_value(hit) AS nested_in
            FROM up WHERE hit IS NOT NULL GROUP BY trace_id, span_id
        ) AS found
        WHERE spans.trace_id = found.trace_id AND spans.span_id = found.span_id
        """
    )


def _m005_links(con: Connection) -> None:
    # A span's OTLP links (JSON: trace_id, span_id, attributes): AutoGen relates the
    # spans of one run across traces by links alone.
    con.execute("ALTER TABLE spans ADD COLUMN links VARCHAR")


def _m006_derived(con: Connection) -> None:
    # Turn and handoff numbers, loops and conversation summaries, computed once at ingest
    # (tracer.store.derived) so the views are thin selects. 007 computes them for the
    # spans an existing store already holds.
    from tracer.store import derived

    con.execute("ALTER TABLE spans ADD COLUMN turn INTEGER")
    con.execute("ALTER TABLE spans ADD COLUMN seq INTEGER")
    for sql in derived.CREATE_TABLES:
        con.execute(sql)


def _m007_prices(con: Connection) -> None:
    # What each model call costs, in SQL: the rates of the (model, day) pairs the store's
    # calls use (tracer.store.prices), and each conversation's total. Then the derived
    # facts of everything the store already holds, once.
    from tracer.store import derived, prices

    con.execute(prices.CREATE_TABLE)
    con.execute("ALTER TABLE _baton_conversations ADD COLUMN cost_usd DECIMAL(38, 18)")
    con.execute("ALTER TABLE _baton_conversations ADD COLUMN n_unpriced_turns BIGINT")
    spans = int(scalar(con, "SELECT count(*) FROM spans"))
    if spans:
        logger.warning(
            "baton: upgrading this store once: numbering the turns and handoffs of %s spans, "
            "pricing the model calls and summarising their conversations, so that every "
            "later read is fast",
            f"{spans:,}",
        )
        with _progress_bar(con, spans >= 200_000):
            derived.refresh_all(con)


def _m008_links_table(con: Connection) -> None:
    # Links between traces, both ways (tracer.store.links): a trace that arrives after
    # the one linking to it joins its conversation too. Filled from the stored links.
    from tracer.store import links

    con.execute(links.CREATE_TABLE)
    rows = con.execute("SELECT trace_id, links FROM spans WHERE links IS NOT NULL").fetchall()
    links.store_links(con, links.linked_traces([r[0] for r in rows], [r[1] for r in rows]))


def _m009_lookup_keys(con: Connection) -> None:
    # A 32-bit digest beside each trace and conversation id the absorb looks up
    # (tracer.store.lookup), so that a batch finds its rows without reading those tables
    # whole: an absorb then costs what its batch costs, not what the store holds.
    from tracer.store import lookup

    rows = int(scalar(con, "SELECT count(*) FROM _baton_traces"))
    if rows:
        logger.warning(
            "baton: upgrading this store once: keying its %s traces and their "
            "conversations, so that adding spans does not slow down as the store grows",
            f"{rows:,}",
        )
    with _progress_bar(con, rows >= 200_000):
        lookup.add_key_columns(con)


def _m010_conversation_claims(con: Connection) -> None:
    # When each trace's conversation id was claimed, so that the earliest claim wins in
    # whatever order a trace's spans arrive (tracer.store.resolve._conversations).
    from tracer.store import derived

    derived.add_claims_column(con)


@contextmanager
def _progress_bar(con: Connection, show: bool) -> Iterator[None]:
    """DuckDB's own progress bar on the terminal for the block, when it is worth one."""
    if not show or not sys.stderr.isatty():
        yield
        return
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = true")
    try:
        yield
    finally:
        con.execute("SET enable_progress_bar = false")


#: Applied in order; never edit or reorder a published entry, append a new one.
MIGRATIONS: tuple[tuple[str, Callable[[Connection], None]], ...] = (
    ("001_spans", _m001_spans),
    ("002_settings", _m002_settings),
    ("003_redacted", _m003_redacted),
    ("004_nested_in", _m004_nested_in),
    ("005_links", _m005_links),
    ("006_derived", _m006_derived),
    ("007_prices", _m007_prices),
    ("008_links_table", _m008_links_table),
    ("009_lookup_keys", _m009_lookup_keys),
    ("010_conversation_claims", _m010_conversation_claims),
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The store was written by a newer baton than this one."""


def scalar(con: Connection, sql: str, params: list[object] | None = None) -> Any:
    """The single value ``sql`` returns (None for no row), leaving no result pending:
    DuckDB refuses to register tables while a result is only partly fetched."""
    rows = con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def has_column(con: Connection, table: str, column: str) -> bool:
    """Whether ``table`` (in the connection's current schema) has ``column``."""
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = ? AND column_name = ?",
            [table, column],
        )
    )


@contextmanager
def transaction(con: Connection) -> Iterator[None]:
    """Commit what the block does, or roll it all back if anything in it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (a full disk) has already ended the transaction: the error to
        # report is the one that got us here, not "no transaction is active".
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def schema_version(con: Connection) -> int:
    """How many migrations the store has had (0 for a new, empty file)."""
    exists = scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_baton_migrations'"
    )
    if not exists:
        return 0
    return int(scalar(con, "SELECT coalesce(max(id), 0) FROM _baton_migrations"))


def migrate(con: Connection, upto: int = SCHEMA_VERSION) -> int:
    """Apply the migrations the store lacks, each in its own transaction; return the version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS _baton_migrations "
        "(id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"this store has schema version {current}, newer than this baton understands "
            f"({SCHEMA_VERSION}); upgrade baton (pip install -U baton)"
        )
    for number, (name, apply) in enumerate(MIGRATIONS[current:upto], start=current + 1):
        with transaction(con):
            apply(con)
            con.execute(
                "INSERT INTO _baton_migrations VALUES (?, ?, current_timestamp)", [number, name]
            )
    return max(current, upto)
