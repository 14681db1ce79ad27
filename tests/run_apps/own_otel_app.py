"""A plain OpenTelemetry app that knows nothing of baton: it sets up its own provider
exporting OTLP/HTTP from the environment, records a Triage -> Billing handoff and a tool
call in GenAI conventions, and starts a child Python process that records too. Writes
the span ids it made to argv[1]."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "own-otel-app"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("own-otel-app")

made: list[str] = []
with tracer.start_as_current_span(
    "invoke_agent Triage",
    attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Triage"},
) as triage:
    made.append(format(triage.get_span_context().span_id, "016x"))
    with tracer.start_as_current_span(
        "execute_tool transfer_to_billing Billing",
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "transfer_to_billing",
            "gen_ai.transfer.mode": "pass_control",
            "gen_ai.transfer.target.name": "Billing",
            "gen_ai.transfer.target.type": "agent",
        },
    ) as transfer:
        made.append(format(transfer.get_span_context().span_id, "016x"))
with tracer.start_as_current_span(
    "invoke_agent Billing",
    attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Billing"},
) as billing:
    made.append(format(billing.get_span_context().span_id, "016x"))
    with tracer.start_as_current_span(
        "execute_tool lookup_invoice",
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "lookup_invoice",
            "gen_ai.tool.call.arguments": '{"invoice_id": "A1"}',
            "gen_ai.tool.call.result": "42 EUR",
        },
    ) as tool:
        made.append(format(tool.get_span_context().span_id, "016x"))

out = Path(sys.argv[1])
child = subprocess.run(
    [sys.executable, str(Path(__file__).with_name("child_app.py")), str(out) + ".child"],
    check=True,
)
provider.shutdown()
out.write_text(json.dumps(made))
print("own app done")
