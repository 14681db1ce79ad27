"""``baton sql``, ``traces`` and ``store`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from spanmaker import SpanMaker, ping_pong_run

from tracer.store import Store
from tracer.store.schema import SCHEMA_VERSION
from tui.cli import main


@pytest.fixture
def recorded(store: Store) -> Store:
    maker = SpanMaker(store)
    ping_pong_run(
        maker, [("Triage", "Billing"), ("Billing", "Triage"), ("Triage", "Billing")], "loopy"
    )
    ping_pong_run(maker, [("Triage", "Refunds")], "calm")
    maker.close()
    return store


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120
    )


def test_sql_prints_a_table_csv_and_json(recorded: Store) -> None:
    query = (
        "SELECT from_agent, to_agent, count(*) AS n FROM handoffs GROUP BY ALL ORDER BY n DESC, 1"
    )
    runner = CliRunner()
    table = runner.invoke(main, ["sql", "--store", str(recorded.path), query])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["from_agent", "to_agent", "n"]
    assert lines[2].split() == ["Triage", "Billing", "2"]
    assert lines[-1] == "(3 rows)"

    csv_out = runner.invoke(main, ["sql", "--store", str(recorded.path), "--format", "csv", query])
    assert csv_out.output.splitlines() == [
        "from_agent,to_agent,n",
        "Triage,Billing,2",
        "Billing,Triage,1",
        "Triage,Refunds,1",
    ]

    json_out = runner.invoke(
        main,
        [
            "sql",
            "--store",
            str(recorded.path),
            "--format",
            "json",
            "SELECT conversation_id, agents, has_loop, started_at FROM conversations ORDER BY 1",
        ],
    )
    parsed = json.loads(json_out.output)
    assert [(r["conversation_id"], r["agents"], r["has_loop"]) for r in parsed] == [
        ("calm", ["Triage", "Refunds"], False),
        ("loopy", ["Triage", "Billing"], True),
    ]
    assert parsed[0]["started_at"].startswith("20")


def test_a_bad_query_prints_duckdbs_message_and_exits_non_zero(recorded: Store) -> None:
    result = run("sql", "--store", str(recorded.path), "SELECT nonsense FROM handoffs")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert 'Referenced column "nonsense" not found' in result.stderr


def test_sql_is_read_only(recorded: Store) -> None:
    result = run("sql", "--store", str(recorded.path), "DELETE FROM spans")
    assert result.returncode == 1
    assert "only reads the store, so DELETE statements are refused" in result.stderr
    assert recorded.query("SELECT count(*) > 0 FROM spans").rows == [(True,)]


def test_traces_lists_recent_conversations(recorded: Store) -> None:
    result = CliRunner().invoke(main, ["traces", "--store", str(recorded.path)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert "calm" in lines[0] and "Triage → Refunds" in lines[0]  # newest first
    assert "loopy" in lines[1] and "loop" in lines[1] and "3 handoffs" in lines[1]


def test_traces_on_an_empty_store_says_how_to_start(store: Store) -> None:
    with store.write_connection():
        pass  # created, with nothing recorded (a store that does not exist is an error)
    result = CliRunner().invoke(main, ["traces", "--store", str(store.path)])
    assert result.exit_code == 0
    assert "No conversations" in result.output


def test_store_path_follows_flag_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(
        main, ["store", "path", "--store", str(tmp_path / "a.duckdb")]
    ).output.strip() == str(tmp_path / "a.duckdb")
    monkeypatch.setenv("BATON_STORE", str(tmp_path / "env.duckdb"))
    assert runner.invoke(main, ["store", "path"]).output.strip() == str(tmp_path / "env.duckdb")
    monkeypatch.delenv("BATON_STORE")
    assert runner.invoke(main, ["store", "path"]).output.strip() == str(
        tmp_path / "xdg-data" / "baton" / "baton.duckdb"
    )


def test_store_status_shows_location_size_version_and_rows(recorded: Store) -> None:
    result = CliRunner().invoke(main, ["store", "status", "--store", str(recorded.path)])
    assert result.exit_code == 0, result.output
    fields = dict(
        line.split(None, 1) if not line.startswith("schema") else ("schema", line.split()[-1])
        for line in result.output.splitlines()
    )
    assert fields["store"] == str(recorded.path)
    assert fields["schema"] == str(SCHEMA_VERSION)
    assert fields["handoffs"] == "4"
    assert fields["conversations"] == "2"
    assert fields["loops"] == "1"
    assert fields["size"].endswith("iB")


def test_help_explains_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("sql", "traces", "store"):
        assert command in result.stdout
