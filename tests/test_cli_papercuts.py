"""Papercuts a new user found in the command line (issue #15), one test each: read
commands never create a store, unknown ids are errors, aligned and correctly worded
output, JSON without NaN, no test tools among the runtime dependencies, and a hint when an
example's optional framework is missing."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """What ``baton demo`` loads: the committed sample traces."""
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


def baton(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "select 1"],
        ["traces"],
        ["store", "status"],
        ["export", "OUT"],
        ["loops"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_read_commands_on_a_mistyped_store_say_there_is_none(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "typo.duckdb"
    args = [str(tmp_path / "out.jsonl") if a == "OUT" else a for a in command]
    code, out, err = baton(*args, "--store", str(missing))
    assert (code, out) == (1, "")
    assert err == (
        f"Error: there is no store at {missing}; record a run first, or pass --store "
        "(or set BATON_STORE) to the store you recorded into\n"
    )
    assert list(tmp_path.iterdir()) == []  # no store, no export file


@pytest.mark.parametrize("command", ["loops", "export"])
def test_an_unknown_conversation_is_an_error(
    demo_store: Store, tmp_path: Path, command: str
) -> None:
    out_file = tmp_path / "out.jsonl"
    args = [command, "--store", str(demo_store.path), "--conversation", "nope"]
    code, out, err = baton(*args, *([str(out_file)] if command == "export" else []))
    assert (code, out) == (1, "")
    assert err == (
        f"Error: no conversation 'nope' in {demo_store.path}; "
        f"`baton traces --store {demo_store.path}` lists what it holds\n"
    )
    assert not out_file.exists()


def test_export_of_an_unknown_trace_is_an_error(demo_store: Store, tmp_path: Path) -> None:
    out_file = tmp_path / "out.jsonl"
    code, _, err = baton(
        "export", "--store", str(demo_store.path), "--trace", "feedbeef", str(out_file)
    )
    assert code == 1 and err.startswith("Error: no trace 'feedbeef' in ")
    assert not out_file.exists()


def test_a_negative_limit_is_a_usage_error_not_sql(demo_store: Store) -> None:
    code, out, err = baton("traces", "--store", str(demo_store.path), "-n", "-1")
    assert code == 2 and out == ""
    assert "Invalid value for '-n' / '--limit': -1 is not in the range x>=1." in err
    assert "SELECT" not in err and "LIMIT" not in err


def test_traces_columns_line_up_and_counts_are_worded(demo_store: Store) -> None:
    code, out, _ = baton("traces", "--store", str(demo_store.path))
    assert code == 0
    lines = out.splitlines()
    expected = demo_store.query(
        "SELECT conversation_id, n_turns, n_handoffs, n_tool_calls FROM conversations "
        "ORDER BY started_at DESC"
    ).rows
    assert len(lines) == len(expected)
    for word in (" turn", " handoff", " tool call"):
        assert len({line.index(word) for line in lines}) == 1, word
    for line, (cid, turns, handoffs, tools) in zip(lines, expected, strict=True):
        assert f"  {cid}  " in line
        for count, noun in ((turns, "turn"), (handoffs, "handoff"), (tools, "tool call")):
            assert f"{count} {noun}{'' if count == 1 else 's'} " in line
    assert any(" 1 handoff " in line for line in lines)  # hybrid-dispute: singular


def test_sql_json_has_no_nan(demo_store: Store) -> None:
    code, out, _ = baton(
        "sql",
        "--store",
        str(demo_store.path),
        "--format",
        "json",
        "select 'nan'::double as x, ['inf'::double, 2.0] as l, {'a': '-inf'::double} as s",
    )
    assert code == 0

    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    assert json.loads(out, parse_constant=no_constants) == [
        {"x": None, "l": [None, 2.0], "s": {"a": None}}
    ]


def test_pytest_is_not_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {dep.split(">")[0].split("=")[0].strip() for dep in project["dependencies"]}
    assert not runtime & {"pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy"}
    assert any(dep.startswith("pytest") for dep in project["optional-dependencies"]["test"])
    for folder in ("tracer", "replay", "tui"):
        for module in (ROOT / folder).rglob("*.py"):
            source = module.read_text()
            assert "import pytest" not in source and "from pytest" not in source, module


def test_the_agents_sdk_example_without_the_sdk_says_what_to_install(tmp_path: Path) -> None:
    # sys.modules["agents"] = None is how Python itself spells "this module is absent".
    runner = (
        "import runpy, sys; sys.modules['agents'] = None; "
        "sys.path.insert(0, 'examples'); sys.argv = ['examples/agents_sdk.py'];"
        "runpy.run_path('examples/agents_sdk.py', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", runner], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr == (
        "examples/agents_sdk.py needs the OpenAI Agents SDK: pip install -e '.[agents]'\n"
    )
