"""``diff_runs``: two recorded runs side by side, turn by turn, and where their paths part."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from replay.errors import StoreLike
from replay.load import load_conversation
from replay.model import Conversation
from replay.paths import Divergence, PathTurn, first_divergence, paired, run_path


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One turn of both runs; a side is None past the end of its run."""

    turn: int
    left: PathTurn | None
    right: PathTurn | None
    differences: tuple[str, ...]  # path aspects that differ ("length" when one run ended)
    output_differs: bool  # the answers' texts differ (shown, but not part of the path)


@dataclass(frozen=True, slots=True)
class RunDiff:
    """Two runs compared turn by turn, and where their paths first part (None: they agree)."""

    left: Conversation
    right: Conversation
    rows: tuple[DiffRow, ...]
    divergence: Divergence | None

    @property
    def same_path(self) -> bool:
        return self.divergence is None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--format json``."""
        return {
            "same_path": self.same_path,
            "first_divergence": asdict(self.divergence) if self.divergence else None,
            "left": _side(self.left),
            "right": _side(self.right),
            "turns": [
                {
                    "turn": row.turn,
                    "left": asdict(row.left) if row.left else None,
                    "right": asdict(row.right) if row.right else None,
                    "differences": list(row.differences),
                    "output_differs": row.output_differs,
                }
                for row in self.rows
            ],
        }


def diff_runs(store: StoreLike, left_id: str, right_id: str) -> RunDiff:
    """Compare two runs (trace ids, or conversation ids for all their runs in order)."""
    return compare(load_conversation(store, left_id), load_conversation(store, right_id))


def compare(left: Conversation, right: Conversation) -> RunDiff:
    """``left`` and ``right`` compared turn by turn."""
    left_path, right_path = run_path(left), run_path(right)
    rows = tuple(
        DiffRow(turn, a, b, found, a is None or b is None or a.output != b.output)
        for turn, a, b, found in paired(left_path, right_path)
    )
    return RunDiff(left, right, rows, first_divergence(left_path, right_path))


def _side(conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": conversation.conversation_id,
        "trace_ids": list(conversation.trace_ids),
        "turns": sum(1 for _ in run_path(conversation)),
    }
