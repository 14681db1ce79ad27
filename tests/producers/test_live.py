"""The producer tests on a fresh recording: each installed framework (its venv or
node_modules under ``$BATON_FW``) run now against the scripted model server, its spans
checked exactly as the committed fixtures are. Slow and needs the frameworks, so it runs
only with ``BATON_PRODUCERS_LIVE=1`` (``-m live`` selects it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import record
import test_producers as checks
from fixture_store import load, truth
from scripted_model import ModelServer, ScriptedModel
from scripts import SCRIPTS

from tracer.store import Store

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.environ.get("BATON_PRODUCERS_LIVE") != "1", reason="set BATON_PRODUCERS_LIVE=1"
    ),
]

CHECKS: list[Callable[[checks.Recorded], None]] = [
    checks.test_every_model_call_is_a_turn_of_the_agent_it_was_for,
    checks.test_handoffs_are_the_frameworks_own_in_order,
    checks.test_tool_calls_and_agents_used_as_tools,
    checks.test_loops_are_the_ping_pongs_of_the_run,
    checks.test_replay_shows_what_each_model_call_answered,
]


@pytest.mark.parametrize(
    ("framework", "workflow"),
    [(framework, workflow) for framework, flows in SCRIPTS.items() for workflow in flows],
)
def test_a_fresh_recording_reads_as_its_truth(
    framework: str, workflow: str, tmp_path: Path
) -> None:
    if not record.installed(framework):
        pytest.skip(f"{framework} is not installed under {record.FW}")
    record.record(framework, workflow, SCRIPTS[framework][workflow], out=tmp_path)
    name = f"{framework}-{workflow}"
    recorded = checks.recording(name, load(name, tmp_path, tmp_path), truth(name, tmp_path))
    for check in CHECKS:
        check(recorded)
    if "requests" in recorded.known:  # baton's own processor: the requests' messages too
        for check in checks.REQUEST_CHECKS:
            check(recorded)


def test_batons_typescript_processor_on_its_own() -> None:
    """examples/typescript/baton-processor's own tests (retries, refusals, no collector,
    batches, shutdown, content off, hostile spans), with node beside the real SDK."""
    if not record.installed("tsprocessor"):
        pytest.skip(f"tsprocessor is not installed under {record.FW}")
    folder = record.FW / "tsprocessor"
    shutil.copyfile(
        Path(record.HERE) / "tsprocessor" / "processor.test.mjs", folder / "processor.test.mjs"
    )
    passes(["node", "--test", "processor.test.mjs"], folder)


def test_batons_typescript_processor_type_checks() -> None:
    """Its JSDoc types and index.d.ts against the installed SDK's, with TypeScript strict,
    and the README's hook-up lines as a TypeScript user writes them."""
    folder = record.FW / "tsprocessor"
    tsc = folder / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        pytest.skip(f"typescript is not installed under {folder}")
    for name in ("tsconfig.json", "typecheck.ts"):
        shutil.copyfile(Path(record.HERE) / "tsprocessor" / name, folder / name)
    passes([str(tsc), "-p", "tsconfig.json"], folder)


@pytest.mark.parametrize("workflow", list(SCRIPTS["tsprocessor"]))
def test_batons_typescript_processor_into_baton_collect(workflow: str, tmp_path: Path) -> None:
    """The real SDK with baton's processor, sending to a real ``baton collect`` (with a
    token, given as OTEL_EXPORTER_OTLP_HEADERS): the store it fills reads as the truth."""
    if not record.installed("tsprocessor"):
        pytest.skip(f"tsprocessor is not installed under {record.FW}")
    store_path = tmp_path / "collected.duckdb"
    collector = subprocess.Popen(
        [sys.executable, "-m", "tui", "collect", "--store", str(store_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BATON_COLLECT_TOKEN": "s3cret"},
    )
    assert collector.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:\d+/v1/traces", collector.stdout.readline())
    assert found is not None, collector.stderr.read() if collector.stderr else ""
    model = ScriptedModel(SCRIPTS["tsprocessor"][workflow])
    truth_path = tmp_path / "truth.json"
    try:
        with ModelServer(model) as server:
            env = {
                **os.environ,
                "BATON_MODEL_URL": server.base_url,
                "BATON_OTLP_ENDPOINT": found.group(0),
                "BATON_WORKFLOW": workflow,
                "BATON_TRUTH_OUT": str(truth_path),
                "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20s3cret",
            }
            done = subprocess.run(
                record.command("tsprocessor"), env=env, cwd=record.FW / "tsprocessor", timeout=300
            )
            assert done.returncode == 0
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.communicate(timeout=60)
    assert collector.returncode == 0
    check_tsprocessor_store(workflow, model, truth_path, store_path)


def test_batons_typescript_processor_under_baton_run(tmp_path: Path) -> None:
    """``baton run -- node agent.mjs`` with ``new BatonProcessor()`` (no endpoint: it reads
    the OTEL_EXPORTER_OTLP_* variables baton run sets): the store reads as the truth."""
    if not record.installed("tsprocessor"):
        pytest.skip(f"tsprocessor is not installed under {record.FW}")
    workflow = "handback_responses"
    model = ScriptedModel(SCRIPTS["tsprocessor"][workflow])
    store_path, truth_path = tmp_path / "run.duckdb", tmp_path / "truth.json"
    with ModelServer(model) as server:
        env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")} | {
            "BATON_MODEL_URL": server.base_url,
            "BATON_WORKFLOW": workflow,
            "BATON_TRUTH_OUT": str(truth_path),
        }
        baton_run = [sys.executable, "-m", "tui", "run", "--store", str(store_path), "--quiet"]
        done = subprocess.run(
            [*baton_run, "--", *record.command("tsprocessor")],
            env=env,
            cwd=record.FW / "tsprocessor",
            timeout=300,
        )
    assert done.returncode == 0
    check_tsprocessor_store(workflow, model, truth_path, store_path)


def check_tsprocessor_store(
    workflow: str, model: ScriptedModel, truth_path: Path, store_path: Path
) -> None:
    """Every check of the fixtures, on a store the processor filled live."""
    known = {
        "server": model.log,
        "framework": json.loads(truth_path.read_text()),
        "requests": model.requests,
    }
    recorded = checks.recording(f"tsprocessor-{workflow}", Store(store_path), known)
    for check in CHECKS + checks.REQUEST_CHECKS:
        check(recorded)


def passes(command: list[str], folder: Path) -> None:
    """Run ``command`` in ``folder``; its output is the failure message."""
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
