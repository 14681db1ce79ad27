"""baton's writing side: recording multi-agent runs as OpenTelemetry spans in DuckDB."""

from __future__ import annotations

from tracer.exporter import StoreExporter
from tracer.provider import get_tracer, setup, shutdown
from tracer.recording import record
from tracer.sanitize import Limits
from tracer.store import Store, StoreBusyError, StoreError

__all__ = [
    "Limits",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreExporter",
    "get_tracer",
    "record",
    "setup",
    "shutdown",
]
