// A TracingProcessor for the TypeScript OpenAI Agents SDK (@openai/agents) that sends each
// trace's spans over OTLP/HTTP (JSON) to `baton collect`, in the layout baton reads from the
// Python Agents SDK (`openai_agents.type`, `openai_agents.data.*`; see baton's
// tracer/capture/sdk_spans.py): agents, handoffs with from/to, function tools with the
// model's call id, agents used as tools, model calls with their messages and usage, errors,
// and the trace's group id as the conversation.
//
//   import { addTraceProcessor } from "@openai/agents";
//   import { BatonProcessor } from "baton-openai-agents";
//   addTraceProcessor(new BatonProcessor({ endpoint: "http://127.0.0.1:4318" }));
//
// No dependency but the SDK that calls it (and Node 20's fetch). It never throws into the
// run: a span it cannot convert, a request that fails, a collector that is down are logged
// (once) and counted in `dropped`, and the run goes on.

import { createHash } from "node:crypto";

const PREFIX = "openai_agents.";
const SCOPE = { name: "baton-openai-agents", version: "0.1.0" };
const CLIENT_TYPES = new Set(["generation", "response", "transcription", "speech"]);
const CONTENT_FIELDS = new Set(["input", "output", "instructions"]);
// A condition the SDK reports on a span but handles (it follows the first handoff and
// ignores the rest): stored by baton as a warning, not a failure.
/** @type {Record<string, string[]>} */
const HANDLED = { handoff: ["Multiple handoffs requested"] };
const RETRY_STATUS = new Set([408, 429, 502, 503, 504]);
const KIND_INTERNAL = 1;
const KIND_CLIENT = 3;
const STATUS_ERROR = 2;

/**
 * @typedef {object} BatonProcessorOptions
 * @property {string} [endpoint] baton collect's address (`http://127.0.0.1:4318`) or its
 *   traces URL (`…/v1/traces`); default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` (what `baton run` sets), else `http://127.0.0.1:4318`.
 * @property {Record<string, string>} [headers] extra request headers (e.g. `Authorization:
 *   "Bearer <token>"` for `baton collect --token`); default: `OTEL_EXPORTER_OTLP_HEADERS`.
 * @property {string} [serviceName] the resource's `service.name` (default `OTEL_SERVICE_NAME`,
 *   else the script's name).
 * @property {boolean} [captureContent] send model inputs/outputs and instructions (default
 *   true; the SDK's own `traceIncludeSensitiveData` also decides what it records).
 * @property {number} [maxBatchSize] spans per request (default 512).
 * @property {number} [maxBatchBytes] bytes per request at most, roughly (default 4 MiB;
 *   baton collect refuses more than 20 MiB).
 * @property {number} [maxQueueSize] spans kept while the collector is slow; past it new
 *   spans are dropped and counted (default 10000).
 * @property {number} [scheduleDelay] ms between exports of a trace still running (default
 *   2000); a trace is sent as soon as it ends.
 * @property {number} [maxRetries] attempts per request on a network error, 408, 429 or 5xx
 *   (default 4), waiting 250 ms, 500 ms, … or what `Retry-After` says.
 * @property {number} [timeout] ms per request (default 10000).
 * @property {{ warn: (message: string) => void }} [logger] where problems are reported
 *   (default `console`).
 */

/** @typedef {import("@openai/agents").TracingProcessor} TracingProcessor */
/** @typedef {import("@openai/agents").Trace} Trace */
/** @typedef {import("@openai/agents").Span<any>} SdkSpan */
/** @typedef {Record<string, any>} Json a record read from the SDK (any shape) */
/** @typedef {{ key: string, value: Record<string, unknown> }} OtlpAttribute */
/**
 * @typedef {{ traceId: string, spanId: string, parentSpanId: string, name: string,
 *   kind: number, startTimeUnixNano: string, endTimeUnixNano: string,
 *   attributes: OtlpAttribute[], status: { code?: number, message?: string } }} OtlpSpan
 */
/** @typedef {[name: string, args: string, callId: string]} FunctionCall */

