"""What ``baton run`` tells the processes it starts, through their environment.

``baton run`` sets these for the command; every Python process of the tree reads them in
its ``sitecustomize`` bootstrap (``tracer.capture.inprocess``), and every other program
reads the standard OpenTelemetry variables pointed at ``baton run``'s receiver. Light on
purpose: the bootstrap imports it in every Python process the command starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

#: The store every process of the command records into (an absolute path).
STORE = "BATON_RUN_STORE"
#: The conversation id to stamp on what is recorded (unset: each trace its own).
CONVERSATION = "BATON_RUN_CONVERSATION"
#: The file each recorder appends the trace ids it wrote to, one per line.
LEDGER = "BATON_RUN_LEDGER"
#: JSON {name: value or null}: the OpenTelemetry variables as they were before ``baton
#: run`` pointed them at its receiver, so a Python app's own exporters keep their targets.
ORIGINAL_OTEL = "BATON_RUN_ORIGINAL_OTEL"
#: "1": keep the Agents SDK's own export to the OpenAI dashboard.
KEEP_OPENAI_EXPORT = "BATON_RUN_KEEP_OPENAI_EXPORT"
#: The bootstrap directory put first on PYTHONPATH (skipped when the user's own
#: sitecustomize is looked up).
BOOTSTRAP_DIR = "BATON_RUN_BOOTSTRAP"

#: The standard variables ``baton run`` points at its receiver.
OTEL_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
#: Set by ``baton run`` too: a signal-specific endpoint would win over the generic one.
OTEL_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTEL_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTEL_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"

#: What ``--no-content`` sets for the instrumentations that read the standard switches.
NO_CONTENT = {
    "BATON_CAPTURE_CONTENT": "false",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
    "OPENINFERENCE_HIDE_INPUTS": "true",
    "OPENINFERENCE_HIDE_OUTPUTS": "true",
    "OPENAI_AGENTS_TRACE_INCLUDE_SENSITIVE_DATA": "false",
}


@dataclass(frozen=True)
class RunSettings:
    """What a process started by ``baton run`` records, and where."""

    store: Path
    ledger: Path | None
    conversation_id: str | None
    keep_openai_export: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunSettings | None:
        """The settings ``baton run`` left in ``env``; None outside ``baton run``."""
        env = os.environ if env is None else env
        store = env.get(STORE)
        if not store:
            return None
        ledger = env.get(LEDGER)
        return cls(
            store=Path(store),
            ledger=Path(ledger) if ledger else None,
            conversation_id=env.get(CONVERSATION) or None,
            keep_openai_export=env.get(KEEP_OPENAI_EXPORT) == "1",
        )


def receiver_variables(endpoint: str, service_name: str) -> dict[str, str]:
    """The OpenTelemetry variables that send a stock OTLP exporter to ``endpoint``."""
    return {
        OTEL_ENDPOINT: endpoint,
        OTEL_PROTOCOL: "http/protobuf",
        OTEL_TRACES_ENDPOINT: endpoint.rstrip("/") + "/v1/traces",
        OTEL_TRACES_PROTOCOL: "http/protobuf",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_SERVICE_NAME: service_name,
    }


def restore_original_otel(env: MutableMapping[str, str]) -> None:
    """Put back the OpenTelemetry variables ``baton run`` replaced (in a Python process,
    baton records in-process; the app's own exporters keep the targets they had)."""
    try:
        original = json.loads(env.get(ORIGINAL_OTEL, "{}"))
    except ValueError:
        return
    if not isinstance(original, dict):
        return
    for name, value in original.items():
        if not isinstance(name, str):
            continue
        if isinstance(value, str):
            env[name] = value
        else:
            env.pop(name, None)
