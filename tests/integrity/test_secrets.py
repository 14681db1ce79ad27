"""No credential reaches the store, through any column or any capture path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from opentelemetry.trace import Link, Status, StatusCode
from secrets_corpus import (
    FREE_TEXT_SECRETS,
    KEY_VALUE,
    NOT_SECRET_KEYS,
    SECRET_KEYS,
    SECRET_PARTS,
)

import tracer
from tracer.capture.config import settings
from tracer.store import Store
from tracer.store.redact import REDACTED, redactor
from tui.cli import main

TEXT = " | ".join(secret for _, secret in FREE_TEXT_SECRETS)
ARGUMENTS = json.dumps(
    {"query": "weather", "api_key": KEY_VALUE, "nested": {"password": KEY_VALUE}}
)


def everything_stored(store: Store) -> str:
    """Every column of every span and of every view, as one text."""
    parts = []
    for table in ("spans", "tool_calls", "handoffs", "conversations", "turns"):
        result = store.query(f"SELECT * FROM {table}")
        parts.append(repr(result.rows))
    return "\n".join(parts)


def assert_no_secret(store: Store) -> None:
    dump = everything_stored(store)
    for part in (*SECRET_PARTS, KEY_VALUE):
        assert part not in dump, part


def record_through_setup(store: Store) -> None:
    provider = tracer.setup(store)
    otel = provider.get_tracer("app")
    with otel.start_as_current_span(f"invoke_agent Helper {TEXT}") as agent:
        agent.set_attribute("gen_ai.operation.name", "invoke_agent")
        agent.set_attribute("gen_ai.agent.name", "Helper")
        with otel.start_as_current_span("execute_tool lookup") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "lookup")
            tool.set_attribute("gen_ai.tool.call.arguments", ARGUMENTS)
            tool.set_attribute("gen_ai.tool.call.result", f"found it: {TEXT}")
            for key in SECRET_KEYS:
                tool.set_attribute(key, KEY_VALUE)
            for key, value in NOT_SECRET_KEYS.items():
                tool.set_attribute(key, value)
            tool.set_attribute("list", [TEXT, "fine"])
            tool.add_event("log", {"line": f"retrying with {TEXT}", "token": KEY_VALUE})
            tool.set_status(Status(StatusCode.ERROR, f"401 for {TEXT}"))
    tracer.shutdown()


def test_setup_stores_no_secret_in_any_column_and_counts_what_it_replaced(store: Store) -> None:
    record_through_setup(store)
    assert_no_secret(store)
    call = store.query("SELECT arguments, result FROM tool_calls").rows
    assert len(call) == 1
    arguments = json.loads(str(call[0][0]))
    assert arguments == {"query": "weather", "api_key": REDACTED, "nested": {"password": REDACTED}}
    attributes = json.loads(
        str(store.query("SELECT attributes FROM spans WHERE tool_name = 'lookup'").rows[0][0])
    )
    for key in SECRET_KEYS:
        assert attributes[key] == REDACTED, key
    for key, value in NOT_SECRET_KEYS.items():
        assert attributes[key] == value, key
    # The 9 shapes: in the result (its attribute and its column), the list item, the event
    # line and the status message; 8 secret keys, 2 keys in the arguments (in their
    # column and in the attribute they came from) and the event's "token". The agent: 9
    # shapes in its span's name.
    counts = dict(store.query("SELECT op, sum(redacted) FROM spans GROUP BY op").rows)
    assert counts == {"agent": 9, "tool": 9 * 5 + 8 + 2 * 2 + 1}
    status = CliRunner().invoke(main, ["store", "status", "--store", str(store.path)])
    assert f"redacted        {9 + 9 * 5 + 8 + 4 + 1} values" in status.output


def test_baton_import_stores_no_secret(store: Store, tmp_path: Path) -> None:
    def kv(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    nested = {
        "key": "http.request.headers",
        "value": {
            "kvlistValue": {
                "values": [
                    kv("authorization", "Basic dXNlcjpodW50ZXIyaHVudGVyMg=="),
                    kv("x-api-key", KEY_VALUE),
                ]
            }
        },
    }
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": f"execute_tool lookup {TEXT}",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            kv("gen_ai.operation.name", "execute_tool"),
            kv("gen_ai.tool.name", "lookup"),
            kv("gen_ai.tool.call.arguments", ARGUMENTS),
            kv("gen_ai.tool.call.result", TEXT),
            nested,
        ],
        "events": [
            {"name": "e", "timeUnixNano": "1700000000500000000", "attributes": [kv("msg", TEXT)]}
        ],
        "status": {"code": 2, "message": TEXT},
    }
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        kv("service.name", "app"),
                        kv("deploy.token", KEY_VALUE),
                        kv("env", TEXT),
                    ]
                },
                "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}],
            }
        ]
    }
    source = tmp_path / "spans.json"
    source.write_text(json.dumps(body))
    result = CliRunner().invoke(main, ["import", "--store", str(store.path), str(source)])
    assert result.exit_code == 0, result.output
    assert_no_secret(store)
    resource = json.loads(str(store.query("SELECT resource FROM spans").rows[0][0]))
    assert resource["deploy.token"] == REDACTED and resource["service.name"] == "app"
    headers = json.loads(str(store.query("SELECT attributes FROM spans").rows[0][0]))[
        "http.request.headers"
    ]
    assert headers == {"authorization": REDACTED, "x-api-key": REDACTED}


def test_a_batch_handed_straight_to_the_store_is_redacted_too(store: Store) -> None:
    """``Store.ingest`` and segments written by other programs go through the same pass."""
    import pyarrow as pa

    from tracer.store.rows import SPAN_SCHEMA

    row: dict[str, Any] = {name: None for name in SPAN_SCHEMA.names}
    row.update(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        name=TEXT,
        start_time=1_700_000_000_000_000,
        status="unset",
        op="tool",
        tool_arguments=ARGUMENTS,
        tool_result=TEXT,
        attributes=json.dumps({"outer": json.dumps({"client_secret": KEY_VALUE})}),
    )
    table = pa.Table.from_pylist([row], schema=SPAN_SCHEMA)
    store.write_segment(table.drop_columns(["redacted"]))  # as an older baton writes
    assert_no_secret(store)
    assert store.query("SELECT redacted FROM spans").rows == [(9 + 2 + 9 + 1,)]


def test_users_add_their_own_patterns(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_REDACT", r"ACME-\d{6}|internal-[a-z]+")
    redactor.cache_clear()
    try:
        provider = tracer.setup(store)
        with provider.get_tracer("app").start_as_current_span("call ACME-123456") as span:
            span.set_attribute("note", "see internal-wiki")
        tracer.shutdown()
    finally:
        redactor.cache_clear()
    name, attributes, redacted = store.query("SELECT name, attributes, redacted FROM spans").rows[0]
    assert name == f"call {REDACTED}"
    assert json.loads(str(attributes))["note"] == f"see {REDACTED}"
    assert redacted == 2


def test_a_bad_user_pattern_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_REDACT", "([unclosed")
    redactor.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"BATON_REDACT=.*not a valid regular expression"):
            redactor()
    finally:
        redactor.cache_clear()


@pytest.mark.parametrize(("env", "expected"), [("false", False), ("0", False), (None, True)])
def test_setup_obeys_baton_capture_content(
    store: Store, monkeypatch: pytest.MonkeyPatch, env: str | None, expected: bool
) -> None:
    if env is None:
        monkeypatch.delenv("BATON_CAPTURE_CONTENT", raising=False)
    else:
        monkeypatch.setenv("BATON_CAPTURE_CONTENT", env)
    before = settings.capture_content
    try:
        tracer.setup(store)
        assert settings.capture_content is expected
        tracer.setup(store, capture_content=True)  # an explicit argument wins
        assert settings.capture_content is True
    finally:
        tracer.shutdown()
        settings.capture_content = before


@pytest.mark.parametrize("rows", [3, 70, 600])  # the Python and the vectorised pre-filter
def test_small_and_large_batches_are_redacted_alike(store: Store, rows: int) -> None:
    from tracer.capture.spanrows import SpanRows

    batch = SpanRows()
    for n in range(rows):
        batch.add(
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id=f"{n + 1:016x}",
            parent_span_id=None,
            name=TEXT if n == rows - 1 else f"span {n}",
            kind="internal",
            start_ns=1_700_000_000_000_000_000 + n,
            end_ns=1_700_000_000_000_000_000 + n + 1,
            attributes={"note": "fine", "db_password": KEY_VALUE}
            if n == rows - 2
            else {"note": "fine"},
        )
    store.ingest(batch.to_arrow())
    assert_no_secret(store)
    assert store.query("SELECT sum(redacted) FROM spans").rows == [(9 + 1,)]


def test_secrets_in_a_links_attributes_are_redacted_and_counted(store: Store) -> None:
    provider = tracer.setup(store)
    otel = provider.get_tracer("app")
    with otel.start_as_current_span("invoke_agent Earlier") as earlier:
        earlier.set_attribute("gen_ai.operation.name", "invoke_agent")
    link = Link(earlier.get_span_context(), {"note": f"sent with {TEXT}", "token": KEY_VALUE})
    with otel.start_as_current_span("invoke_agent Later", links=[link]) as later:
        later.set_attribute("gen_ai.operation.name", "invoke_agent")
    tracer.shutdown()
    assert_no_secret(store)
    stored = store.query("SELECT links, redacted FROM spans WHERE name = 'invoke_agent Later'")
    links, redacted = stored.rows[0]
    assert json.loads(str(links))[0]["attributes"]["token"] == REDACTED
    # The 9 shapes in the note, and the secret key "token".
    assert redacted == 9 + 1
