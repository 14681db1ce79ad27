"""Per fixture: how many of the run's handoffs, agent turns and loops baton reconstructs
(``python tests/producers/measure.py``). The truth is the recording's: the model server's
log for turns, the framework's own account for handoffs. Also how many tool calls carry
the model's call id, and how many handoffs say why (``handoffs.reason``)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_store import FIXTURES, load, truth

from tracer.loops import Handoff, find_loops


def main() -> None:
    print(
        f"{'fixture':32} {'handoffs':>9} {'agent turns':>12} {'loops':>6} {'agent tools':>12}"
        f" {'call ids':>9} {'reasons':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(FIXTURES.glob("*.truth.json")):
            name = path.name.removesuffix(".truth.json")
            store, known = load(name, Path(tmp)), truth(name)
            server = known["server"]
            turns = store.query("SELECT agent_name FROM turns ORDER BY started_at, span_id").rows
            right_turns = sum(
                1 for (got,), entry in zip(turns, server, strict=False) if got == entry["agent"]
            )
            got = store.query('SELECT from_agent, to_agent FROM handoffs ORDER BY "at", span_id')
            want = [tuple(pair) for pair in known["framework"]["handoffs"]]
            right_handoffs = sum(1 for a, b in zip(got.rows, want, strict=False) if tuple(a) == b)
            chain, broken = [], False
            for entry in server:
                if entry["handoff"]:
                    chain.append(
                        Handoff(
                            entry["agent"], entry["handoff"], len(chain) + 1, broken_before=broken
                        )
                    )
                    broken = False
                else:
                    broken = True
            loops = find_loops(chain)
            found = store.query("SELECT agents, handoffs FROM loops").rows
            right_loops = sum(
                1
                for loop in loops
                if [list(loop.agents), loop.handoffs] in [list(r) for r in found]
            )
            tools = [e for e in server if e["agent_tool"]]
            agent_tools = store.query("SELECT count(*) FROM tool_calls WHERE is_agent").rows[0][0]
            # The model's call ids of its non-transfer tool calls, as the server gave them.
            ids = {c["id"] for e in server if not e["handoff"] for c in e["tool_calls"]}
            stored_ids = {r[0] for r in store.query("SELECT call_id FROM tool_calls").rows}
            reasons = store.query("SELECT count(reason) FROM handoffs").rows[0][0]
            print(
                f"{name:32} {right_handoffs:>4}/{len(want):<4} {right_turns:>6}/{len(server):<5}"
                f" {right_loops:>2}/{len(loops):<3} {min(agent_tools, len(tools)):>6}/{len(tools):<5}"
                f" {len(ids & stored_ids):>4}/{len(ids):<4} {reasons:>3}/{len(want):<4}"
            )


if __name__ == "__main__":
    main()
