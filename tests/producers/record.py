"""Re-record the producer fixtures: run each framework's real package (in its own venv or
node_modules under ``$BATON_FW``, default /work/fw) against a scripted model server on
127.0.0.1, keep the spans it exports (OTLP/JSON lines) and its own account of the run.

    python tests/producers/record.py                 # every framework
    python tests/producers/record.py langgraph crewai

Writes ``fixtures/<framework>-<workflow>.otlp.jsonl`` and ``.truth.json``; the truth holds
the model server's log (which agent each model call was for, what it answered) and what
the framework itself returned. See README.md beside this file for installing frameworks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from otlp_sink import OtlpSink  # noqa: E402
from scripted_model import ModelServer, ScriptedModel  # noqa: E402
from scripts import SCRIPTS  # noqa: E402

FW = Path(os.environ.get("BATON_FW", "/work/fw"))
FIXTURES = HERE / "fixtures"
#: Frameworks whose truth also holds the messages of every request the model server
#: answered (their tests compare the replay's input messages with them); the others'
#: fixtures were recorded before the server kept them.
KEEP_REQUESTS = frozenset({"tsprocessor"})


def command(framework: str) -> list[str]:
    """How to run a framework's recording script: its venv's python, or node."""
    script = HERE / framework
    if (script / "record.mjs").exists():
        # ES modules resolve packages from the script's own folder: run a copy beside the
        # framework's node_modules.
        copy = FW / framework / "record.mjs"
        shutil.copyfile(script / "record.mjs", copy)
        return ["node", str(copy)]
    return [str(FW / framework / "bin" / "python"), str(script / "record.py")]


def installed(framework: str) -> bool:
    """Whether a framework's venv or node_modules is under ``$BATON_FW``."""
    return (FW / framework / "bin" / "python").exists() or (
        FW / framework / "node_modules"
    ).exists()


def record(
    framework: str, workflow: str, script: dict[str, list[dict[str, Any]]], out: Path = FIXTURES
) -> None:
    model = ScriptedModel(script)
    with ModelServer(model) as server, OtlpSink() as sink, tempfile.TemporaryDirectory() as tmp:
        truth_path = Path(tmp) / "truth.json"
        env = {
            **os.environ,
            "BATON_MODEL_URL": server.base_url,
            "BATON_OTLP_ENDPOINT": sink.endpoint,
            "BATON_WORKFLOW": workflow,
            "BATON_TRUTH_OUT": str(truth_path),
            "NODE_PATH": str(FW / framework / "node_modules"),
            "OPENAI_API_KEY": "sk-scripted",
            "OPENAI_BASE_URL": server.base_url,
            "CREWAI_DISABLE_TELEMETRY": "true",
            "OTEL_SDK_DISABLED": "false",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        done = subprocess.run(
            command(framework), env=env, cwd=FW / framework, timeout=600, check=False
        )
        time.sleep(0.5)  # the last export's request may still be in flight
        if done.returncode != 0 or not truth_path.exists():
            raise SystemExit(f"{framework} {workflow}: the recording script failed")
        framework_truth = json.loads(truth_path.read_text())
    unused = model.unused()
    if unused:
        raise SystemExit(f"{framework} {workflow}: scripted replies never asked for: {unused}")
    stem = f"{framework}-{workflow}"
    (out / f"{stem}.otlp.jsonl").write_text("".join(line + "\n" for line in sink.lines))
    truth: dict[str, Any] = {"server": model.log, "framework": framework_truth}
    if framework in KEEP_REQUESTS:
        truth["requests"] = model.requests
    text = json.dumps(truth, indent=2, sort_keys=True) + "\n"
    (out / f"{stem}.truth.json").write_text(text)
    print(f"{framework} {workflow}: {len(model.log)} model calls, {len(sink.lines)} exports")


def main(argv: list[str]) -> None:
    FIXTURES.mkdir(exist_ok=True)
    chosen = argv or list(SCRIPTS)
    for framework in chosen:
        for workflow, script in SCRIPTS[framework].items():
            record(framework, workflow, script)


if __name__ == "__main__":
    main(sys.argv[1:])
