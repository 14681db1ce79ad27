"""``baton loops`` and ``baton diff`` as a user runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from spanmaker import SpanMaker, ping_pong_run

from tracer.store import Store
from tui.cli import main


def trace_ids(store: Store) -> list[str]:
    return [
        r[0]
        for r in store.query(
            "SELECT trace_id FROM spans GROUP BY trace_id ORDER BY min(start_time)"
        ).rows
    ]


def billing_run(
    maker: SpanMaker, conversation_id: str, invoice: str, then: str, answer: str
) -> None:
    with maker.workflow(conversation_id):
        with maker.agent("Triage"):
            maker.chat()
            maker.handoff("Billing")
        with maker.agent("Billing"):
            maker.chat()
            maker.tool(
                "lookup_invoice", arguments=json.dumps({"invoice": invoice, "verbose": False})
            )
            maker.chat()
            maker.handoff(then)
        with maker.agent(then):
            maker.chat(
                final=True,
                output_messages=[
                    {"role": "assistant", "parts": [{"type": "text", "content": answer}]}
                ],
            )


@pytest.fixture
def runs(store: Store) -> Store:
    maker = SpanMaker(store)
    billing_run(maker, "a", "A-1", "Refunds", "Refund issued.")
    billing_run(maker, "b", "A-1", "Refunds", "Your refund is on its way.")
    billing_run(maker, "c", "B-" + "7" * 120, "Sales", "Let me upsell you.")
    ping_pong_run(
        maker, [("Triage", "Billing"), ("Billing", "Triage"), ("Triage", "Billing")], "loopy"
    )
    ping_pong_run(
        maker, [("A", "B"), ("B", "C"), ("C", "A"), ("A", "B"), ("B", "C"), ("C", "A")], "triangle"
    )
    maker.close()
    return store


def test_loops_lists_conversation_cycle_turns_and_handoffs(runs: Store) -> None:
    result = CliRunner().invoke(main, ["loops", "--store", str(runs.path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["conversation", "trace", "cycle", "turns", "handoffs"]
    assert (
        lines[2].split()[0] == "triangle"
        and "A → B → C" in lines[2]
        and lines[2].split()[-2:] == ["1–6", "6"]
    )
    assert (
        lines[3].split()[0] == "loopy"
        and "Triage ⇄ Billing" in lines[3]
        and lines[3].split()[-2:] == ["1–3", "3"]
    )
    assert lines[-1] == "(2 rows)"

    as_json = CliRunner().invoke(
        main, ["loops", "--store", str(runs.path), "--conversation", "loopy", "--format", "json"]
    )
    assert json.loads(as_json.output) == [
        {
            "conversation": "loopy",
            "trace": trace_ids(runs)[3],
            "cycle": "Triage ⇄ Billing",
            "turns": "1–3",
            "handoffs": 3,
        }
    ]


def test_loops_says_when_there_are_none(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], "calm")
    maker.close()
    result = CliRunner().invoke(main, ["loops", "--store", str(store.path)])
    assert result.exit_code == 0
    assert result.output.strip() == f"No ping-pong loops in {store.path}."


def test_diff_of_runs_on_the_same_path_exits_0_and_marks_reworded_answers(runs: Store) -> None:
    a, b = trace_ids(runs)[:2]
    result = CliRunner().invoke(main, ["diff", "--store", str(runs.path), a, b])
    assert result.exit_code == 0, result.output
    assert "Same path (4 turns)." in result.output
    last = next(line for line in result.output.splitlines() if line.startswith("   4"))
    assert "≈" in last and "Refunds" in last
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_diff_shows_where_the_paths_part_side_by_side_in_80_columns(runs: Store) -> None:
    a, _, c = trace_ids(runs)[:3]
    result = CliRunner().invoke(main, ["diff", "--store", str(runs.path), a, c])
    assert result.exit_code == 1, result.output
    out = result.output.splitlines()
    assert all(len(line) <= 80 for line in out), "\n".join(line for line in out if len(line) > 80)
    turn2 = out.index(next(line for line in out if line.startswith("   2")))
    assert "≠" in out[turn2]
    assert out[turn2 + 1].split() == ["⚙", "lookup_invoice", "⚙", "lookup_invoice"]
    assert "A-1" in out[turn2 + 2] and "B-777" in out[turn2 + 2]  # arguments wrap to fit
    assert out[turn2 + 4].endswith("…")  # and are cut after three lines
    assert "The paths part at turn 2 (tool calls):" in result.output

    as_json = CliRunner().invoke(
        main, ["diff", "--store", str(runs.path), "--format", "json", a, c]
    )
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["same_path"] is False
    assert (
        report["first_divergence"]["turn"] == 2
        and report["first_divergence"]["aspect"] == "tool calls"
    )
    assert [t["differences"] for t in report["turns"]] == [
        [],
        ["tool calls"],
        ["handoff"],
        ["agent"],
    ]
    assert report["turns"][1]["left"]["tool_calls"] == [
        ["lookup_invoice", '{"invoice": "A-1", "verbose": false}']
    ]
    assert report["left"]["trace_ids"] == [a]


def test_diff_arguments_compare_as_json_not_as_text(store: Store) -> None:
    maker = SpanMaker(store)
    for args in ('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}'):
        with maker.workflow(), maker.agent("Billing"):
            maker.chat()
            maker.tool("lookup", arguments=args)
            maker.chat(final=True)
    maker.close()
    a, b = trace_ids(store)
    assert CliRunner().invoke(main, ["diff", "--store", str(store.path), a, b]).exit_code == 0


def test_diff_of_runs_of_different_lengths(runs: Store) -> None:
    a = trace_ids(runs)[0]
    result = CliRunner().invoke(main, ["diff", "--store", str(runs.path), a, "loopy"])
    assert result.exit_code == 1
    assert "(run ended)" not in result.output.splitlines()[-3]
    assert "The paths part at turn 2" in result.output


def test_diff_of_an_unknown_run_is_a_usage_error(runs: Store) -> None:
    result = CliRunner().invoke(main, ["diff", "--store", str(runs.path), "a", "nope"])
    assert result.exit_code == 2
    assert f"no conversation or trace 'nope' in {runs.path}" in result.output
