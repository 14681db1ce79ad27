"""The store's own settings, as the views read them (``baton_settings``)."""

from __future__ import annotations

import duckdb

from tracer.loops import LoopSettings

_KEYS = {"loop.two_cycle_handoffs": "two_cycle_handoffs", "loop.cycle_repeats": "cycle_repeats"}


def read_loop_settings(con: duckdb.DuckDBPyConnection) -> LoopSettings:
    """The loop threshold the store's ``loops`` view uses (defaults where unset)."""
    values: dict[str, int] = {}
    for key, value in con.execute("SELECT key, value FROM baton_settings").fetchall():
        if key in _KEYS:
            try:
                values[_KEYS[key]] = int(value)
            except ValueError:
                continue  # the view would fail on it too; the default is the better answer here
    return LoopSettings(**values)
