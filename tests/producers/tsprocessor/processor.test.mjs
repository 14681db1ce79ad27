// baton's TracingProcessor for @openai/agents (examples/typescript/baton-processor) on its
// own: the real SDK's tracing makes the spans, a real HTTP server on 127.0.0.1 plays the
// collector (answering as each test scripts it). Run with `node --test` beside the SDK's
// node_modules (tests/producers/test_live.py does, with the frameworks installed).
import * as agents from "@openai/agents";
import { BatonProcessor } from "baton-openai-agents";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

/** A collector that answers each request with the next scripted status (then 200). */
async function collector(statuses = [], headers = {}) {
  const received = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const status = statuses.length ? statuses.shift() : 200;
      received.push({ status, headers: request.headers, document: JSON.parse(body), url: request.url });
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(status === 200 ? "{}" : '{"error":"scripted"}');
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A logger that keeps what it is told. */
function notes() {
  const said = [];
  return { said, warn: (message) => said.push(message) };
}

/** One trace: an agent span with a function span that fails, a handoff and a generation. */
async function workflow(options = {}) {
  await agents.withTrace(
    "test workflow",
    async () => {
      const agent = agents.createAgentSpan({ data: { name: "triage", handoffs: ["billing"], tools: ["lookup"] } });
      agent.start();
      const generation = agents.createGenerationSpan({
        data: {
          model: "gpt-scripted",
          input: [{ role: "system", content: "You route." }, { role: "user", content: "hi" }],
          output: [{
            object: "chat.completion",
            choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [
              { id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } },
            ] } }],
            usage: { prompt_tokens: 7, completion_tokens: 3 },
          }],
        },
      }, agent);
      generation.start();
      generation.end();
      const tool = agents.createFunctionSpan({ data: { name: "lookup", input: "{}", output: "" } }, agent);
      tool.start();
      tool.setError({ message: "Error running tool", data: { error: "boom" } });
      tool.end();
      const handoff = agents.createHandoffSpan({ data: { from_agent: "triage", to_agent: "billing" } }, agent);
      handoff.start();
      handoff.setError({ message: "Multiple handoffs requested", data: { requested_agents: ["billing", "x"] } });
      handoff.end();
      agent.end();
    },
    { groupId: "thread-1", ...options },
  );
}

function spans(received) {
  return received
    .filter((r) => r.status === 200)
    .flatMap((r) => r.document.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
}

function attributes(span) {
  return Object.fromEntries(span.attributes.map(({ key, value }) => [key, Object.values(value)[0]]));
}

test("a trace is sent once it ends, in baton's Agents SDK layout", async () => {
  const server = await collector();
  const processor = new BatonProcessor({ endpoint: server.url, logger: notes() });
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  assert.equal(server.received.length, 1);
  assert.equal(server.received[0].url, "/v1/traces");
  const sent = spans(server.received);
  const byType = Object.fromEntries(sent.map((s) => [attributes(s)["openai_agents.type"], s]));
  assert.deepEqual(Object.keys(byType).sort(), ["agent", "function", "generation", "handoff", "trace"]);
  const trace = byType.trace;
  assert.equal(byType.agent.parentSpanId, trace.spanId); // the root span hangs under the trace's
  for (const span of sent) assert.equal(attributes(span)["openai_agents.group_id"], "thread-1");
  const generation = attributes(byType.generation);
  assert.equal(byType.generation.kind, 3);
  assert.equal(generation["openai_agents.data.usage"], JSON.stringify({ input_tokens: 7, output_tokens: 3 }));
  assert.deepEqual(JSON.parse(generation["openai_agents.data.output"]), [{
    role: "assistant", content: null,
    tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } }],
  }]);
  const tool = attributes(byType.function);
  assert.equal(tool["openai_agents.tool_call_id"], "call_1");
  assert.equal(tool["openai_agents.error.message"], "Error running tool");
  assert.deepEqual(byType.function.status, { code: 2, message: 'Error running tool: {"error":"boom"}' });
  const handoff = attributes(byType.handoff);
  assert.equal(handoff["baton.warning"], "Multiple handoffs requested"); // handled by the SDK
  assert.deepEqual(byType.handoff.status, {});
  assert.equal(processor.sent, 5);
  assert.equal(processor.dropped, 0);
});

