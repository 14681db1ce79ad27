"""``load_conversation``: a conversation (or one run) read back from the store, turn by turn.

One query fetches the spans of the conversation's traces (filtered on ``spans`` itself:
the views' window functions would number every trace of the store first), columns in
bulk through Arrow; ``replay.build`` makes the conversation of them in one pass per
trace. Message content is kept as the stored text and parsed only when a step's
messages are read (``StepContent``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import duckdb

from replay.build import Builder
from replay.errors import NotFoundError, StoreLike, existing_store
from replay.listing import read_version
from replay.model import Conversation
from replay.settings import read_loop_settings
from tracer.loops import LoopSettings
from tracer.store import Store

_MIN_PREFIX = 4

_SPANS_SQL = """
SELECT trace_id, span_id, parent_span_id, name, op,
       epoch_us(start_time) AS start_us, epoch_us(end_time) AS end_us, duration_ms,
       status, status_message, agent_name, tool_name, from_agent, to_agent, source, model,
       input_tokens, output_tokens, tool_call_id, tool_arguments, tool_result, error_type,
       final_answer,
       CASE WHEN op IN ('chat', 'guardrail')
                  OR (op IN ('handoff', 'agent') AND (contains(attributes, '"baton.')
                      OR contains(attributes, '"openai_agents.run.')
                      OR contains(attributes, '"openai_agents.handoff.')))
            THEN attributes::VARCHAR END AS attributes
FROM spans
WHERE {where}
ORDER BY start_time, span_id
"""


def load_conversation(
    store: StoreLike, conversation_or_trace_id: str, *, loop_settings: LoopSettings | None = None
) -> Conversation:
    """The conversation with this id, or the single run with this trace id, turn by turn.

    A unique prefix of an id (at least 4 characters) is enough. ``loop_settings`` default
    to the store's own (``baton_settings``). Raises ``NotFoundError`` naming the store
    when nothing matches.
    """
    return _load(store, conversation_or_trace_id, loop_settings, with_version=False)[0]


def load_conversation_at(
    store: StoreLike, conversation_or_trace_id: str, *, loop_settings: LoopSettings | None = None
) -> tuple[Conversation, tuple[int, int]]:
    """``load_conversation``, and the store's version (``store_version``) read on the same
    connection, in one transaction with the spans: it counts exactly the spans loaded, so
    a change during the load shows as a later version. One connection instead of two
    (opening one costs more than either query)."""
    conversation, version = _load(store, conversation_or_trace_id, loop_settings, with_version=True)
    assert version is not None
    return conversation, version


def _load(
    store: StoreLike,
    conversation_or_trace_id: str,
    loop_settings: LoopSettings | None,
    *,
    with_version: bool,
) -> tuple[Conversation, tuple[int, int] | None]:
    store = existing_store(store)
    connection = ExitStack()
    with connection:
        con = connection.enter_context(store.read_connection())
        if with_version:
            # One snapshot for the spans and the version: read after the spans (below,
            # while the conversation is built), it still counts exactly what they are.
            con.execute("BEGIN TRANSACTION")
        conversation_id, where, params, one_run = _locate(
            con, store, conversation_or_trace_id.strip()
        )
        table = con.sql(_SPANS_SQL.format(where=where), params=params).to_arrow_table()
        settings = loop_settings or read_loop_settings(con)
        # The spans are all in ``table`` now; the connection is closed before this returns.
        connection = connection.pop_all()
    version: list[tuple[int, int]] = []
    last_read = (lambda: version.append(read_version(con))) if with_version else None
    with _closed_meanwhile(connection, last_read), _collector_paused():
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        built = Builder(columns, settings).conversation(conversation_id, one_run=one_run)
    return built, version[0] if version else None


@contextmanager
def _closed_meanwhile(
    connection: ExitStack, last_read: Callable[[], None] | None = None
) -> Iterator[None]:
    """Runs ``last_read`` (the store's version: a scan of every span's start, 5-40 ms)
    and closes ``connection`` on a thread of its own while the body runs, and waits for
    it on the way out (its error raised, unless the body's is). DuckDB lets go of the GIL
    while it reads and closes (10-20 ms after a large read: the buffers go): time the
    conversation's build no longer waits behind."""
    failed: list[BaseException] = []

    def close() -> None:
        try:
            with connection:
                if last_read is not None:
                    last_read()
        except BaseException as exc:  # raised on the loading thread below
            failed.append(exc)

    closer = threading.Thread(target=close, name="baton-close", daemon=True)
    closer.start()
    try:
        yield
    finally:
        closer.join()
    if failed:
        raise failed[0]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building creates tens of thousands of small acyclic objects; the cyclic garbage
    collector would walk them all several times over (a third of the build time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _locate(
    con: duckdb.DuckDBPyConnection, store: Store, wanted: str
) -> tuple[str, str, list[object], bool]:
    """(conversation id, WHERE clause, its parameters, whether its traces are one run)
    for a conversation or trace id. Found in the store's per-conversation and per-trace
    tables, with the window of start times their spans lie in, so reading the spans skips
    the rest of a large store. A conversation named by a trace's id (the traces links
    join, ``tracer.store.links``) is one run, its loops found together, as the store
    finds them (``tracer.store.derived``); one trace read alone is a run of its own."""
    if not wanted:
        raise NotFoundError(
            f"give a conversation or trace id (see `baton traces --store {store.path}`)"
        )
    row = con.execute(
        "SELECT started_at, ended_at, "
        "EXISTS (SELECT 1 FROM _baton_traces WHERE trace_id = ?) AS one_run "
        "FROM _baton_conversations WHERE conversation_id = ?",
        [wanted, wanted],
    ).fetchall()
    if row:
        where = "conversation_id = ? AND start_time BETWEEN ? AND ?"
        return wanted, where, [wanted, row[0][0], row[0][1]], bool(row[0][2])
    row = con.execute(
        "SELECT conversation_id, first_start, last_start FROM _baton_traces WHERE trace_id = ?",
        [wanted],
    ).fetchall()
    if row:
        where = "trace_id = ? AND start_time BETWEEN ? AND ?"
        return str(row[0][0]), where, [wanted, *row[0][1:]], False
    if len(wanted) >= _MIN_PREFIX:
        candidates = con.execute(
            "SELECT DISTINCT 'conversation' AS kind, conversation_id FROM _baton_conversations "
            "WHERE starts_with(conversation_id, ?) "
            "UNION SELECT DISTINCT 'trace', trace_id FROM _baton_traces "
            "WHERE starts_with(trace_id, ?) ORDER BY 2 LIMIT 6",
            [wanted, wanted],
        ).fetchall()
        ids = {value for _, value in candidates}
        if len(ids) == 1:
            return _locate(con, store, ids.pop())
        if candidates:
            listed = ", ".join(f"{kind} {value}" for kind, value in candidates[:5])
            raise NotFoundError(
                f"{wanted!r} is the start of several ids in {store.path}: {listed}; give more of it"
            )
    raise NotFoundError(
        f"no conversation or trace {wanted!r} in {store.path}; "
        f"`baton traces --store {store.path}` lists what it holds"
    )


__all__ = ["load_conversation", "load_conversation_at"]
