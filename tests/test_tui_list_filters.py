"""The conversation list's filters (issue #15): time, model, outcome, duration, tokens,
message text, agent by case-insensitive prefix; unreadable words say why; ids cut in the
middle stay told apart; every sortable column has its arrow. Checked against the store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_helpers import make_app, shown_text, wait_for

from replay import list_conversations
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.conversations import ConversationsScreen
from tui.source import ListQuery
from tui.widgets.conversation_table import ConversationTable, middle_cut

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


def ids_where(store: Store, sql: str, params: list[object] | None = None) -> set[str]:
    return {row[0] for row in store.query(sql, params or []).rows}


def every(store: Store) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT conversation_id, agents, started_at, duration_ms, has_error FROM conversations"
    ).rows


async def filtered(pilot: Pilot[None], app: BatonApp, typed: str) -> set[str]:
    """Type ``typed`` in the filter box, press Enter and read the rows listed."""
    screen = app.screen
    assert isinstance(screen, ConversationsScreen)
    before = screen._generation
    box = screen.query_one("#filter", Input)
    box.value = typed
    box.focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen._generation > before, f"the list filtered by {typed}")
    # the generation counts requests, not answers: wait for the page read to be handed over
    # (a worker's call_from_thread returns once the UI thread ran it)
    await wait_for(
        pilot,
        lambda: all(worker.is_finished for worker in app.workers if worker.group == "list"),
        f"the page filtered by {typed}",
    )
    await wait_for(pilot, lambda: screen.total is not None and not screen._loading_more)
    return set(screen.query_one(ConversationTable).ids)


async def test_each_filter_lists_what_the_store_says(demo_store: Store) -> None:
    rows = every(demo_store)
    chat_tokens = {
        cid: tokens
        for cid, tokens in demo_store.query(
            "SELECT conversation_id, sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) "
            "FROM spans WHERE op = 'chat' GROUP BY 1"
        ).rows
    }
    mentions = {
        cid
        for cid, attributes in demo_store.query(
            "SELECT conversation_id, CAST(attributes AS VARCHAR) FROM spans WHERE op = 'chat'"
        ).rows
        if "refund" in json.dumps(json.loads(attributes)).lower()
        or "refund" in (attributes or "").lower()
    }
    cases = {
        "agent:billing": {
            cid for cid, agents, *_ in rows if any(a.lower().startswith("billing") for a in agents)
        },
        "agent:TECH": {
            cid for cid, agents, *_ in rows if any(a.lower().startswith("tech") for a in agents)
        },
        "is:ok": {cid for cid, *_, failed in rows if not failed},
        "took:>8s": {cid for cid, _, _, ms, _ in rows if ms >= 8000},
        "took:<5s": {cid for cid, _, _, ms, _ in rows if ms <= 5000},
        "tokens:>5k": {cid for cid, tokens in chat_tokens.items() if tokens >= 5000},
        "model:scripted": ids_where(
            demo_store, "SELECT DISTINCT conversation_id FROM spans WHERE model = 'scripted'"
        ),
        "says:refund": mentions,
        "date:2026-11-02": {cid for cid, *_ in rows},
        "until:2026-11-01": set(),
        "date:2026-11-02 took:>8s is:ok": {
            cid for cid, _, _, ms, failed in rows if ms >= 8000 and not failed
        },
    }
    app = make_app(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: app.screen.query_one(ConversationTable).row_count == len(rows)
        )
        for typed, expected in cases.items():
            assert await filtered(pilot, app, typed) == expected, typed
            assert expected or "No conversation matches the filter." in shown_text(
                app.screen.query_one("#list-status", Static)
            )


def test_since_counts_back_from_now(demo_store: Store) -> None:
    latest = max(started for _, _, started, _, _ in every(demo_store))
    query = ListQuery.parse("since:90m", now=latest + dt.timedelta(minutes=30))
    assert query.filters.started_from == latest - dt.timedelta(minutes=60)
    page = list_conversations(demo_store, filters=query.filters)
    expected = {
        cid
        for cid, _, started, _, _ in every(demo_store)
        if started >= latest - dt.timedelta(minutes=60)
    }
    assert {row.conversation_id for row in page.rows} == expected and len(expected) == 2


async def test_an_unreadable_filter_word_says_why(demo_store: Store) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one(ConversationTable).row_count > 0)
        await filtered(pilot, app, "took:fast")
        status = " ".join(shown_text(app.screen.query_one("#list-status", Static)).split())
        assert "✗ 'took:fast': took: takes >10s, <2m or 10s..1m" in status


def test_ids_cut_in_the_middle_stay_apart() -> None:
    ids = [f"run-2026-03-14-{n:04d}" for n in range(1, 30)]
    shown = [middle_cut(i, 12) for i in ids]
    assert len(set(shown)) == len(ids) and all(len(s) == 12 for s in shown)
    assert middle_cut("short", 12) == "short"
