"""Running a user's SQL (``baton sql``, ``Store.user_query``): it reads the store and
nothing else.

Three fences, each enough alone for what it stops: only statements that read are run
(SELECT, EXPLAIN, PRAGMA); the connection is read-only; and it has no access to files,
the network or extensions, with its configuration locked so a query cannot lift that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from tracer.store.store import Connection

#: How a connection for user SQL is configured (before anything runs on it).
LOCKED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
_READING = frozenset(
    {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA}
)
EXAMPLE = 'baton sql "select from_agent, to_agent, count(*) from handoffs group by all"'


class QueryRefused(ValueError):
    """The query would do more than read the store; the message says what and why."""


class EmptyQuery(ValueError):
    """The query holds no statement."""


def statements(con: Connection, sql: str) -> list[Any]:
    """The statements of ``sql``, each checked to only read; raises ``EmptyQuery`` or
    ``QueryRefused`` before any of them runs."""
    found = con.extract_statements(sql) if sql.strip() else []
    if not found:
        raise EmptyQuery(f"the query is empty: give one, for example {EXAMPLE}")
    for statement in found:
        if statement.type not in _READING:
            kind = statement.type.name.replace("_", " ")
            raise QueryRefused(
                f"baton sql only reads the store, so {kind} statements are refused "
                f"({_excerpt(statement.query)}). Query the tables and views with SELECT; "
                "to change or copy data, open the store with DuckDB itself"
            )
    return found


def explain_permission_error(exc: duckdb.Error) -> str:
    """A message for DuckDB refusing what the locked connection forbids."""
    return (
        f"baton sql only reads the store: files, the network and extensions are out of "
        f"its reach ({str(exc).splitlines()[0]})"
    )


def _excerpt(query: str) -> str:
    text = " ".join(query.split())
    return text if len(text) <= 60 else text[:57] + "..."
