"""``baton export --format markdown`` (issue #15): a conversation turn by turn for a bug
report, checked against what the store's views say happened; hostile text cannot break
out of its fences or reach a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from spanmaker import SpanMaker

from replay import load_conversation
from replay.transcript import conversation_markdown
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.cli import main


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


def export(store: Store, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["export", "--store", str(store.path), "--format", "markdown", *args]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("conversation_id", ["support-triage", "ping-pong", "tool-error"])
def test_the_transcript_follows_the_views(demo_store: Store, conversation_id: str) -> None:
    code, text, _ = export(demo_store, conversation_id)
    assert code == 0
    conversation = load_conversation(demo_store, conversation_id)
    top = {step.span_id for step in conversation.steps}
    turns = [
        (span_id, agent)
        for span_id, agent in demo_store.query(
            "SELECT span_id, agent_name FROM turns WHERE conversation_id = ? ORDER BY started_at, span_id",
            [conversation_id],
        ).rows
        if span_id in top
    ]
    headings = re.findall(r"^## Turn (\d+) · (\S+) ·", text, re.MULTILINE)
    assert headings == [(str(i), agent) for i, (_, agent) in enumerate(turns, start=1)]
    handoffs = demo_store.query(
        "SELECT from_agent, to_agent FROM handoffs WHERE conversation_id = ? ORDER BY seq",
        [conversation_id],
    ).rows
    transfers = re.findall(r"^➜ transfer: \*\*(.+)\*\* → \*\*(.+)\*\*$", text, re.MULTILINE)
    assert transfers == [tuple(row) for row in handoffs]
    loops = demo_store.query(
        "SELECT count(*) FROM loops WHERE conversation_id = ?", [conversation_id]
    ).rows[0][0]
    assert len(re.findall(r"^- ⟲ loop: ", text, re.MULTILINE)) == loops
    errors = re.findall(r"^✗ \*\*(\w+):", text, re.MULTILINE)
    assert errors == [error.kind for step in conversation.steps for error in step.errors]
    for error in errors:
        assert f"{error}: {error}" not in text  # the type said once


def test_tool_calls_and_results_are_fenced(demo_store: Store) -> None:
    _, text, _ = export(demo_store, "tool-error")
    calls = demo_store.query(
        "SELECT tool_name, arguments, result FROM tool_calls "
        "WHERE conversation_id = ? ORDER BY started_at, span_id",
        ["tool-error"],
    ).rows
    assert [name for name, _, _ in calls] == re.findall(
        r"^⚙ tool \*\*(\w+)\*\*", text, re.MULTILINE
    )
    for _, arguments, _ in calls:
        if arguments:
            pretty = json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
            assert f"```json\n{pretty}\n```" in text


def test_an_unknown_conversation_is_an_error(demo_store: Store) -> None:
    code, out, err = export(demo_store, "nope")
    assert code == 1 and out == ""
    assert err.startswith("Error: no conversation or trace 'nope' in ")


def test_written_to_a_file(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    code, stdout, err = export(demo_store, "ping-pong", "-o", str(out))
    assert code == 0 and stdout == ""
    assert out.read_text() == conversation_markdown(load_conversation(demo_store, "ping-pong"))
    assert err == f"wrote the transcript of ping-pong to {out}\n"


def test_hostile_text_stays_inside_its_fences_and_off_the_terminal(tmp_path: Path) -> None:
    store = Store(tmp_path / "hostile.duckdb")
    maker = SpanMaker(store)
    result = "here ``` and ```` fences\n\x1b]0;pwned\x07\x1b[2J done"
    with maker.workflow("hostile"), maker.agent("Ev\x1bil[/]"):
        maker.chat(
            input_messages=[{"role": "user", "parts": [{"type": "text", "content": "hi\x1b[31m"}]}],
            output_messages=[],
        )
        maker.tool("peek", arguments='{"q": "\\u001b[2J"}', result=result)
    maker.close()
    text = conversation_markdown(load_conversation(store, "hostile"))
    assert "\x1b" not in text and "\x07" not in text
    assert "␛]0;pwned␇␛[2J done" in text
    assert "Ev␛il[/]" in text
    # The result's fence is longer than any run of backticks inside it.
    assert "`````text\nhere ``` and ```` fences\n" in text
