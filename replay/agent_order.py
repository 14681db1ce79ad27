"""``agents_in_order``: every agent of a store, in the order it first appeared, so the
TUI can give each agent one colour in every conversation."""

from __future__ import annotations

from replay.errors import StoreLike, existing_store


def agents_in_order(store: StoreLike) -> tuple[str, ...]:
    """The store's agent names, earliest first appearance first (ties by name)."""
    opened = existing_store(store)
    with opened.read_connection() as con:
        rows = con.execute(
            "SELECT agent_name FROM spans WHERE agent_name IS NOT NULL "
            "GROUP BY agent_name ORDER BY min(start_time), agent_name"
        ).fetchall()
    return tuple(str(name) for (name,) in rows)
