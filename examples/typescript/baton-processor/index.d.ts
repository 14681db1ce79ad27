import type { Span, Trace, TracingProcessor } from "@openai/agents";

export interface BatonProcessorOptions {
  /** baton collect's address (`http://127.0.0.1:4318`) or its `…/v1/traces` URL. */
  endpoint?: string;
  /** Extra request headers, e.g. `{ Authorization: "Bearer <token>" }`. */
  headers?: Record<string, string>;
  serviceName?: string;
  /** Send model inputs, outputs and instructions (default true). */
  captureContent?: boolean;
  maxBatchSize?: number;
  maxBatchBytes?: number;
  maxQueueSize?: number;
  /** ms between exports of a trace still running (default 2000). */
  scheduleDelay?: number;
  maxRetries?: number;
  /** ms per request (default 10000). */
  timeout?: number;
  logger?: { warn: (message: string) => void };
}

export declare class BatonProcessor implements TracingProcessor {
  constructor(options?: BatonProcessorOptions);
  /** The traces URL the spans are sent to. */
  readonly url: string;
  /** Spans the collector accepted. */
  readonly sent: number;
  /** Spans that could not be sent (queue full, collector down or refusing, unreadable). */
  readonly dropped: number;
  start(): void;
  onTraceStart(trace: Trace): Promise<void>;
  onTraceEnd(trace: Trace): Promise<void>;
  onSpanStart(span: Span<any>): Promise<void>;
  onSpanEnd(span: Span<any>): Promise<void>;
  forceFlush(): Promise<void>;
  shutdown(timeout?: number): Promise<void>;
}
