"""The README, run as a user would: its two commands, the demo, every example offline,
and every cookbook query on the demo store. The documentation cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.store import Store
from tracer.store.views import VIEWS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "common.py")


def fenced(language: str, text: str = README) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"```{language}\n(.*?)```", text, re.DOTALL)]


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    following = README.find("\n## ", start + 1)
    return README[start : following if following != -1 else None]


def run(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd
    )


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment with no API key and a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BATON_"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["HOME"] = str(tmp_path / "home")
    return env


def test_the_readme_opens_with_the_demo_and_the_test_command() -> None:
    first, second = fenced("sh")[:2]
    assert first.endswith("baton demo")
    assert "pip install -e ." in first
    assert second.endswith("python -m pytest -q")
    assert second in (ROOT / ".ci" / "run").read_text(), (
        ".ci/run must run the README's test command"
    )


def test_every_view_is_documented_with_its_sql() -> None:
    for name, sql in VIEWS:
        assert sql.strip() in README, f"README.md lacks the current SQL of the {name} view"


def test_the_demo_loads_the_samples_into_its_own_store(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    user_store = tmp_path / "mine.duckdb"
    user_env["BATON_STORE"] = str(user_store)
    result = run("-m", "tui", "demo", "--no-tui", env=user_env)
    assert result.returncode == 0, result.stderr
    assert "9 conversations" in result.stdout
    assert "support-triage" in result.stdout and "⟲ loop" in result.stdout
    assert not user_store.exists(), "the demo must not touch the user's own store"
    demo_store = Path(user_env["XDG_DATA_HOME"]) / "baton" / "demo.duckdb"
    assert demo_store.exists()
    again = run("-m", "tui", "demo", "--no-tui", env=user_env)  # fresh each time, not doubled
    assert "9 conversations" in again.stdout
    assert Store(demo_store).query("SELECT count(*) FROM conversations").rows == [(9,)]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "tui", "demo", "--no-tui", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return Store(path)


@pytest.mark.parametrize("query", fenced("sql", section("SQL cookbook")))
def test_cookbook_queries_answer_on_the_demo_store(demo_store: Store, query: str) -> None:
    result = demo_store.query(query)
    assert result.rows, f"no rows from: {query}"


def test_the_cookbook_has_the_promised_recipes() -> None:
    cookbook = section("SQL cookbook")
    for recipe in ("handoff matrix", "ping-ponged", "slowest tools", "tokens per agent"):
        assert recipe in cookbook


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_runs_offline_and_says_how_to_open_it(
    example: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "example.duckdb"
    result = run(str(example), "--store", str(store), env=user_env)
    assert result.returncode == 0, result.stderr
    assert "scripted model" in result.stdout
    assert f"baton tui --store {store}" in result.stdout
    conversations = (
        Store(store).query("SELECT n_turns, n_handoffs + n_tool_calls FROM conversations").rows
    )
    assert len(conversations) == 1 and conversations[0][0] > 1 and conversations[0][1] > 0
    assert f"python examples/{example.name}" in README, "every example is listed in the README"


def test_examples_run_live_on_the_model_the_readme_says(user_env: dict[str, str]) -> None:
    """Configuration: OPENAI_DEFAULT_MODEL names the model of agents without one; the
    examples' agents, run live (here: pointed at a local server), use it too."""
    assert "`OPENAI_DEFAULT_MODEL`" in section("Configuration")
    env = {
        **user_env,
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_DEFAULT_MODEL": "llama3.1",
    }
    script = "from common import live, model; print(live(), model([]))"
    result = run("-c", script, env=env, cwd=ROOT / "examples")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "llama3.1"]


def test_the_layout_section_names_every_part_of_tracer_and_the_command_line() -> None:
    layout = section("How the code is laid out")
    parts = [p.parent for p in (ROOT / "tracer").glob("*/__init__.py")] + [ROOT / "tui" / "cli"]
    assert len(parts) == 5
    for part in parts:
        assert f"| `{part.relative_to(ROOT).as_posix()}/` |" in layout
