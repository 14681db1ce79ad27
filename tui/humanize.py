"""Short human forms of times, durations and sizes for the terminal UI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replay.cost import Cost


def local_time(moment: dt.datetime | None, *, seconds: bool = False) -> str:
    """``2026-01-02 05:26`` in the local time zone (times are stored in UTC)."""
    if moment is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return moment.astimezone().strftime(fmt)


def clock_time(moment: dt.datetime | None) -> str:
    """``05:26:31.995`` in the local time zone."""
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]


def duration(ms: float | None) -> str:
    """``840ms``, ``3.2s``, ``4m05s``, ``2h03m``."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def size(text: str) -> str:
    """How long a text is: ``42 lines · 3.1 KB``."""
    lines = text.count("\n") + 1
    chars = len(text.encode("utf-8"))
    amount = f"{chars} B" if chars < 1024 else f"{chars / 1024:.1f} KB"
    return f"{lines} lines · {amount}" if lines > 1 else amount


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def usd(cost: Cost) -> str:
    """``$0.0123``; ``$0.0123 + 3 turns unpriced``; ``cost unknown`` (never a guess)."""
    if cost.priced == 0:
        return "cost unknown" if cost.unpriced else "$0"
    amount = dollars(cost.usd)
    if cost.unpriced:
        return f"{amount} + {plural(cost.unpriced, 'turn')} unpriced"
    return amount


def dollars(amount: Decimal) -> str:
    """``$12.34``, ``$0.012``, ``$0.00042``: cents for dollars, two significant digits
    below a cent."""
    if amount >= 1:
        return f"${amount:,.2f}"
    if amount >= Decimal("0.01"):
        return f"${amount:.3f}"
    if amount == 0:
        return "$0"
    return f"${amount.quantize(Decimal(10) ** (amount.adjusted() - 1)):f}"


def rate(per_second: float, noun: str) -> str:
    """``1 turn/s``, ``0.5 turns/s``, ``4 turns/s``."""
    return f"{per_second:g} {noun}{'' if per_second == 1 else 's'}/s"


def error_text(kind: str, message: str | None) -> str:
    """``HandoffLoopError: agents handed …``. Producers often start the message with the
    type already (Python's ``f"{type}: {exc}"``); it is said once."""
    detail = (message or "").strip()
    if detail.startswith(f"{kind}:"):
        detail = detail[len(kind) + 1 :].strip()
    return f"{kind}: {detail}" if detail and detail != kind else kind
