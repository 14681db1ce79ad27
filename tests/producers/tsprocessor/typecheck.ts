// The README's hook-up lines, as a TypeScript user writes them (type-checked, never run).
import { addTraceProcessor, setTraceProcessors, type TracingProcessor } from "@openai/agents";
import { BatonProcessor } from "baton-openai-agents";

addTraceProcessor(new BatonProcessor({ endpoint: "http://127.0.0.1:4318" }));
const only: TracingProcessor[] = [new BatonProcessor({ headers: { Authorization: "Bearer x" } })];
setTraceProcessors(only);
