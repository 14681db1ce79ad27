"""``baton run -- COMMAND``: real programs, none of which imports baton, run as
subprocesses; the store must hold exactly what each produced, and the command's exit
status, output and signals must pass through."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from collector_process import CollectorProcess
from scripted_openai import function_call_item, message_item, response_reply, scripted_openai

from tracer.store import Store

APPS = Path(__file__).resolve().parent.parent / "run_apps"
ROOT = APPS.parent.parent


def baton_run(
    store: Path, *command: str, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "run", "--store", str(store), *options, "--", *command],
        capture_output=True,
        text=True,
        env=_env(env),
        cwd=ROOT,
        timeout=120,
    )


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BATON_RUN_"))}
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


def span_ids(store: Path) -> list[str]:
    return sorted(r[0] for r in Store(store).query("SELECT span_id FROM spans").rows)


def summary_of(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def agents_replies() -> list[dict[str, object]]:
    return [
        response_reply([function_call_item("c0", "transfer_to_billing", {})], (10, 2)),
        response_reply([function_call_item("c1", "lookup_invoice", {"invoice_id": "A1"})], (11, 3)),
        response_reply([function_call_item("c2", "transfer_to_refunds", {})], (12, 2)),
        response_reply(
            [function_call_item("c3", "ask_researcher", {"input": "is A1 refundable?"})], (13, 4)
        ),
        response_reply([message_item("A1 is refundable")], (5, 4)),
        response_reply([message_item("Refund of 42 EUR issued")], (14, 6)),
    ]


@pytest.mark.parametrize(
    "app_exports", [False, True], ids=["plain", "with-its-own-openinference-export"]
)
def test_an_agents_sdk_app_is_recorded_with_its_handoffs_and_tool_calls(
    tmp_path: Path, app_exports: bool, collector: CollectorProcess
) -> None:
    replies = agents_replies()
    store, truth = tmp_path / "runs.duckdb", tmp_path / "truth.json"
    env = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "sk-scripted"}
    if app_exports:
        env |= {"APP_OPENINFERENCE": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
    with scripted_openai(replies) as (base_url, received):
        env["OPENAI_BASE_URL"] = base_url
        done = baton_run(store, sys.executable, str(APPS / "agents_app.py"), str(truth), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Refund of 42 EUR issued\n"
    assert len(received) == len(replies)
    produced = json.loads(truth.read_text())
    db = Store(store)
    handoffs = db.query("SELECT from_agent, to_agent FROM handoffs ORDER BY seq").rows
    calls = db.query(
        "SELECT c.agent_name, c.tool_name, c.arguments, c.result, c.is_agent, s.to_agent "
        "FROM tool_calls AS c JOIN spans AS s USING (trace_id, span_id) ORDER BY c.started_at"
    ).rows
    assert (
        [list(h) for h in handoffs]
        == produced["handoffs"]
        == [["Triage", "Billing"], ["Billing", "Refunds"]]
    )
    assert [list(c) for c in calls] == produced["tool_calls"]
    # Every span the SDK produced, plus the trace itself, once (not twice, not via OTLP).
    assert db.query("SELECT count(*), count(DISTINCT trace_id) FROM spans").rows == [
        (produced["spans"] + 1, 1)
    ]
    assert db.query("SELECT DISTINCT source FROM spans").rows == [("openai_agents",)]
    assert db.query("SELECT DISTINCT conversation_id FROM spans").rows == [("conv-run-agents",)]
    # The app's own OpenInference export went where it pointed, not into the store again.
    code, _, err = collector.stop()
    assert code == 0, err
    exported = collector.store.query(
        "SELECT count(*), count(*) FILTER (op = 'handoff') FROM spans"
    ).rows
    assert exported == ([(produced["spans"] + 1, 2)] if app_exports else [(0, 0)])
    assert summary_of(done.stderr) == (
        "baton run: recorded 1 run, 2 handoffs and 0 loops in conversation conv-run-agents; "
        f"open with: baton tui --store {store} conv-run-agents"
    )


def test_an_app_with_its_own_exporter_keeps_it_and_its_child_is_recorded_too(
    tmp_path: Path, collector: CollectorProcess
) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    done = baton_run(
        store,
        sys.executable,
        str(APPS / "own_otel_app.py"),
        str(made),
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint},
        options=("--conversation", "support-7"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "own app done\n"
    assert done.stderr.startswith("child done\n")
    app_spans = json.loads(made.read_text())
    child_spans = json.loads(Path(str(made) + ".child").read_text())
    assert len(app_spans) == 4 and len(child_spans) == 3
    # baton's store: the app's spans and the child's, each once.
    assert span_ids(store) == sorted(app_spans + child_spans)
    db = Store(store)
    assert db.query("SELECT from_agent, to_agent FROM handoffs").rows == [("Triage", "Billing")]
    assert db.query("SELECT agent_name, tool_name, arguments, result FROM tool_calls").rows == [
        ("Billing", "lookup_invoice", '{"invoice_id": "A1"}', "42 EUR")
    ]
    assert db.query(
        "SELECT DISTINCT json_extract_string(resource, '$.\"service.name\"') FROM spans "
        "WHERE span_id IN (SELECT unnest(?::VARCHAR[]))",
        [app_spans],
    ).rows == [("own-otel-app",)]
    assert db.query("SELECT DISTINCT conversation_id FROM spans").rows == [("support-7",)]
    # The app's own exporter still reached its own collector, with the app's spans only.
    code, _, err = collector.stop()
    assert code == 0, err
    assert sorted(r[0] for r in collector.store.query("SELECT span_id FROM spans").rows) == sorted(
        app_spans
    )
    assert summary_of(done.stderr) == (
        "baton run: recorded 5 runs, 1 handoff and 0 loops in conversation support-7; "
        f"open with: baton tui --store {store} support-7"
    )


def test_any_program_exporting_otlp_from_the_environment_is_recorded(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    # -I: no PYTHONPATH, no sitecustomize: only the OTEL_* variables reach this program.
    done = baton_run(
        store, sys.executable, "-I", str(APPS / "otlp_env_app.py"), str(made), "25", "4"
    )
    assert (done.returncode, done.stdout) == (4, "out line\n")
    assert done.stderr.startswith("err line\n")
    produced = json.loads(made.read_text())
    assert len(produced) == 25
    assert span_ids(store) == sorted(produced)
    service = (
        Store(store)
        .query("SELECT DISTINCT json_extract_string(resource, '$.\"service.name\"') FROM spans")
        .rows
    )
    assert service == [(Path(sys.executable).name,)]


def test_a_shell_script_and_the_programs_it_starts_are_recorded(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made"
    script = tmp_path / "job.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'"{sys.executable}" -I "{APPS / "otlp_env_app.py"}" "{made}.1" 2 0\n'
        f'"{sys.executable}" "{APPS / "spans_then.py"}" "{made}.2" 3 exit\n'
        "exit 6\n"
    )
    script.chmod(0o755)
    done = baton_run(store, str(script))
    assert done.returncode == 6, done.stderr
    produced = json.loads(Path(f"{made}.1").read_text()) + json.loads(Path(f"{made}.2").read_text())
    assert len(produced) == 5
    assert span_ids(store) == sorted(produced)


def test_a_crashing_program_leaves_every_span_and_its_exit_status(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    done = baton_run(store, sys.executable, str(APPS / "spans_then.py"), str(made), "7", "raise")
    assert done.returncode == 1
    assert "RuntimeError: the app crashed" in done.stderr.splitlines()[-2]
    assert span_ids(store) == sorted(json.loads(made.read_text()))


def test_a_program_killed_by_sigint_ends_baton_the_same_way(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    done = baton_run(store, sys.executable, str(APPS / "spans_then.py"), str(made), "4", "sigint")
    assert done.returncode == -signal.SIGINT
    assert span_ids(store) == sorted(json.loads(made.read_text()))


def test_sigterm_to_baton_reaches_the_program_and_its_spans_are_kept(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", "--store", str(store), "--",
         sys.executable, str(APPS / "spans_then.py"), str(made), "5", "wait"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGTERM)  # to baton alone
    _, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, err
    assert span_ids(store) == sorted(json.loads(made.read_text()))
    assert summary_of(err).startswith(
        "baton run: recorded 5 runs, 0 handoffs and 0 loops in 5 conversations"
    )


def test_ctrl_c_reaches_the_program_once_then_baton_stores_what_arrived(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    argv = [sys.executable, "-m", "tui", "run", "--store", str(store), "--",
            sys.executable, str(APPS / "spans_then.py"), str(made), "6", "wait"]  # fmt: skip
    pid, terminal = pty.fork()  # baton with a real terminal, as a user runs it
    if pid == 0:
        os.chdir(ROOT)
        os.execve(argv[0], argv, _env())
    screen = _read_until(terminal, b"ready")
    os.write(terminal, b"\x03")  # Ctrl-C: the terminal signals the foreground group
    screen += _read_until(terminal, b"open with")
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, screen
    assert b"KeyboardInterrupt" in screen  # the program had it, and only once:
    assert screen.count(b"KeyboardInterrupt") == 1, screen
    assert span_ids(store) == sorted(json.loads(made.read_text()))


def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    deadline = time.monotonic() + 60
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_a_command_that_does_not_exist_exits_127_with_the_shells_message(tmp_path: Path) -> None:
    done = baton_run(tmp_path / "runs.duckdb", "no-such-command-xyz", "--flag")
    assert (done.returncode, done.stdout) == (127, "")
    assert done.stderr == "baton run: no-such-command-xyz: command not found\n"
    missing = baton_run(tmp_path / "runs.duckdb", "./no/such/file")
    assert (missing.returncode, missing.stderr) == (
        127,
        "baton run: ./no/such/file: No such file or directory\n",
    )


def test_a_store_that_cannot_be_written_is_reported_before_the_program_starts(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    marker = tmp_path / "ran"
    done = baton_run(blocker / "runs.duckdb", "touch", str(marker))
    assert done.returncode == 125
    assert done.stderr.startswith(
        f"baton run: cannot write to the store {blocker / 'runs.duckdb'}: "
    )
    assert not marker.exists()


def test_a_users_own_sitecustomize_still_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import os\nos.environ['USER_SITE_RAN'] = 'yes'\n")
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    code = (
        "import os, sys, runpy; print(os.environ.get('USER_SITE_RAN'));"
        f"sys.argv = ['x', {str(made)!r}, '2', 'exit']; runpy.run_path({str(APPS / 'spans_then.py')!r})"
    )
    done = baton_run(store, sys.executable, "-c", code, env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "yes\n"
    assert span_ids(store) == sorted(json.loads(made.read_text()))


def test_quiet_and_a_run_that_records_nothing(tmp_path: Path) -> None:
    quiet = baton_run(tmp_path / "runs.duckdb", "true", options=("--quiet",))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    loud = baton_run(tmp_path / "runs.duckdb", "sh", "-c", "echo hi; exit 3")
    assert (loud.returncode, loud.stdout) == (3, "hi\n")
    assert loud.stderr.startswith("baton run: nothing was recorded")


NODE_MODULES = Path(os.environ.get("BATON_FW", "/work/fw")) / "node-otel" / "node_modules"


@pytest.mark.skipif(
    not (NODE_MODULES / "@opentelemetry" / "exporter-trace-otlp-proto").is_dir(),
    reason="needs Node and npm install @opentelemetry/sdk-trace-base "
    "@opentelemetry/exporter-trace-otlp-proto in /work/fw/node-otel",
)
def test_a_node_program_with_the_stock_otlp_exporter_is_recorded(tmp_path: Path) -> None:
    store, made = tmp_path / "runs.duckdb", tmp_path / "made.json"
    done = baton_run(
        store, "node", str(APPS / "otlp_app.js"), str(made), env={"NODE_PATH": str(NODE_MODULES)}
    )
    assert (done.returncode, done.stdout) == (5, "node app done\n"), done.stderr
    produced = json.loads(made.read_text())
    assert len(produced) == 4
    assert span_ids(store) == sorted(produced)
    db = Store(store)
    assert db.query("SELECT from_agent, to_agent FROM handoffs").rows == [("Triage", "Billing")]
    assert db.query("SELECT agent_name, tool_name, arguments, result FROM tool_calls").rows == [
        ("Billing", "lookup_invoice", '{"invoice_id": "A1"}', "42 EUR")
    ]
    assert summary_of(done.stderr) == (
        f"baton run: recorded 2 runs, 1 handoff and 0 loops in 2 conversations; open with: baton tui --store {store}"
    )
