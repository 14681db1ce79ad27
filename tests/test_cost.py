"""Cost (issue #15): every model call priced in dollars from its model and token counts by
genai-prices, at the price of the day it was made; turns, agents and conversations add
up; a model the table does not know is said to be unpriced, never guessed. Shown in the
replay header, the span details and the list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from textual.widgets import Static
from tui_helpers import make_app, shown_text, wait_for
from tui_sample import LOOPING, MODEL

from replay import load_conversation
from replay.cost import agent_costs, all_calls, call_cost, conversation_cost, conversation_costs
from replay.model import model_calls
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.humanize import dollars
from tui.screens.replay import ReplayScreen
from tui.widgets.conversation_table import ConversationTable
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")


def library_price(model: str, given: int, produced: int, at: dt.datetime) -> Decimal:
    """genai-prices' own answer for one call (the truth the store's figures must match)."""
    return Decimal(
        calc_price(
            Usage(input_tokens=given, output_tokens=produced),
            model,
            genai_request_timestamp=dt.datetime.combine(at.date(), dt.time(12), tzinfo=dt.UTC),
        ).total_price
    )


def test_a_conversation_costs_the_sum_of_its_model_calls(sample_store: Store) -> None:
    rows = sample_store.query(
        "SELECT model, input_tokens, output_tokens, start_time, agent_name FROM spans "
        "WHERE op = 'chat' AND conversation_id = ?",
        [LOOPING],
    ).rows
    conversation = load_conversation(sample_store, LOOPING)
    assert {row[0] for row in rows} == {MODEL}
    assert len(rows) == model_calls(conversation.steps) > len(conversation.steps)
    expected = sum((library_price(m, i, o, t) for m, i, o, t, _ in rows), Decimal(0))
    cost = conversation_cost(conversation)
    assert (cost.usd, cost.priced, cost.unpriced, cost.known) == (expected, len(rows), 0, True)
    by_agent = agent_costs(conversation)
    for agent in {row[4] for row in rows}:
        mine = [row for row in rows if row[4] == agent]
        assert by_agent[agent].usd == sum(
            (library_price(m, i, o, t) for m, i, o, t, _ in mine), Decimal(0)
        )
        assert by_agent[agent].priced == len(mine)
    assert len(list(all_calls(conversation.steps))) == len(rows)  # nested ones too
    assert conversation_costs(sample_store, [LOOPING]) == {LOOPING: cost}


def test_a_price_that_changes_with_context_length_is_asked_per_call() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for given in (1_000, 150_000, 300_000):
        assert call_cost("gemini-2.5-pro", given, 2_000, at).usd == library_price(
            "gemini-2.5-pro", given, 2_000, at
        )


def test_an_unknown_model_is_unpriced_never_guessed() -> None:
    cost = call_cost("scripted", 1_000, 100)
    assert (cost.usd, cost.priced, cost.unpriced, cost.unknown_models) == (
        Decimal(0),
        0,
        1,
        ("scripted",),
    )
    assert not cost.known
    assert call_cost(MODEL, None, None).unpriced == 1  # no tokens recorded: no price


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


async def test_the_header_details_and_list_show_the_cost(sample_store: Store) -> None:
    conversation = load_conversation(sample_store, LOOPING)
    total = dollars(conversation_cost(conversation).usd)
    first = conversation.steps[0]
    app = make_app(sample_store)
    async with app.run_test(size=(130, 36)) as pilot:
        table = app.screen.query_one(ConversationTable)
        await wait_for(pilot, lambda: LOOPING in table.ids, "the list")
        row = table.ids.index(LOOPING)
        cost_column = [c.key.value for c in table.columns.values()].index("cost")
        # Priced after the rows are shown: the cell fills in.
        await wait_for(
            pilot,
            lambda: table.get_row_at(row)[cost_column].plain == total,
            lambda: f"the Cost cell ({table.get_row_at(row)[cost_column].plain!r}, not {total})",
        )
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.cost is not None,
            "the conversation priced",
        )
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert f"  {total}  " in shown_text(screen.query_one("#replay-title", Static))
        details = shown_text(screen.query_one(SpanDetails))
        step_price = library_price(
            MODEL, first.input_tokens or 0, first.output_tokens or 0, first.started_at
        )
        assert f"cost       {dollars(step_price)}" in details
        assert f"· all of {first.agent}" in details


async def test_unknown_models_say_so_in_the_header(demo_store: Store) -> None:
    app = make_app(demo_store, "support-triage")
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.cost is not None,
            "the conversation priced",
        )
        title = shown_text(app.screen.query_one("#replay-title", Static))
        assert "cost unknown (scripted not in the price table)" in title
