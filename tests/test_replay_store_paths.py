"""Every public ``replay`` function takes a store's path as well as a ``Store``, as
``tracer.setup`` does (issue #15: ``load_conversation("runs.duckdb", id)`` raised
``AttributeError``), and a path where there is no store is an error, never a new store."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_sample import LOOPING

import replay
from replay.recording import load_recording
from tracer.store import Store

LOOPING_TRACE = f"{0x40:032x}"


def test_paths_read_the_same_as_the_store(sample_store: Store) -> None:
    path = sample_store.path
    for where in (str(path), path):
        assert replay.load_conversation(where, LOOPING) == replay.load_conversation(
            sample_store, LOOPING
        )
        assert replay.list_conversations(where) == replay.list_conversations(sample_store)
        assert replay.list_loops(where) == replay.list_loops(sample_store)
        assert replay.store_version(where) == replay.store_version(sample_store)
        step = replay.load_conversation(sample_store, LOOPING).steps[0]
        assert replay.span_record(where, step.trace_id, step.span_id) == replay.span_record(
            sample_store, step.trace_id, step.span_id
        )
        assert load_recording(where, LOOPING_TRACE).calls == (
            load_recording(sample_store, LOOPING_TRACE).calls
        )


def test_a_path_with_no_store_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    with pytest.raises(replay.NotFoundError, match="there is no store at"):
        replay.load_conversation(str(missing), "anything")
    with pytest.raises(replay.NotFoundError, match="there is no store at"):
        replay.list_conversations(missing)
    assert list(tmp_path.iterdir()) == []
