// The TypeScript OpenAI Agents SDK (@openai/agents) with baton's own TracingProcessor
// (examples/typescript/baton-processor, installed as `baton-openai-agents`), hooked up as
// its README says: handoffs with a hand-back, a ping-pong (streamed), an agent used as a
// tool and a tool that throws, on Chat Completions and on the Responses API; each run in a
// group (its conversation).
import * as agents from "@openai/agents";
import { BatonProcessor } from "baton-openai-agents";
import OpenAI from "openai";
import { writeFileSync } from "node:fs";
import { z } from "zod";

const env = process.env;
const workflow = env.BATON_WORKFLOW;
// The SDK's default processor also exports to the OpenAI dashboard with OPENAI_API_KEY; with
// no key it skips that, so the recording sends nothing off this machine.
delete env.OPENAI_API_KEY;
// As a user writes it: baton collect's address, the processor adds /v1/traces; with no
// address (under `baton run`), what OTEL_EXPORTER_OTLP_* say.
const endpoint = env.BATON_OTLP_ENDPOINT?.replace(/\/v1\/traces$/, "");
const processor = new BatonProcessor(endpoint ? { endpoint } : {});
agents.addTraceProcessor(processor);

const client = new OpenAI({ baseURL: env.BATON_MODEL_URL, apiKey: "sk-scripted" });
// `<workflow>_responses`: the same on the Responses API (the SDK's default model).
const responses = workflow.endsWith("_responses");
const flow = workflow.replace(/_responses$/, "");
const model = responses
  ? new agents.OpenAIResponsesModel(client, "gpt-scripted")
  : new agents.OpenAIChatCompletionsModel(client, "gpt-scripted");

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

const failedTools = []; // the tool calls that threw, as they threw
function failing() {
  const charge = agents.tool({
    name: "charge",
    description: "Charge the card.",
    parameters: z.object({ cents: z.number() }),
    execute: async () => {
      failedTools.push("charge");
      throw new Error("card declined");
    },
  });
  return new agents.Agent({ name: "triage", instructions: "[agent:triage] You charge.", model, tools: [charge] });
}

const groupId = `conversation-${workflow}`;
const runner = new agents.Runner({ groupId });
const start = { manager: manager(), tool_error: failing() }[flow] ?? swarm();
const input = flow === "manager" ? "What is the answer?" : "I want a refund";
let result;
if (flow === "pingpong") {
  result = await runner.run(start, input, { stream: true });
  for await (const _ of result) { /* drain */ }
  await result.completed;
} else {
  result = await runner.run(start, input);
}
const handoffs = result.newItems
  .filter((item) => item.type === "handoff_output_item")
  .map((item) => [item.sourceAgent.name, item.targetAgent.name]);
await processor.forceFlush();
// A streamed run's trace ends a little after `completed`; the SDK shuts its processors down
// before the process exits, which sends the rest: count what was sent then.
process.on("exit", () => writeFileSync(env.BATON_TRUTH_OUT, JSON.stringify({
  handoffs, failed_tools: failedTools, output: result.finalOutput, group_id: groupId,
  sent: processor.sent, dropped: processor.dropped,
}, null, 2)));
