// A Node program with the stock OTLP exporter, configured from the environment only:
// Triage hands off to Billing (GenAI conventions), Billing calls a tool. Writes the span
// ids it made to argv[2] and exits 5.
const fs = require("fs");
const { context, trace } = require("@opentelemetry/api");
const { BasicTracerProvider, BatchSpanProcessor } = require("@opentelemetry/sdk-trace-base");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");

const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
const tracer = provider.getTracer("node-app");
const made = [];

function span(name, attributes, parent) {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  const s = tracer.startSpan(name, { attributes }, ctx);
  made.push(s.spanContext().spanId);
  return s;
}

const triage = span("invoke_agent Triage", {
  "gen_ai.operation.name": "invoke_agent",
  "gen_ai.agent.name": "Triage",
});
span("execute_tool transfer_to_billing Billing", {
  "gen_ai.operation.name": "execute_tool",
  "gen_ai.tool.name": "transfer_to_billing",
  "gen_ai.transfer.mode": "pass_control",
  "gen_ai.transfer.target.name": "Billing",
  "gen_ai.transfer.target.type": "agent",
}, triage).end();
triage.end();
const billing = span("invoke_agent Billing", {
  "gen_ai.operation.name": "invoke_agent",
  "gen_ai.agent.name": "Billing",
});
span("execute_tool lookup_invoice", {
  "gen_ai.operation.name": "execute_tool",
  "gen_ai.tool.name": "lookup_invoice",
  "gen_ai.tool.call.arguments": '{"invoice_id": "A1"}',
  "gen_ai.tool.call.result": "42 EUR",
}, billing).end();
billing.end();

provider.shutdown().then(() => {
  fs.writeFileSync(process.argv[2], JSON.stringify(made));
  console.log("node app done");
  process.exit(5);
});