/** @implements {TracingProcessor} */
export class BatonProcessor {
  /** @param {BatonProcessorOptions} [options] */
  constructor(options = {}) {
    const env = typeof process === "undefined" ? {} : process.env;
    this.url = tracesUrl(
      options.endpoint ??
        env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
        env.OTEL_EXPORTER_OTLP_ENDPOINT ??
        "http://127.0.0.1:4318",
      !options.endpoint && Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    );
    this.headers = {
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...(options.headers ?? {}),
      "content-type": "application/json",
    };
    this.resource = {
      attributes: [attribute("service.name", options.serviceName ?? env.OTEL_SERVICE_NAME ?? serviceName())],
    };
    this.captureContent = options.captureContent ?? true;
    this.maxBatchSize = options.maxBatchSize ?? 512;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.maxQueueSize = options.maxQueueSize ?? 10000;
    this.scheduleDelay = options.scheduleDelay ?? 2000;
    this.maxRetries = options.maxRetries ?? 4;
    this.timeout = options.timeout ?? 10000;
    this.logger = options.logger ?? console;
    /** Spans and traces that could not be sent (queue full, collector down, unconvertible). */
    this.dropped = 0;
    /** Spans the collector accepted. */
    this.sent = 0;
    /** @type {OtlpSpan[]} OTLP spans waiting to be sent */
    this._queue = [];
    /** @type {Map<string, TraceState>} open traces by SDK trace id */
    this._traces = new Map();
    /** @type {Promise<void>} the exports under way, in order */
    this._sending = Promise.resolve();
    /** @type {ReturnType<typeof setInterval> | null} */
    this._timer = null;
    this._stopped = false;
    /** @type {Set<string>} the kinds of problem reported already */
    this._warned = new Set();
  }

  start() {
    if (this._timer || this._stopped) return;
    this._timer = setInterval(() => this._export(), this.scheduleDelay);
    this._timer.unref?.(); // never keeps the process alive: shutdown() sends what is left
  }

  /** @param {Trace} trace */
  async onTraceStart(trace) {
    this._guard("a trace's start", () => {
      this.start();
      this._traces.set(trace.traceId, new TraceState(trace));
    });
  }

  /** @param {Trace} trace */
  async onTraceEnd(trace) {
    this._guard("a trace's end", () => {
      const state = this._traces.get(trace.traceId) ?? new TraceState(trace);
      this._traces.delete(trace.traceId);
      this._enqueue(traceSpan(state, Date.now()));
      this._export(); // the whole trace goes in as soon as it ends
    });
  }

  /** @param {SdkSpan} _span */
  async onSpanStart(_span) {}

  /** @param {SdkSpan} span */
  async onSpanEnd(span) {
    this._guard("a span", () => {
      const state = this._traces.get(span.traceId);
      const converted = this._convert(span, state);
      if (converted) this._enqueue(converted);
    });
  }

  /** Sends every span ended so far (those of traces still open too). */
  async forceFlush() {
    try {
      this._export();
      await this._sending;
    } catch (error) {
      this._warn("flush", error);
    }
  }

  /**
   * Sends what is left and stops; a second call does nothing more.
   * @param {number} [timeout] ms to wait for the collector at most
   */
  async shutdown(timeout) {
    if (this._stopped) return await this._sending;
    try {
      if (this._timer) clearInterval(this._timer);
      this._timer = null;
      const flushed = this.forceFlush();
      this._stopped = true;
      if (!timeout) return await flushed;
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const late = new Promise((resolve) => (timer = setTimeout(resolve, timeout)));
      await Promise.race([flushed, late]);
      clearTimeout(timer);
    } catch (error) {
      this._warn("shutdown", error);
    }
  }

  // -- conversion -------------------------------------------------------------------------

