// The Vercel AI SDK (`ai`) with `experimental_telemetry` (functionId = the agent), in the
// hand-written multi-agent loops its users write: a `handoff` tool taking {to}, an agent
// used as a tool (a tool whose execute runs generateText). BATON_WORKFLOW ending in
// "_openinference" adds @arizeai/openinference-vercel's span processor, as its README says.
import { generateText, streamText, tool, stepCountIs } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { OpenInferenceSimpleSpanProcessor } from "@arizeai/openinference-vercel";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { trace } from "@opentelemetry/api";
import { writeFileSync } from "node:fs";
import { z } from "zod";

const env = process.env;
const workflow = env.BATON_WORKFLOW;
const exporter = new OTLPTraceExporter({ url: env.BATON_OTLP_ENDPOINT });
const processor = workflow.endsWith("_openinference")
  ? new OpenInferenceSimpleSpanProcessor({ exporter })
  : new SimpleSpanProcessor(exporter);
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
provider.register();
const tracer = trace.getTracer("app");

const model = createOpenAICompatible({
  name: "scripted", baseURL: env.BATON_MODEL_URL, apiKey: "sk-scripted", includeUsage: true,
}).chatModel("gpt-scripted");
const telemetry = (agent) => ({ isEnabled: true, functionId: agent, metadata: { agent } });

const systems = {
  triage: "[agent:triage] You route.",
  billing: "[agent:billing] Refunds.",
  manager: "[agent:manager] You manage.",
  researcher: "[agent:researcher] You research.",
};

async function handoffLoop(stream) {
  // The app's own loop: the current agent answers, or calls handoff({to}) and the app
  // switches to that agent with the conversation so far.
  let agent = "triage";
  const messages = [{ role: "user", content: "I want a refund" }];
  const handoffs = [];
  for (let round = 0; round < 8; round++) {
    let target = null;
    const handoff = tool({
      description: "Hand the conversation to another agent.",
      inputSchema: z.object({ to: z.string() }),
      execute: async ({ to }) => { target = to; return `transferred to ${to}`; },
    });
    const options = {
      model, system: systems[agent], messages, tools: { handoff },
      experimental_telemetry: telemetry(agent),
    };
    let response;
    if (stream) {
      const result = streamText(options);
      for await (const _ of result.textStream) { /* drain */ }
      response = await result.response;
    } else {
      response = (await generateText(options)).response;
    }
    messages.push(...response.messages);
    if (target === null) break;
    handoffs.push([agent, target]);
    agent = target;
  }
  return { handoffs };
}

async function manager() {
  const lookup = tool({
    description: "Look a topic up.",
    inputSchema: z.object({ topic: z.string() }),
    execute: async ({ topic }) => `${topic}: 42`,
  });
  const researcher = tool({
    description: "Ask the researcher.",
    inputSchema: z.object({ task: z.string() }),
    execute: async ({ task }) => (await generateText({
      model, system: systems.researcher, prompt: task, tools: { lookup },
      stopWhen: stepCountIs(5), experimental_telemetry: telemetry("researcher"),
    })).text,
  });
  const result = await generateText({
    model, system: systems.manager, prompt: "What is the answer?", tools: { researcher },
    stopWhen: stepCountIs(5), experimental_telemetry: telemetry("manager"),
  });
  return { handoffs: [], output: result.text };
}

const truth = await tracer.startActiveSpan(`app ${workflow}`, async (span) => {
  try {
    if (workflow.startsWith("manager")) return await manager();
    return await handoffLoop(workflow.startsWith("pingpong"));
  } finally {
    span.end();
  }
});
await provider.forceFlush();
writeFileSync(env.BATON_TRUTH_OUT, JSON.stringify(truth, null, 2));
