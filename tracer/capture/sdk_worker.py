"""The helper process that turns ended Agents SDK traces into segments, so that the
recording process's interpreter (which its runs need: one GIL) does not.

    python -m tracer.capture.sdk_worker     # started and fed by tracer.capture.sdk_offload

Input (stdin) is a sequence of frames, each one batch: ``(batch id, settings, groups)``
marshalled, where a group is ``(store path, capture_content, [TraceBuffer.fields()])``.
Each group becomes one segment, converted by the very code the recording process would
run (``SdkSpanConverter.drain`` into ``SpanRows``), with the recording process's
settings; the batch is acknowledged on stdout only once its segments are on the disk.
The process reads until its input ends: when the recording process exits or is killed,
what it had sent is still in the pipe, and is written before this one exits.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import signal
import struct
import sys
from typing import IO, Any

from tracer.capture.dialects.transfers import TRANSFER_TOOLS_ENV
from tracer.capture.sdk_spans import SdkSpanConverter, TraceBuffer
from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tracer.store.redact import REDACT_ENV, redactor
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.sdk_worker")

_LENGTH = struct.Struct("<I")
_ACK = struct.Struct("<IB")
#: The batch id of the first message: the process has imported everything and reads.
READY = 0

#: One batch's settings: ``(max_value_chars, redaction pattern, transfer tools)``.
Settings = tuple[int, str | None, str | None]


def current_settings(limits: Limits) -> Settings:
    """What conversion reads from this process's state besides the spans themselves
    (redaction's pattern is the one in force here: ``redactor()`` keeps the first)."""
    return (limits.max_value_chars, redactor().extra, os.environ.get(TRANSFER_TOOLS_ENV))


def encode(batch_id: int, settings: Settings, groups: list[tuple[str, bool, list[Any]]]) -> bytes:
    """One batch as a frame; raises ValueError when a value would not convert there
    exactly as here (the caller converts such a batch itself)."""
    if not plain(groups):
        raise ValueError("a value that converts differently in another process")
    payload = marshal.dumps((batch_id, settings, groups))
    return _LENGTH.pack(len(payload)) + payload


_LEAVES = frozenset({str, int, float, bool, type(None), bytes})


def plain(value: Any) -> bool:
    """Whether ``value`` holds only dicts, lists, tuples, text, numbers, bytes and None:
    what converts to the same text in any process. A set's order follows this process's
    string hashing, and an object's default text holds its address, so those would not
    (nor would a subclass, say a ``str`` enum, which marshal would not keep)."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            push(item)  # the keys
            push(item.values())
        elif kind is list or kind is tuple:
            push(item)
        elif kind not in _LEAVES:
            return False
    return True


def read_ack(stream: IO[bytes]) -> tuple[int, bool] | None:
    """The next acknowledgement ``(batch id, written)``; None when the process is gone."""
    data = stream.read(_ACK.size)
    if len(data) < _ACK.size:
        return None
    batch_id, ok = _ACK.unpack(data)
    return batch_id, bool(ok)


def _read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    payload = stream.read(length)
    return payload if len(payload) == length else None


class _Writer:
    """Converts and writes batches, keeping the settings of the last one in force."""

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._settings: Settings | None = None

    def write(self, settings: Settings, groups: list[tuple[str, bool, list[Any]]]) -> None:
        self._apply(settings)
        limits = Limits(max_value_chars=settings[0])
        tables = []
        for path, capture_content, buffers in groups:
            traces = [TraceBuffer(*fields) for fields in buffers]
            converter = SdkSpanConverter.holding(traces, capture_content=capture_content)
            rows = SpanRows(limits)
            converter.drain(rows, [t.sdk_trace_id for t in traces], final=True)
            if len(rows):
                tables.append((path, rows.to_arrow()))
        for path, table in tables:
            store = self._stores.get(path)
            if store is None:
                store = self._stores[path] = Store(path)
            store.write_segment(table)

    def _apply(self, settings: Settings) -> None:
        if settings == self._settings:
            return
        _, redact, transfers = settings
        for name, value in ((REDACT_ENV, redact), (TRANSFER_TOOLS_ENV, transfers)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        redactor.cache_clear()
        self._settings = settings


def main() -> int:
    # The terminal's Ctrl-C goes to the whole process group: the recording process
    # handles it and then closes our input; dying here would lose what it sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    acks = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot garble the acks
    batches = sys.stdin.buffer
    writer = _Writer()
    acks.write(_ACK.pack(READY, 1))
    while (frame := _read_frame(batches)) is not None:
        batch_id, settings, groups = marshal.loads(frame)
        try:
            writer.write(settings, groups)
            written = True
        except Exception:  # the recording process converts this batch itself
            logger.exception("baton's SDK conversion process could not write a batch")
            written = False
        # The recording process may be gone: then keep writing what it sent.
        with contextlib.suppress(BrokenPipeError):
            acks.write(_ACK.pack(batch_id, int(written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
