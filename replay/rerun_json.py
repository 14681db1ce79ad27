"""A re-run report (baton's runner's or an Agents SDK run's) as plain JSON values, for
``baton replay --format json``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from replay.rerun import RerunReport


def rerun_report_json(report: RerunReport) -> dict[str, Any]:
    """Whether the re-run follows, where it first diverges, and every turn of both paths."""
    return {
        "trace_id": report.trace_id,
        "rerun_trace_id": report.replayed.trace_ids[0] if report.replayed.trace_ids else None,
        "follows": report.follows,
        "live_from": report.live_from,
        "stopped": report.stopped,
        "first_divergence": asdict(report.divergence) if report.divergence else None,
        "turns": [
            {
                "turn": t.turn,
                "expected": asdict(t.expected) if t.expected else None,
                "got": asdict(t.got) if t.got else None,
                "differences": list(t.differences),
                "live": t.live,
            }
            for t in report.turns
        ],
    }
