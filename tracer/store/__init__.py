"""The span store: one DuckDB file and its folder of incoming segments.

Owns everything about the file: where it lives (``location``), its tables and migrations
(``schema``), the views users query (``views``), the shape of a span row as Arrow sees it
(``rows``), limits and redaction of stored values (``sanitize``), the segment files that
recorders write (``segments``), how a batch of rows goes in (``ingest``, ``resolve``), and
the ``Store`` that opens, absorbs and answers queries (``store``).

It is the bottom layer of ``tracer``: it must not import ``tracer.capture``,
``tracer.otlp`` or ``tracer.runner`` (an import-linter contract checks it), so that
anything reading a store never loads a recorder, a receiver or the agent runner.
"""

from __future__ import annotations

from tracer.store.store import (
    AbsorbReport,
    QueryResult,
    Store,
    StoreBusyError,
    StoreError,
    StoreStatus,
    register_before_read,
)

__all__ = [
    "AbsorbReport",
    "QueryResult",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreStatus",
    "register_before_read",
]