  /**
   * One SDK span as an OTLP span (null when it has no readable time).
   * @param {SdkSpan} span
   * @param {TraceState | undefined} state
   * @returns {OtlpSpan | null}
   */
  _convert(span, state) {
    /** @type {Json} */
    const data = { ...(span.spanData ?? {}) };
    const start = isoToNs(span.startedAt) ?? isoToNs(span.endedAt);
    if (start === null) {
      this.dropped += 1;
      return null;
    }
    const end = isoToNs(span.endedAt) ?? start;
    modelCallData(data);
    const kind = String(data.type ?? "unknown");
    delete data.type;
    /** @type {Json} */
    const attrs = { ...(state?.common ?? {}) };
    attrs[PREFIX + "type"] = kind;
    attrs[PREFIX + "trace_id"] = span.traceId;
    attrs[PREFIX + "span_id"] = span.spanId;
    if (span.parentId) attrs[PREFIX + "parent_id"] = span.parentId;
    if (kind === "custom" && isRecord(data.data)) {
      for (const [key, value] of Object.entries(data.data)) attrs[`${PREFIX}custom.${key}`] = value;
      delete data.data;
    }
    for (const [key, value] of Object.entries(data)) {
      if (value === undefined || value === null || key.startsWith("_")) continue;
      if (!this.captureContent && CONTENT_FIELDS.has(key)) continue;
      attrs[`${PREFIX}data.${key}`] = value;
    }
    if (!this.captureContent && CLIENT_TYPES.has(kind)) attrs["baton.content_capture"] = false;
    if (state) {
      const parent = span.parentId ?? "";
      if (kind === "generation" || kind === "response") {
        const calls = functionCalls(data.output);
        state.calls.set(parent, calls);
        state.texts.set(parent, outputText(data.output));
      } else if (kind === "function") {
        const callId = state.takeCall(parent, data.name, data.input);
        if (callId) attrs[PREFIX + "tool_call_id"] = callId;
      } else if (kind === "handoff" && this.captureContent && state.texts.has(parent)) {
        attrs["baton.handoff.reason"] = jsonText(state.handoffReason(parent));
      }
    }
    /** @type {OtlpSpan} */
    const otlp = {
      traceId: traceHex(span.traceId),
      spanId: spanHex(span.spanId),
      parentSpanId: span.parentId ? spanHex(span.parentId) : state ? state.spanId : "",
      name: spanName(kind, span.spanData ?? {}),
      kind: CLIENT_TYPES.has(kind) ? KIND_CLIENT : KIND_INTERNAL,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes: [],
      status: {},
    };
    const error = span.error;
    if (isRecord(error) && error.message !== undefined) {
      const message = String(error.message || "error");
      if ((HANDLED[kind] ?? []).some((/** @type {string} */ prefix) => message.startsWith(prefix))) {
        attrs["baton.warning"] = message;
        attrs[PREFIX + "warning.message"] = message;
        if (error.data != null) attrs[PREFIX + "warning.data"] = error.data;
      } else {
        attrs[PREFIX + "error.message"] = message;
        let described = message;
        if (error.data != null) {
          attrs[PREFIX + "error.data"] = error.data;
          described = `${message}: ${jsonText(error.data)}`; // names e.g. the guardrail that tripped
        }
        otlp.status = { code: STATUS_ERROR, message: described };
      }
    }
    otlp.attributes = Object.entries(attrs).map(([key, value]) => attribute(key, value));
    return otlp;
  }

  // -- sending ----------------------------------------------------------------------------

  /** @param {OtlpSpan} span */
  _enqueue(span) {
    if (this._queue.length >= this.maxQueueSize) {
      this.dropped += 1;
      this._warn("queue", `more than ${this.maxQueueSize} spans wait for ${this.url}; dropping`);
      return;
    }
    this._queue.push(span);
    if (this._queue.length >= this.maxBatchSize) this._export();
  }

  /** Takes what is queued and chains its sending after the exports under way. */
  _export() {
    if (this._queue.length === 0) return;
    const spans = this._queue;
    this._queue = [];
    this._sending = this._sending.then(() => this._sendAll(spans)).catch((error) => this._warn("export", error));
  }

  /** @param {OtlpSpan[]} spans */
  async _sendAll(spans) {
    for (const batch of batches(spans, this.maxBatchSize, this.maxBatchBytes)) {
      const body = JSON.stringify({
        resourceSpans: [{ resource: this.resource, scopeSpans: [{ scope: SCOPE, spans: batch }] }],
      });
      if (await this._post(body)) this.sent += batch.length;
      else this.dropped += batch.length;
    }
  }

