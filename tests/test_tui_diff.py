"""A diff in the TUI (issue #15): m marks a conversation in the list, D on another opens
the two side by side, turn by turn, with where their paths part, as ``baton diff`` says."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from textual.pilot import Pilot
from tui_helpers import make_app, shown_text, wait_for

from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.app import BatonApp
from tui.cli import main
from tui.screens.conversations import ConversationsScreen
from tui.screens.diff import DiffScreen
from tui.widgets.conversation_table import ConversationTable

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


async def to_row(pilot: Pilot[None], app: BatonApp, conversation_id: str) -> ConversationTable:
    table = app.screen.query_one(ConversationTable)
    await wait_for(pilot, lambda: conversation_id in table.ids, "the list")
    table.move_cursor(row=table.ids.index(conversation_id))
    await pilot.pause()
    return table


def cli_verdict(store: Store, left: str, right: str) -> list[str]:
    """What ``baton diff`` prints after its table: the verdict and the two sides."""
    result = CliRunner().invoke(main, ["diff", "--store", str(store.path), left, right])
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("The paths", "Same path")))
    return lines[start:]


@pytest.mark.parametrize(
    ("left", "right"), [("support-triage", "hybrid-dispute"), ("ping-pong", "tool-error")]
)
async def test_m_then_d_compares_two_runs_as_baton_diff_does(
    demo_store: Store, left: str, right: str
) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=(140, 50)) as pilot:
        table = await to_row(pilot, app, left)
        await pilot.press("m")
        assert table.marked == left
        assert table.get_row_at(table.ids.index(left))[0].plain.startswith("◆")
        await to_row(pilot, app, right)
        await pilot.press("D")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await wait_for(pilot, lambda: screen.result is not None, "the diff")
        assert screen.result is not None
        shown = shown_text(screen.query_one("#diff"))
        verdict = cli_verdict(demo_store, left, right)
        # The same verdict; baton diff cuts its lines at 80 columns (…), the TUI does not.
        for tui_line, cli_line in zip(shown.splitlines(), verdict, strict=False):
            assert " ".join(tui_line.split()).startswith(" ".join(cli_line.split()).rstrip("…"))
        for row in screen.result.rows:
            for side in (row.left, row.right):
                if side is not None:
                    assert (side.agent or "?") in shown
        assert shown.count("≠") == sum(1 for row in screen.result.rows if row.differences)
        await pilot.press("escape")
        assert isinstance(app.screen, ConversationsScreen)


async def test_d_without_a_mark_says_how(demo_store: Store) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await to_row(pilot, app, "ping-pong")
        await pilot.press("m", "m")  # m again unmarks
        assert table.marked is None
        await pilot.press("D")
        assert isinstance(app.screen, ConversationsScreen)
        assert any("Mark a conversation with m" in str(n.message) for n in app._notifications)
