"""``baton replay serve``: a recorded run's responses over HTTP, read by the real ``openai``
client as a program in any language would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from replay_runs import Recorded, record_run, support_script, write_agents

import tracer
from replay.recording import load_recording
from replay.serve import serve_recorded


@pytest.fixture
def recorded(store: tracer.Store, tmp_path: Path) -> Recorded:
    agents = write_agents(tmp_path, "agents_served")
    return Recorded(store, record_run(store, agents, support_script()), agents)


def ask(client: openai.OpenAI) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(model="any", messages=[{"role": "user", "content": "go"}])


def test_the_recorded_responses_come_back_in_order(recorded: Recorded) -> None:
    server, responder = serve_recorded(load_recording(recorded.store, recorded.trace_id))
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        answers = [ask(client) for _ in range(6)]
        assert server.host == "127.0.0.1"
        first = answers[0]
        assert first.model == "gpt-test-1"
        assert first.choices[0].finish_reason == "tool_calls"
        call = first.choices[0].message.tool_calls[0]
        assert (call.id, call.function.name, call.function.arguments) == (
            "h1",
            "transfer_to_billing",
            "{}",
        )
        lookup = answers[1].choices[0].message.tool_calls[0]
        assert (lookup.function.name, json.loads(lookup.function.arguments)) == (
            "lookup_invoice",
            {"order_id": 7},
        )
        assert (answers[1].usage.prompt_tokens, answers[1].usage.completion_tokens) == (20, 4)
        assert answers[3].choices[0].message.content == "30 days."  # the agent tool's answer
        assert answers[5].choices[0].message.content == "Refunded 42.00 EUR."
        assert answers[5].choices[0].finish_reason == "stop"
        assert responder.done.is_set()
        # Exhausted: a 4xx, which clients do not retry (a retrying client gets it at once).
        retrying = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=2)
        with pytest.raises(openai.APIStatusError, match="all 6 recorded responses") as gone:
            ask(retrying)
        assert gone.value.status_code == 410
        # Bad requests are refused and the server keeps serving.
        with pytest.raises(openai.NotFoundError):
            client.embeddings.create(model="any", input="x")
        assert len(server.requests) == 7  # the 410 was asked for once, not retried
    finally:
        server.stop()


def test_the_command_serves_until_done(recorded: Recorded) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "replay",
            "serve",
            recorded.trace_id,
            "--store",
            str(recorded.store.path),
            "--exit-when-done",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(
            f"Serving the 6 recorded responses of {recorded.trace_id} at http://127.0.0.1:"
        )
        base_url = first.split(" at ")[1].strip()
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
        contents = [ask(client).choices[0].message.content for _ in range(6)]
        assert contents[3] == "30 days." and contents[5] == "Refunded 42.00 EUR."
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Served all 6 responses." in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serving_an_unknown_trace_exits_2(recorded: Recorded) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "replay",
            "serve",
            "feedbeef",
            "--store",
            str(recorded.store.path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"no conversation or trace 'feedbeef' in {recorded.store.path}" in result.stderr


def test_ctrl_c_stops_the_server_cleanly(recorded: Recorded) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # a hang dumps its threads on SIGABRT, below
            "-m",
            "tui",
            "replay",
            "serve",
            recorded.trace_id,
            "--store",
            str(recorded.store.path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it, even when these tests run in a background job
        # (a shell starts those with SIGINT ignored, and a child inherits that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Serving the 6 recorded responses")
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack
            _, err = process.communicate(timeout=30)
            pytest.fail(f"the server did not stop within 60 s of Ctrl-C:\n{err}")
        assert process.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