test("a collector that is busy is asked again, as Retry-After says", async () => {
  const server = await collector([503, 429], { "retry-after": "0" });
  const log = notes();
  const processor = new BatonProcessor({ endpoint: server.url + "/v1/traces", logger: log });
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  assert.deepEqual(server.received.map((r) => r.status), [503, 429, 200]);
  assert.equal(spans(server.received).length, 5);
  assert.deepEqual([processor.sent, processor.dropped, log.said], [5, 0, []]);
});

test("a refusal is not repeated; the run goes on and the loss is counted", async () => {
  const server = await collector([400]);
  const log = notes();
  const processor = new BatonProcessor({ endpoint: server.url, logger: log });
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  assert.deepEqual(server.received.map((r) => r.status), [400]);
  assert.deepEqual([processor.sent, processor.dropped], [0, 5]);
  assert.equal(log.said.length, 1);
  assert.match(log.said[0], /answered 400/);
});

test("no collector: the run finishes, flush and shutdown resolve, one warning", async () => {
  const server = await collector();
  await server.close(); // nobody listens on its port any more
  const log = notes();
  const processor = new BatonProcessor({ endpoint: server.url, logger: log, maxRetries: 2 });
  agents.setTraceProcessors([processor]);
  await workflow();
  await workflow();
  await processor.forceFlush();
  await processor.shutdown();
  await processor.shutdown(); // a second shutdown is harmless
  assert.deepEqual([processor.sent, processor.dropped], [0, 10]);
  assert.equal(log.said.length, 1);
  assert.match(log.said[0], /could not send spans/);
});

test("batches hold at most maxBatchSize spans", async () => {
  const server = await collector();
  const processor = new BatonProcessor({ endpoint: server.url, maxBatchSize: 2, logger: notes() });
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  assert.deepEqual(server.received.map((r) => spans([r]).length), [2, 2, 1]);
});

test("shutdown sends the spans of a trace still running", async () => {
  const server = await collector();
  const processor = new BatonProcessor({ endpoint: server.url, logger: notes() });
  agents.setTraceProcessors([processor]);
  const trace = agents.getGlobalTraceProvider().createTrace({ name: "open" });
  await trace.start();
  const span = agents.createCustomSpan({ data: { name: "step", data: { n: 1 } } }, trace);
  span.start();
  span.end();
  await processor.shutdown();
  await server.close();
  const sent = spans(server.received);
  assert.deepEqual(sent.map((s) => [s.name, attributes(s)["openai_agents.custom.n"]]), [["step", "1"]]);
});

test("content capture off: no inputs or outputs leave the process", async () => {
  const server = await collector();
  const processor = new BatonProcessor({ endpoint: server.url, captureContent: false, logger: notes() });
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  const generation = spans(server.received).map(attributes).find((a) => a["openai_agents.type"] === "generation");
  assert.equal(generation["openai_agents.data.input"], undefined);
  assert.equal(generation["openai_agents.data.output"], undefined);
  assert.equal(generation["baton.content_capture"], false);
  assert.equal(generation["openai_agents.data.usage"], JSON.stringify({ input_tokens: 7, output_tokens: 3 }));
});

test("a span it cannot read never reaches the run", async () => {
  const log = notes();
  const processor = new BatonProcessor({ endpoint: "http://127.0.0.1:9", logger: log });
  const hostile = {
    traceId: "trace_x",
    spanId: "span_y",
    get spanData() {
      throw new Error("unreadable");
    },
  };
  await processor.onSpanEnd(hostile);
  await processor.onTraceStart(null);
  await processor.shutdown();
  assert.equal(processor.dropped, 2);
  assert.equal(log.said.length, 2);
});

test("headers come from OTEL_EXPORTER_OTLP_HEADERS and the options", async () => {
  const server = await collector();
  process.env.OTEL_EXPORTER_OTLP_HEADERS = "authorization=Bearer%20s3cret,x-a=1";
  const processor = new BatonProcessor({ endpoint: server.url, headers: { "x-a": "2" }, logger: notes() });
  delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
  agents.setTraceProcessors([processor]);
  await workflow();
  await processor.forceFlush();
  await server.close();
  const { headers } = server.received[0];
  assert.deepEqual([headers.authorization, headers["x-a"], headers["content-type"]], [
    "Bearer s3cret", "2", "application/json",
  ]);
});
