"""Every recording the replay tests compare over: the sample traces and the producer
fixtures, each imported into a store of its own."""

from __future__ import annotations

from pathlib import Path

from tracer.capture.importing import import_files
from tracer.store import Store

ROOT = Path(__file__).resolve().parent.parent
RECORDED = sorted((ROOT / "sample_traces").glob("*.otlp.json")) + sorted(
    (ROOT / "tests" / "producers" / "fixtures").glob("*.otlp.jsonl")
)
LONG = ROOT / "sample_traces" / "long_conversation.otlp.json"


def imported(path: Path, tmp_path: Path) -> tuple[Store, list[str]]:
    """A store holding ``path``, and its conversations' ids followed by its traces'."""
    store = Store(tmp_path / "store.duckdb")
    problems: list[str] = []
    import_files(store, [path], report=problems.append)
    assert problems == []
    conversations = store.query("SELECT conversation_id FROM conversations ORDER BY 1").rows
    traces = store.query("SELECT DISTINCT trace_id FROM spans ORDER BY 1").rows
    return store, [row[0] for row in conversations + traces]
