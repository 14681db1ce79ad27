"""A recorder process for the concurrency tests: records RUNS runs of SPANS_PER_RUN spans
into STORE through baton's real exporter, printing how many spans it has flushed."""

from __future__ import annotations

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tracer.capture.exporter import StoreExporter

SPANS_PER_RUN = 6


def main() -> None:
    store_path, name, runs, absorb_interval = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(
        BatchSpanProcessor(
            StoreExporter(store_path, absorb_interval=absorb_interval), schedule_delay_millis=50
        )
    )
    tracer = provider.get_tracer("baton")
    for run in range(runs):
        with tracer.start_as_current_span(
            "invoke_workflow support",
            attributes={
                "gen_ai.operation.name": "invoke_workflow",
                "gen_ai.conversation.id": f"{name}-{run}",
            },
        ):
            for agent, target in (("Triage", "Billing"), ("Billing", None)):
                with tracer.start_as_current_span(
                    f"invoke_agent {agent}",
                    attributes={
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": agent,
                    },
                ):
                    with tracer.start_as_current_span(
                        "chat m",
                        attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"},
                    ):
                        pass
                    if target:
                        with tracer.start_as_current_span(
                            "execute_tool transfer_to_billing",
                            attributes={
                                "gen_ai.operation.name": "execute_tool",
                                "gen_ai.tool.name": "transfer_to_billing",
                                "gen_ai.transfer.mode": "pass_control",
                                "gen_ai.transfer.target.name": target,
                            },
                        ):
                            pass
        if run % 5 == 4 or run == runs - 1:
            provider.force_flush()
            print(f"flushed {(run + 1) * SPANS_PER_RUN}", flush=True)
    provider.shutdown()
    print("done", flush=True)


if __name__ == "__main__":
    main()
