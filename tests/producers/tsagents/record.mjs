// The TypeScript OpenAI Agents SDK (@openai/agents) traced by
// @arizeai/openinference-instrumentation-openai-agents, as its README hooks it up:
// handoffs with a hand-back, a ping-pong (streamed), and an agent used as a tool.
import * as agents from "@openai/agents";
import { OpenAIAgentsInstrumentation } from "@arizeai/openinference-instrumentation-openai-agents";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import OpenAI from "openai";
import { writeFileSync } from "node:fs";
import { z } from "zod";

const env = process.env;
const workflow = env.BATON_WORKFLOW;
const provider = new NodeTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: env.BATON_OTLP_ENDPOINT }))],
});
provider.register();
new OpenAIAgentsInstrumentation({ tracerProvider: provider }).manuallyInstrument(agents);

const client = new OpenAI({ baseURL: env.BATON_MODEL_URL, apiKey: "sk-scripted" });
const model = new agents.OpenAIChatCompletionsModel(client, "gpt-scripted");

function swarm() {
  const triage = new agents.Agent({ name: "triage", instructions: "[agent:triage] You route.", model });
  const billing = new agents.Agent({ name: "billing", instructions: "[agent:billing] Refunds.", model });
  triage.handoffs = [billing];
  billing.handoffs = [triage];
  return triage;
}

function manager() {
  const lookup = agents.tool({
    name: "lookup",
    description: "Look a topic up.",
    parameters: z.object({ topic: z.string() }),
    execute: async ({ topic }) => `${topic}: 42`,
  });
  const researcher = new agents.Agent({
    name: "researcher", instructions: "[agent:researcher] You research.", model, tools: [lookup],
  });
  return new agents.Agent({
    name: "manager", instructions: "[agent:manager] You manage.", model,
    tools: [researcher.asTool({ toolName: "researcher", toolDescription: "Ask the researcher." })],
  });
}

const start = workflow === "manager" ? manager() : swarm();
let result;
if (workflow === "pingpong") {
  result = await agents.run(start, "I want a refund", { stream: true });
  for await (const _ of result) { /* drain */ }
  await result.completed;
} else {
  result = await agents.run(start, workflow === "manager" ? "What is the answer?" : "I want a refund");
}
const handoffs = result.newItems
  .filter((item) => item.type === "handoff_output_item")
  .map((item) => [item.sourceAgent.name, item.targetAgent.name]);
await provider.forceFlush();
writeFileSync(env.BATON_TRUTH_OUT, JSON.stringify({ handoffs, output: result.finalOutput }, null, 2));
