"""baton beside MLflow and Arize Phoenix recording the same OpenAI Agents SDK runs: how long
until every span is queryable in each tool's own store, and how many it kept.

    bash bench/peers/setup.sh      # once: the peers' own venvs, /work/fw/mlflow and /work/fw/phoenix
    python bench/bench_peers.py [--runs 1000] [--rounds 1] [--peers floor,baton,mlflow,phoenix]

Each run is the real ``agents.Runner`` with its real ``OpenAIChatCompletionsModel`` over
HTTP to a scripted OpenAI-compatible server on 127.0.0.1 (``tests/producers/
scripted_model.py``, started here, one per tool): Triage hands off to Billing, which calls
a ``lookup`` tool and answers. Each tool records in its own process, with its own venv's
python (``bench/peers/<tool>_part.py``; the peers are never baton's dependencies), set up
the way its documentation says: baton ``tracer.agents_sdk.install(path)``; MLflow
``mlflow.openai.autolog()`` into a local SQLite tracking store; Phoenix
``phoenix.otel.register(auto_instrument=True)`` exporting to a local ``phoenix serve``.
A part times its runs from the first, calls its tool's flush, then queries its store with
the tool's own API (baton SQL, ``mlflow.search_traces``, Phoenix GraphQL) until every span
is there or the count has not changed for 30 s; "queryable" is when a query first saw the
final count. What the SDK emitted is counted by a TracingProcessor beside the tool's, in
the same process; the spans a tool should hold are one per SDK span plus what the tool
adds by design (a root per trace; MLflow and Phoenix also trace each model call through
their openai-client instrumentation), and the printout says which. A peer whose venv is
missing is skipped, with the command that creates it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "producers"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import scripted_model
import workflow

HERE = Path(__file__).resolve().parent
TOOLS = ("floor", "baton", "mlflow", "phoenix")  # floor: the same runs, nothing recording
SETUP = "bash bench/peers/setup.sh"
LOSS_WORDS = re.compile(r"discard|dropp|lost|queue is full", re.IGNORECASE)
STAMP = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")  # a log line's time, for de-duplicating


def python_of(tool: str, fw: Path) -> Path | None:
    if tool in ("floor", "baton"):
        return Path(sys.executable)
    python = fw / tool / "bin" / "python"
    return python if python.exists() else None


def run_part(tool: str, python: Path, runs: int) -> dict[str, Any]:
    """One tool's part in its own process, against a fresh scripted server and folder."""
    model = scripted_model.ScriptedModel(workflow.script(runs))
    # No API key in the part's environment: no exporter can reach OpenAI's dashboard.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BATON_"))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (
        scripted_model.ModelServer(model) as server,
        tempfile.TemporaryDirectory(prefix=f"peers-{tool}-") as tmp,
    ):
        done = subprocess.run(
            [
                *(str(python), str(HERE / "peers" / f"{tool}_part.py")),
                *("--runs", str(runs), "--model-url", server.base_url, "--workdir", tmp),
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"{tool}'s part failed ({done.returncode}):\n{done.stderr[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # What a tool said about losing data (MLflow warns when its export queue is full).
    said = [
        STAMP.sub("", line.strip()) for line in done.stderr.splitlines() if LOSS_WORDS.search(line)
    ]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # The part's whole process tree (Phoenix's server too, which the part waits for),
    # start-up and imports included.
    result["tree_cpu_seconds"] = (after.ru_utime + after.ru_stime) - (
        before.ru_utime + before.ru_stime
    )
    result["said"] = list(dict.fromkeys(said))[:3]
    # The producer's own truth: every scripted answer was asked for, once, by the SDK.
    if len(model.log) != 3 * runs or model.unused() or result["sdk_traces"] != runs:
        raise SystemExit(f"{tool}: the runs did not go as scripted ({len(model.log)} model calls)")
    return result


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}×" if base else "—"


def median(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def kept(result: dict[str, Any]) -> float:
    return float(result["stored_spans"] / result["expected_spans"])


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    base = results.get("baton")
    keys = ("queryable_seconds", "runs_seconds", "cpu_seconds", "tree_cpu_seconds")
    at: dict[str, float | None] = {k: median(base, k) if base else None for k in keys}
    base_kept = statistics.median(kept(r) for r in base) if base else None
    first = next(iter(results.values()))[0]
    print(
        f"\n{first['runs']} runs each (Triage → handoff → Billing → lookup → answer), "
        f"openai-agents {first['agents_version']}; the SDK emitted "
        f"{first['sdk_spans']:,} spans in {first['sdk_traces']:,} traces: "
        + ", ".join(f"{n} {t}" for t, n in first["sdk_spans_by_type"].items())
    )
    print(
        f"{'tool':8} {'version':8} {'runs s':>7} {'queryable s':>11} {'×baton':>6}"
        f" {'CPU s':>6} {'×baton':>6} {'tree CPU':>8} {'spans kept':>20} {'×baton':>6}"
        f" {'traces kept':>11}"
    )
    for tool, rounds in results.items():
        for r in rounds:
            stored = "—" if tool == "floor" else f"{r['stored_spans']:,}/{r['expected_spans']:,}"
            share = "" if tool == "floor" else f"{kept(r):.0%}"
            traces = "—" if tool == "floor" else f"{r['stored_traces']:,}/{r['sdk_traces']:,}"
            print(
                f"{tool:8} {r['version']:8} {r['runs_seconds']:7.1f}"
                f" {r['queryable_seconds']:11.1f} {ratio(r['queryable_seconds'], at['queryable_seconds']):>6}"
                f" {r['cpu_seconds']:6.1f} {ratio(r['cpu_seconds'], at['cpu_seconds']):>6}"
                f" {r['tree_cpu_seconds']:8.1f} {stored:>15} {share:>4}"
                f" {'' if tool == 'floor' else ratio(kept(r), base_kept):>6} {traces:>11}"
            )
    print("\nmedians over rounds (baton = 1×):")
    for tool, rounds in results.items():
        line = (
            f"  {tool:8} until queryable {median(rounds, 'queryable_seconds'):6.1f} s"
            f" ({ratio(median(rounds, 'queryable_seconds'), at['queryable_seconds'])}),"
            f" runs alone {median(rounds, 'runs_seconds'):6.1f} s"
            f" ({ratio(median(rounds, 'runs_seconds'), at['runs_seconds'])}),"
            f" CPU {median(rounds, 'cpu_seconds'):6.1f} s"
            f" ({ratio(median(rounds, 'cpu_seconds'), at['cpu_seconds'])}),"
            f" process tree CPU {median(rounds, 'tree_cpu_seconds'):6.1f} s"
            f" ({ratio(median(rounds, 'tree_cpu_seconds'), at['tree_cpu_seconds'])})"
        )
        if tool != "floor":
            kept_median = statistics.median(kept(r) for r in rounds)
            line += (
                f", spans kept {kept_median:.0%} ({ratio(kept_median, base_kept)});"
                f" expected = one per SDK span {rounds[0]['extra_doc']}"
            )
        print(line)
    for tool, rounds in results.items():
        for said in dict.fromkeys(line for r in rounds for line in r["said"]):
            print(f"  {tool} said: {said[:300]}")
    print(
        "  (runs s: the runs alone; queryable s: from the first run until a query of the"
        " tool's store first saw every span it kept; CPU s: the recording process's, runs"
        " and flush; tree CPU: the tool's whole process tree, start-up and Phoenix's server"
        " included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every tool, alternating")
    parser.add_argument("--peers", default=",".join(TOOLS), help="which of " + ",".join(TOOLS))
    parser.add_argument(
        "--fw", type=Path, default=Path("/work/fw"), help="where the peers' venvs are"
    )
    args = parser.parse_args()
    chosen = [t.strip() for t in args.peers.split(",") if t.strip()]
    unknown = set(chosen) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    pythons: dict[str, Path] = {}
    for tool in chosen:
        python = python_of(tool, args.fw)
        if python is None:
            print(f"skipping {tool}: no venv at {args.fw / tool} (create it with: {SETUP})")
        else:
            pythons[tool] = python
    if not pythons:
        raise SystemExit("nothing to run")
    results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in pythons}
    for round_ in range(args.rounds):
        for tool, python in pythons.items():
            print(f"round {round_ + 1}: {tool}, {args.runs} runs ...", flush=True)
            results[tool].append(run_part(tool, python, args.runs))
    report(results)


if __name__ == "__main__":
    main()
