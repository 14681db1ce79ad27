"""The store as the processes of one ``baton run`` write to it.

Every recorder of the run (the in-process exporters of each Python process, the Agents
SDK processor, ``baton run``'s OTLP receiver) writes segments through a ``RunStore``,
which notes the trace ids of each segment in the run's ledger file: that is how ``baton
run`` tells what this run recorded from what was in the store before, or what other
programs write to it meanwhile. Recorders inside the run never absorb: ``baton run``
absorbs for all of them while the command runs and once more when it ends.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tracer.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("baton.run")


class RunStore(Store):
    """A ``Store`` whose segments are noted in ``ledger``; ``absorbs`` False leaves
    absorbing to ``baton run`` (for recorders in the command's processes)."""

    def __init__(
        self, path: str | os.PathLike[str], ledger: Path | None, *, absorbs: bool = True
    ) -> None:
        super().__init__(path)
        self.ledger = ledger
        self.absorbs = absorbs

    def write_segment(self, table: pa.Table) -> Path:
        written = super().write_segment(table)
        if self.ledger is not None and "trace_id" in table.column_names:
            ids = {t for t in table.column("trace_id").to_pylist() if isinstance(t, str)}
            if ids:
                note_traces(self.ledger, ids)
        return written

    def absorb_if_free(self) -> None:
        if self.absorbs:
            super().absorb_if_free()

    def absorb_before_exit(self) -> None:
        if self.absorbs:
            super().absorb_before_exit()


def note_traces(ledger: Path, trace_ids: set[str]) -> None:
    """Append ``trace_ids`` to ``ledger`` in one write (O_APPEND: processes do not
    interleave). A failure costs the summary line, never the spans."""
    data = "".join(f"{t}\n" for t in sorted(trace_ids)).encode()
    try:
        fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        logger.warning("baton run could not note recorded traces in %s: %s", ledger, exc)


def noted_traces(ledger: Path) -> set[str]:
    """Every trace id the run's recorders noted."""
    try:
        text = ledger.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return set()
    return {line for line in text.splitlines() if line}