  /**
   * POSTs one request, retrying politely; true when the collector took it.
   * @param {string} body
   * @returns {Promise<boolean>}
   */
  async _post(body) {
    let delay = 250;
    for (let attempt = 1; ; attempt += 1) {
      let wait = delay;
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: this.headers,
          body,
          signal: AbortSignal.timeout(this.timeout),
        });
        const text = await response.text().catch(() => "");
        if (response.ok) return true;
        if (!RETRY_STATUS.has(response.status) || attempt >= this.maxRetries) {
          this._warn(`http ${response.status}`, `${this.url} answered ${response.status}: ${text.slice(0, 300)}`);
          return false;
        }
        wait = retryAfter(response.headers.get("retry-after")) ?? delay;
      } catch (/** @type {any} */ error) {
        if (attempt >= this.maxRetries) {
          this._warn("network", `could not send spans to ${this.url}: ${error?.cause?.code ?? error}`);
          return false;
        }
      }
      await sleep(Math.min(wait, 30000) * (1 + Math.random() * 0.1));
      delay *= 2;
    }
  }

  /**
   * Runs `work`; what it throws is reported and counted, never passed on.
   * @param {string} what
   * @param {() => void} work
   */
  _guard(what, work) {
    try {
      work();
    } catch (error) {
      this.dropped += 1;
      this._warn(what, error);
    }
  }

  /**
   * Reports a kind of problem once (a collector that is down would say it per span).
   * @param {string} kind
   * @param {unknown} detail
   */
  _warn(kind, detail) {
    if (this._warned.has(kind)) return;
    this._warned.add(kind);
    try {
      this.logger.warn(`[baton] ${kind}: ${detail instanceof Error ? detail.message : detail}`);
    } catch {
      // a logger that throws must not reach the run either
    }
  }
}

/** What the processor keeps about a trace while it runs. */
class TraceState {
  /** @param {Trace} trace */
  constructor(trace) {
    this.sdkTraceId = trace.traceId;
    this.spanId = spanHex("trace:" + trace.traceId);
    this.name = trace.name || "Agent workflow";
    this.metadata = trace.metadata;
    this.startNs = msToNs(Date.now());
    /** @type {Json} attributes every span of the trace carries */
    this.common = {};
    if (trace.groupId) this.common[PREFIX + "group_id"] = String(trace.groupId);
    if (trace.name) this.common[PREFIX + "workflow_name"] = String(trace.name);
    /** @type {Map<string, FunctionCall[]>} parent span -> the model's pending function calls */
    this.calls = new Map();
    /** @type {Map<string, string | null>} parent span -> the text of its latest model output */
    this.texts = new Map();
  }

  /**
   * Why the model handed off (baton's `handoffs.reason`): the transfer call of the turn's
   * model output (the first call no function span ran), its arguments, the text beside it.
   */
  handoffReason(/** @type {string} */ parent) {
    const [name, args, callId] = this.calls.get(parent)?.shift() ?? [null, null, null];
    let decoded = args;
    try {
      decoded = args ? JSON.parse(args) : args;
    } catch {
      // arguments that are not JSON are kept as their text
    }
    return { tool: name, call_id: callId, arguments: decoded, text: this.texts.get(parent) ?? null };
  }

  /**
   * The call id of the model's call of `name` (with `input`, else the first by name).
   * @param {string} parent
   * @param {unknown} name
   * @param {unknown} input
   * @returns {string | null}
   */
  takeCall(parent, name, input) {
    const pending = this.calls.get(parent);
    if (!pending) return null;
    let index = pending.findIndex(([n, args]) => n === name && (input == null || args === input));
    if (index < 0) index = pending.findIndex(([n]) => n === name);
    if (index < 0) return null;
    return pending.splice(index, 1)[0][2];
  }
}

/**
 * The span baton adds for the trace itself (the workflow); the root spans hang under it.
 * @param {TraceState} state
 * @param {number} endMs
 * @returns {OtlpSpan}
 */
function traceSpan(state, endMs) {
  /** @type {Json} */
  const attrs = { ...state.common, [PREFIX + "type"]: "trace", [PREFIX + "trace_id"]: state.sdkTraceId };
  if (isRecord(state.metadata) && Object.keys(state.metadata).length) attrs[PREFIX + "metadata"] = state.metadata;
  return {
    traceId: traceHex(state.sdkTraceId),
    spanId: state.spanId,
    parentSpanId: "",
    name: state.name,
    kind: KIND_INTERNAL,
    startTimeUnixNano: state.startNs,
    endTimeUnixNano: msToNs(endMs),
    attributes: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    status: {},
  };
}

/**
 * A model call's data in the shape the Python SDK records (what baton reads): a Chat
 * Completions generation's output as its messages and its usage as `usage`; a Responses
 * call's request and response (kept by the SDK in `_input`/`_response`, which its own
 * export leaves out) as `input`, `output`, `instructions`, `model`, `usage`.
 * @param {Json} data the span data's copy, changed in place
 */
