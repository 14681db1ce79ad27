"""The receiver's log lines are written by a thread of their own: a stderr nobody reads
(a full pipe) must never stall the event loop that answers senders. Each record is one
line: an exception is summed up as its type and message, not a traceback (the event
loop reports a full descriptor table on every accept, a dropped sender on every read)."""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys


def log_in_background(fmt: str, level: int = logging.WARNING) -> logging.handlers.QueueListener:
    """Route the root logger's records through a queue to a stderr writer thread; stop the
    returned listener at exit to write what is left."""
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(_OneLine(fmt))
    root = logging.getLogger()
    queued = logging.handlers.QueueHandler(records)
    queued.setFormatter(_OneLine("%(message)s"))  # the queue keeps the formatted message
    root.handlers[:] = [queued]
    root.setLevel(level)
    listener = logging.handlers.QueueListener(records, writer)
    listener.start()
    return listener


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        record.exc_info = None
        record.exc_text = None
        line = super().format(record).replace("\n", " ")
        return f"{line} ({type(exc).__name__}: {exc})" if exc is not None else line
