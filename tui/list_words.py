"""The filter words of the conversation list beyond ``agent:`` and ``is:``: time
(``since:1h``, ``until:2026-03-14``, ``date:2026-03-01..2026-03-14``), ``model:``,
``is:ok``, ``took:>10s``, ``tokens:>2k`` and ``says:"double charge"`` (message text).

Pure functions: ``read_word`` takes one word and fills a ``ConversationFilter``, or says
what is wrong with it. Dates are the local time zone's days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace

from replay.list_filter import ConversationFilter

_AGO = re.compile(r"^(\d+(?:\.\d+)?)(m|min|h|d|w)$")
_AGO_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)(k|m)?$", re.IGNORECASE)
PREFIXES = ("since:", "until:", "date:", "model:", "took:", "tokens:", "says:")
HELP = {
    "since:": "since: takes an age (30m, 2h, 3d, 1w) or a date (2026-03-14)",
    "until:": "until: takes a date (2026-03-14)",
    "date:": "date: takes a day (2026-03-14) or a range (2026-03-01..2026-03-14)",
    "took:": "took: takes >10s, <2m or 10s..1m",
    "tokens:": "tokens: takes >1000, <2k or 1k..5k",
}


def read_word(
    word: str, current: ConversationFilter, now: dt.datetime
) -> tuple[ConversationFilter, str | None]:
    """``current`` with ``word`` applied, and what is wrong with the word (or None)."""
    prefix = next(p for p in PREFIXES if word.lower().startswith(p))
    value = word[len(prefix) :]
    try:
        if prefix == "since:":
            return replace(current, started_from=_moment(value, now)), None
        if prefix == "until:":
            return replace(current, started_before=_day(value) + dt.timedelta(days=1)), None
        if prefix == "date:":
            first, _, last = value.partition("..")
            start = _day(first)
            end = _day(last) if last else start
            return replace(
                current, started_from=start, started_before=end + dt.timedelta(days=1)
            ), None
        if prefix == "model:":
            return replace(current, model=value or None), None
        if prefix == "says:":
            return replace(current, says=value or None), None
        if prefix == "took:":
            low, high = _bounds(value, _duration)
            return replace(current, min_duration_ms=low, max_duration_ms=high), None
        low_tokens, high_tokens = _bounds(value, _count)
        return replace(
            current,
            min_tokens=None if low_tokens is None else int(low_tokens),
            max_tokens=None if high_tokens is None else int(high_tokens),
        ), None
    except ValueError:
        return current, f"{word!r}: {HELP[prefix]}"


def is_filter_word(word: str) -> bool:
    return word.lower().startswith(PREFIXES)


def _moment(value: str, now: dt.datetime) -> dt.datetime:
    ago = _AGO.match(value.lower())
    if ago:
        return now - dt.timedelta(seconds=float(ago.group(1)) * _AGO_UNITS[ago.group(2)])
    return _day(value)


def _day(value: str) -> dt.datetime:
    """The start of a local day, ``2026-03-14``."""
    day = dt.date.fromisoformat(value)
    return dt.datetime.combine(day, dt.time()).astimezone()


def _bounds(value: str, parse: Callable[[str], float]) -> tuple[float | None, float | None]:
    """``>N``, ``>=N``, ``<N``, ``<=N`` or ``N..M``."""
    if value.startswith(">="):
        return parse(value[2:]), None
    if value.startswith(">"):
        return parse(value[1:]), None
    if value.startswith("<="):
        return None, parse(value[2:])
    if value.startswith("<"):
        return None, parse(value[1:])
    low, dots, high = value.partition("..")
    if dots:
        return parse(low), parse(high)
    raise ValueError(value)


def _duration(value: str) -> float:
    match = _DURATION.match(value.lower())
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _count(value: str) -> float:
    match = _COUNT.match(value)
    if not match:
        raise ValueError(value)
    scale = {"k": 1000, "m": 1_000_000}.get((match.group(2) or "").lower(), 1)
    return float(match.group(1)) * scale
