"""Nothing recorded drives the terminal, and no recorded text is read as markup."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from spanmaker import SpanMaker

from tracer.store import Store

#: Sets the terminal's title, rings the bell, clears the screen, moves the cursor home.
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[H\r\x9b31m"
MARKUP = "[/][bold red]loud[/bold red][link=https://evil.example]x[/link]"
EVIL = f"Evil{ESCAPES}{MARKUP}"
CONVERSATION = f"conv{ESCAPES}[/]"


@pytest.fixture
def hostile(store: Store) -> Store:
    maker = SpanMaker(store)
    with maker.workflow(CONVERSATION):
        with maker.agent(EVIL):
            maker.chat(
                input_messages=[{"role": "user", "parts": [{"type": "text", "content": EVIL}]}],
                output_messages=[
                    {"role": "assistant", "parts": [{"type": "text", "content": EVIL}]}
                ],
                system=EVIL,
            )
            maker.tool(EVIL, arguments=json.dumps({"q": EVIL}), result=EVIL)
            maker.handoff(EVIL)
        with maker.agent(EVIL):
            maker.chat(final=True)
    maker.close()
    return store


def baton(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args, "--store", str(store.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F})


@pytest.mark.parametrize(
    "command",
    [
        ("sql", "select * from spans"),
        ("sql", "--format", "csv", "select * from spans"),
        ("traces",),
        ("loops",),
        ("store", "status"),
    ],
)
def test_text_output_shows_control_characters_escaped(
    hostile: Store, command: tuple[str, ...]
) -> None:
    result = baton(hostile, *command)
    assert result.returncode == 0, result.stderr
    assert raw_controls(result.stdout + result.stderr) == []


def test_the_sql_table_shows_what_was_recorded_escaped(hostile: Store) -> None:
    result = baton(hostile, "sql", "select distinct agent_name from spans where op = 'agent'")
    assert "Evil\\x1b]0;owned\\x07\\x1b[2J\\x1b[H\\x0d\\u009b31m[/][bold red]" in result.stdout


def test_json_output_stays_exact(hostile: Store) -> None:
    result = baton(
        hostile,
        "sql",
        "--format",
        "json",
        "select distinct agent_name from spans where op = 'agent'",
    )
    assert json.loads(result.stdout) == [{"agent_name": EVIL}]


def test_diff_escapes_too(hostile: Store, tmp_path: Path) -> None:
    trace = hostile.query("select distinct trace_id from spans").rows[0][0]
    result = subprocess.run(
        [sys.executable, "-m", "tui", "diff", str(trace), str(trace), "--store", str(hostile.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    assert raw_controls(result.stdout + result.stderr) == []
    assert "Traceback" not in result.stderr


async def test_the_tui_shows_hostile_text_as_text(hostile: Store) -> None:
    from textual.widgets import Static
    from tui_helpers import make_app, shown_text, wait_for

    from tui.screens.replay import ReplayScreen

    app = make_app(hostile, CONVERSATION)
    async with app.run_test(size=(120, 40)) as pilot:

        def drawn() -> bool:
            screen = app.screen
            return isinstance(screen, ReplayScreen) and screen.conversation is not None

        await wait_for(pilot, drawn, "the hostile conversation on screen")
        screen = app.screen
        for _ in range(3):
            await pilot.press("right")
            await pilot.pause()
        recorded = "\n".join(shown_text(widget) for widget in screen.query(Static))
        assert (
            "31m[/][bold" in recorded and "[link=https://evil.example]x" in recorded
        )  # markup shown as the text it is
        drawn = app.export_screenshot()  # what reaches the terminal, after every filter
        assert "\u241b]0;owned" in drawn and "\u241b[2J\u241b[H" in drawn  # ESC drawn as ␛
        assert raw_controls(drawn.replace("\n", "")) == []
        assert app.title is None or raw_controls(str(app.title)) == []
        assert raw_controls(str(app.sub_title)) == []


async def test_the_conversation_list_shows_hostile_ids_as_text(hostile: Store) -> None:
    from tui_helpers import make_app, wait_for

    from tui.screens.conversations import ConversationsScreen
    from tui.screens.replay import ReplayScreen

    app = make_app(hostile)
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ConversationsScreen) and "owned" in app.export_screenshot()
            ),
            "the list on screen",
        )
        drawn = app.export_screenshot()
        assert "conv\u241b]" in drawn and raw_controls(drawn.replace("\n", "")) == []
        await pilot.press("enter")  # opening it by its id (with [/] in it) works
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.conversation is not None,
            "the conversation opened from the list",
        )