function modelCallData(data) {
  if (data.type === "generation" && Array.isArray(data.output)) {
    /** @type {Json[]} */
    const completions = data.output.filter((/** @type {unknown} */ item) => isRecord(item) && Array.isArray(item.choices));
    if (completions.length) {
      data.output = completions.flatMap((c) => c.choices.map((/** @type {Json} */ choice) => choice?.message).filter(isRecord));
      const usage = completions.find((c) => isRecord(c.usage))?.usage;
      if (!isRecord(data.usage) && usage) {
        data.usage = { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens };
      }
    }
  } else if (data.type === "response") {
    const response = data._response;
    if (data._input !== undefined) data.input = wireItems(data._input);
    if (isRecord(response)) {
      data.model = response.model;
      if (Array.isArray(response.output)) data.output = response.output;
      if (response.instructions) data.instructions = response.instructions;
      if (!isRecord(data.usage) && isRecord(response.usage)) data.usage = response.usage;
    }
  }
}

/**
 * The SDK's own input items as the Responses API spells them (what the Python SDK records):
 * `callId` as `call_id`, a `function_call_result` as a `function_call_output` with its text,
 * no `providerData`.
 * @param {unknown} input
 * @returns {unknown}
 */
function wireItems(input) {
  if (!Array.isArray(input)) return input;
  return input.map((item) => {
    if (!isRecord(item)) return item;
    const { providerData: _provider, callId, ...rest } = item;
    const wire = callId === undefined ? rest : { ...rest, call_id: callId };
    if (wire.type !== "function_call_result") return wire;
    const { name: _name, output, ...result } = wire;
    return { ...result, type: "function_call_output", output: resultOutput(output) };
  });
}

/**
 * The text a model output holds (Chat Completions messages or Responses items), or null.
 * @param {unknown} output
 * @returns {string | null}
 */
function outputText(output) {
  /** @type {string[]} */
  const texts = [];
  for (const item of Array.isArray(output) ? output : [output]) {
    if (!isRecord(item) || (item.role !== undefined && item.role !== "assistant")) continue;
    if (typeof item.content === "string" && item.content) texts.push(item.content);
    for (const part of Array.isArray(item.content) ? item.content : []) {
      if (isRecord(part) && ["output_text", "text"].includes(part.type) && part.text) texts.push(part.text);
    }
  }
  return texts.join("\n") || null;
}

/**
 * A tool result's output as the API takes it: text, or a list of input parts.
 * @param {unknown} output
 * @returns {unknown}
 */
function resultOutput(output) {
  if (typeof output === "string" || !isRecord(output) && !Array.isArray(output)) return output;
  const parts = (Array.isArray(output) ? output : [output]).map((part) =>
    isRecord(part) && part.type === "text" ? { type: "input_text", text: part.text } : part,
  );
  return parts.length === 1 && parts[0]?.type === "input_text" ? parts[0].text : parts;
}

/**
 * `[name, arguments, call id]` of the function calls in a model output, in order.
 * @param {unknown} output
 * @returns {FunctionCall[]}
 */
function functionCalls(output) {
  /** @type {FunctionCall[]} */
  const found = [];
  for (const item of Array.isArray(output) ? output : [output]) {
    if (!isRecord(item)) continue;
    if (item.type === "function_call" && item.call_id) {
      found.push([String(item.name), String(item.arguments ?? ""), String(item.call_id)]);
    }
    for (const call of Array.isArray(item.tool_calls) ? item.tool_calls : []) {
      if (isRecord(call?.function) && call.id) {
        found.push([String(call.function.name), String(call.function.arguments ?? ""), String(call.id)]);
      }
    }
  }
  return found;
}

/**
 * A readable span name: the type, then what it is about (as baton names SDK spans).
 * @param {string} kind
 * @param {Json} data
 * @returns {string}
 */
function spanName(kind, data) {
  if (kind === "handoff") return `handoff ${data.from_agent || "?"} → ${data.to_agent || "?"}`;
  if (kind === "task" || kind === "turn" || kind === "custom") {
    const inner = isRecord(data.data) ? data.data : data;
    const label = kind === "custom" ? String(data.name || "custom") : kind;
    if (label === "turn") return `turn ${inner.turn ?? ""} ${inner.agent_name ?? ""}`.trim();
    if (label === "task" && inner.name) return `task ${inner.name}`;
    return label;
  }
  if (["generation", "transcription", "speech"].includes(kind) && data.model) return `${kind} ${data.model}`;
  if (kind === "mcp_tools" && data.server) return `mcp_tools ${data.server}`;
  if (data.name) return `${kind} ${data.name}`;
  return kind;
}

