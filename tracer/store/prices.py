"""Model prices in US dollars per token, from ``genai-prices`` (Pydantic's maintained
table of LLM API prices, shipped with the package: nothing is fetched at run time), at
the price in force on the day of the call.

The store keeps the rates of each (model, day) its model calls use in ``_baton_prices``,
filled at ingest, so ``turns.cost_usd`` and ``conversations.cost_usd`` are plain SQL. A
model the table does not know, or whose price is not linear in the tokens (tiered by
context length), gets no rates: its calls have no price, never a guessed one.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import duckdb

#: The rates table, and how the views price a model call with it.
CREATE_TABLE = (
    "CREATE TABLE _baton_prices (model VARCHAR, day DATE, "
    "per_input DECIMAL(38, 18), per_output DECIMAL(38, 18), tiered BOOLEAN)"
)

Rates = tuple[Decimal, Decimal]


def price(model: str, given: int, produced: int, day: dt.date | None) -> Decimal | None:
    """One call's price; None for a model the table does not know."""
    rates = linear_rates(model, day)
    if rates is None:
        return None
    if isinstance(rates, str):  # tiered: the table prices each call
        return _exact(model, given, produced, day)
    per_input, per_output = rates
    return given * per_input + produced * per_output


@functools.lru_cache(maxsize=1024)
def linear_rates(model: str, day: dt.date | None) -> Rates | str | None:
    """The model's price per input and output token that day, when its price is linear
    in the tokens (the table's usual case); ``"tiered"`` when it is not (a price that
    changes past some context length); None for a model the table does not know.
    Pricing a 10,000-turn conversation call by call through the table takes seconds."""
    thousand_in = _exact(model, 1000, 0, day)
    if thousand_in is None:
        return None
    thousand_out = _exact(model, 0, 1000, day) or Decimal(0)
    million_in = _exact(model, 1_000_000, 0, day) or Decimal(0)
    mixed = _exact(model, 1_000_000, 1000, day) or Decimal(0)
    if million_in != 1000 * thousand_in or mixed - million_in != thousand_out:
        return "tiered"
    return thousand_in / 1000, thousand_out / 1000


def store_rates(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Add to ``_baton_prices`` the (model, UTC day) pairs of ``source``'s model calls
    (a relation with ``op``, ``model`` and ``start_time``) it does not hold yet."""
    missing = con.execute(
        f"SELECT DISTINCT s.model, CAST(timezone('UTC', s.start_time) AS DATE) AS day "
        f"FROM {source} AS s WHERE s.op = 'chat' AND s.model IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM _baton_prices AS p "
        "    WHERE p.model = s.model AND p.day = CAST(timezone('UTC', s.start_time) AS DATE))"
    ).fetchall()
    for model, day in missing:
        rates = linear_rates(model, day)
        per_input, per_output = rates if isinstance(rates, tuple) else (None, None)
        con.execute(
            "INSERT INTO _baton_prices VALUES (?, ?, ?, ?, ?)",
            [model, day, per_input, per_output, rates == "tiered"],
        )


def _exact(model: str, given: int, produced: int, day: dt.date | None) -> Decimal | None:
    from genai_prices import Usage, calc_price  # loads its price table: only when asked

    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) if day is not None else None
    try:
        result = calc_price(
            Usage(input_tokens=given, output_tokens=produced),
            model,
            genai_request_timestamp=when,
        )
    except LookupError:
        return None
    return Decimal(result.total_price)
