"""A store written by an older baton opens and is upgraded in place."""

from __future__ import annotations

import duckdb
import pytest

from tracer.store import Store
from tracer.store.schema import SCHEMA_VERSION, migrate, schema_version


def test_an_older_store_is_upgraded_in_place_and_keeps_its_spans(store: Store) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(store.path))
    migrate(con, upto=1)  # what the first release wrote: spans, no settings, no views
    con.execute(
        "INSERT INTO spans (trace_id, span_id, name, start_time, op, agent_name, conversation_id) "
        "VALUES ('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b7', 'invoke_agent Triage', "
        "now(), 'agent', 'Triage', 'old-conversation')"
    )
    assert schema_version(con) == 1
    con.close()

    status = store.status()
    assert status.schema_version == SCHEMA_VERSION
    assert status.rows["spans"] == 1
    assert store.query("SELECT conversation_id, agents FROM conversations").rows == [
        ("old-conversation", ["Triage"])
    ]
    applied = store.query("SELECT id, name FROM _baton_migrations ORDER BY id").rows
    assert [row[0] for row in applied] == list(range(1, SCHEMA_VERSION + 1))


def test_a_store_from_a_newer_baton_is_refused_clearly(store: Store) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(store.path))
    migrate(con)
    con.execute(
        "INSERT INTO _baton_migrations VALUES (?, '999_future', now())", [SCHEMA_VERSION + 1]
    )
    con.close()
    with pytest.raises(Exception, match="newer than this baton understands"):
        store.query("SELECT 1")