// -- OTLP/JSON -----------------------------------------------------------------------------

/**
 * An attribute: text, numbers and lists of text as they are; anything else as JSON text.
 * @param {string} key
 * @param {unknown} value
 * @returns {OtlpAttribute}
 */
function attribute(key, value) {
  if (typeof value === "string") return { key, value: { stringValue: value } };
  if (typeof value === "boolean") return { key, value: { boolValue: value } };
  if (typeof value === "number" && Number.isInteger(value)) return { key, value: { intValue: String(value) } };
  if (typeof value === "number" && Number.isFinite(value)) return { key, value: { doubleValue: value } };
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return { key, value: { arrayValue: { values: value.map((item) => ({ stringValue: item })) } } };
  }
  return { key, value: { stringValue: jsonText(value) } };
}

/** @param {unknown} value */
function jsonText(value) {
  try {
    return JSON.stringify(value, (_key, item) => (typeof item === "bigint" ? String(item) : item)) ?? String(value);
  } catch {
    return String(value); // a cycle, or a getter that throws
  }
}

/**
 * Requests of at most `size` spans and about `bytes` bytes (a bigger span goes alone).
 * @param {OtlpSpan[]} spans
 * @param {number} size
 * @param {number} bytes
 * @returns {Generator<OtlpSpan[]>}
 */
function* batches(spans, size, bytes) {
  let batch = [];
  let total = 0;
  for (const span of spans) {
    const length = jsonText(span).length;
    if (batch.length && (batch.length >= size || total + length > bytes)) {
      yield batch;
      batch = [];
      total = 0;
    }
    batch.push(span);
    total += length;
  }
  if (batch.length) yield batch;
}

const TRACE_ID = /^trace_([0-9a-f]{32})$/;
const SPAN_ID = /^span_([0-9a-f]{16})[0-9a-f]*$/;

/**
 * The OTLP trace id of an SDK trace id (its hex part when it has the usual form).
 * @param {string} sdkTraceId
 */
function traceHex(sdkTraceId) {
  const match = TRACE_ID.exec(String(sdkTraceId));
  return match ? match[1] : digest(String(sdkTraceId), 32);
}

/**
 * The OTLP span id of an SDK span id (a stable hash: SDK span ids have 24 hex digits).
 * @param {string} sdkSpanId
 */
function spanHex(sdkSpanId) {
  return digest(String(sdkSpanId), 16);
}

/**
 * @param {string} text
 * @param {number} size hex digits
 */
function digest(text, size) {
  return createHash("sha256").update(text).digest("hex").slice(0, size);
}

/**
 * Nanoseconds since the epoch, as OTLP/JSON's decimal string, of an ISO time (null if none).
 * @param {unknown} value
 * @returns {string | null}
 */
function isoToNs(value) {
  if (typeof value !== "string" || !value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : msToNs(ms);
}

/** @param {number} ms */
function msToNs(ms) {
  return (BigInt(Math.trunc(ms)) * 1000000n).toString();
}

/**
 * @param {string} endpoint
 * @param {boolean} isTracesUrl whether it is the traces URL already (a signal's own variable)
 */
function tracesUrl(endpoint, isTracesUrl) {
  const base = String(endpoint).replace(/\/+$/, "");
  return isTracesUrl || base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,key2=value2`, values percent-encoded.
 * @param {string | undefined} text
 * @returns {Record<string, string>}
 */
function parseHeaders(text) {
  /** @type {Record<string, string>} */
  const headers = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // a malformed pair is skipped, the others kept
    }
  }
  return headers;
}

/**
 * ms to wait that a `Retry-After` header says (seconds or a date), null if none.
 * @param {string | null} value
 */
function retryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function serviceName() {
  const script = typeof process === "undefined" ? "" : process.argv?.[1] ?? "";
  return script.split(/[\\/]/).pop()?.replace(/\.[cm]?[jt]s$/, "") || "openai-agents";
}

/**
 * @param {unknown} value
 * @returns {value is Json}
 */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Held (not unref'd): a retry during shutdown at exit must still happen.
/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
