// GET /metrics with prom-client. Each daemon owns a Registry (tests run several daemons in one
// process, so the global default registry would mix them); the process and event-loop metrics
// describe the process, so they live in one registry per process that every daemon appends.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Reports one request's progress to the metrics. */
export interface RequestObserver {
  firstToken(): void;
  /** One piece of generated text went out (the live tokens/s of the load stream counts these). */
  token(): void;
  /** `outcome`: a v1 stop reason, an OpenAI finish reason, or an error code. */
  finish(outcome: string, promptTokens: number, completionTokens: number): void;
}

/** One finished request, as told to request listeners (the live load stream, for one). */
export interface RequestRecord {
  route: string;
  outcome: string;
  promptTokens: number;
  completionTokens: number;
  /** Seconds from admission to the first token, or null when none came. */
  ttftSeconds: number | null;
  durationSeconds: number;
}

/** Told when a request starts (after admission) and when it finishes. */
export interface RequestListener {
  started?(route: string): void;
  /** A piece of generated text of a running request; called once per token, keep it cheap. */
  token?(route: string): void;
  finished(record: RequestRecord): void;
}

/** Gauges read at scrape time from their owners. */
export type GaugeSource = () => Array<{ name: string; help: string; value: number; labels?: Record<string, string> }>;

// Buckets: a tiny model on a CPU answers in milliseconds, a large one on a busy box in minutes.
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const QUEUE_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TOKENS_PER_SECOND_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

let processRegistry: Registry | null = null;

/**
 * Process, heap, GC and event-loop metrics, collected once per process. prom-client offers no
 * way to stop them, so creating them per daemon would pile up GC observers and event-loop
 * monitors in a process that runs many daemons; their timer is unref'd, so it never keeps the
 * process alive.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({ name: 'inferd_requests_total', help: 'Finished inference requests by route and outcome', labelNames: ['route', 'outcome'], registers: [this.registry] });
  readonly #promptTokens = new Counter({ name: 'inferd_prompt_tokens_total', help: 'Prompt tokens evaluated', labelNames: ['route'], registers: [this.registry] });
  readonly #completionTokens = new Counter({ name: 'inferd_completion_tokens_total', help: 'Tokens generated', labelNames: ['route'], registers: [this.registry] });
  readonly #ttft = new Histogram({ name: 'inferd_time_to_first_token_seconds', help: 'Time from admission to the first generated text', labelNames: ['route'], buckets: TTFT_BUCKETS, registers: [this.registry] });
  readonly #duration = new Histogram({ name: 'inferd_request_duration_seconds', help: 'Time from admission to the terminal frame', labelNames: ['route'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly #tokensPerSecond = new Histogram({ name: 'inferd_tokens_per_second', help: 'Generation speed of a request: completion tokens over the time after the first token', labelNames: ['route'], buckets: TOKENS_PER_SECOND_BUCKETS, registers: [this.registry] });
  readonly #queueWait = new Histogram({ name: 'inferd_queue_wait_seconds', help: 'Time a request waited for a slot (0 when one was free)', buckets: QUEUE_WAIT_BUCKETS, registers: [this.registry] });
  readonly #gaugeSources: GaugeSource[] = [];
  /** Latest values of the gauges from the sources, read by the gauges' collect callbacks. */
  #gaugeValues = new Map<string, Array<{ value: number; labels?: Record<string, string> }>>();
  readonly #listeners: RequestListener[] = [];

  constructor() {
    processMetrics();
  }

  addGauges(source: GaugeSource): void {
    this.#gaugeSources.push(source);
    this.#readGauges();
  }

  /** Adds a listener told about every request that any route observes. */
  addRequestListener(listener: RequestListener): void {
    this.#listeners.push(listener);
  }

  /** Records how long one admitted request waited for its slot (the admission hook). */
  queueWait(seconds: number): void {
    this.#queueWait.observe(seconds);
  }

  /** Starts timing one request on `route` (e.g. `infer`, `chat_completions`). */
  observer(route: string): RequestObserver {
    const started = performance.now();
    let done = false;
    let ttftSeconds: number | null = null;
    for (const listener of this.#listeners) listener.started?.(route);
    return {
      firstToken: () => {
        if (ttftSeconds !== null) return;
        ttftSeconds = (performance.now() - started) / 1000;
        this.#ttft.observe({ route }, ttftSeconds);
      },
      token: () => {
        for (const listener of this.#listeners) listener.token?.(route);
      },
      finish: (outcome, promptTokens, completionTokens) => {
        if (done) return;
        done = true;
        const durationSeconds = (performance.now() - started) / 1000;
        this.#requests.inc({ route, outcome });
        this.#promptTokens.inc({ route }, promptTokens);
        this.#completionTokens.inc({ route }, completionTokens);
        this.#duration.observe({ route }, durationSeconds);
        // Speed is measured after the first token, so prompt evaluation does not count; a
        // single token has no measurable speed.
        if (ttftSeconds !== null && completionTokens > 1 && durationSeconds > ttftSeconds) {
          this.#tokensPerSecond.observe({ route }, (completionTokens - 1) / (durationSeconds - ttftSeconds));
        }
        const record = { route, outcome, promptTokens, completionTokens, ttftSeconds, durationSeconds };
        for (const listener of this.#listeners) listener.finished(record);
      },
    };
  }

  /** The exposition text: this daemon's metrics, then the process metrics. */
  async render(): Promise<string> {
    // Sources may report gauges that did not exist at registration (the loaded model's info).
    this.#readGauges();
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads every source; registers a prom-client Gauge for each name seen for the first time. */
  #readGauges(): void {
    const values = new Map<string, Array<{ value: number; labels?: Record<string, string> }>>();
    for (const source of this.#gaugeSources) {
      for (const { name, help, value, labels } of source()) {
        if (!this.registry.getSingleMetric(name)) this.#registerGauge(name, help, Object.keys(labels ?? {}));
        const list = values.get(name) ?? [];
        list.push(labels ? { value, labels } : { value });
        values.set(name, list);
      }
    }
    this.#gaugeValues = values;
  }

  #registerGauge(name: string, help: string, labelNames: string[]): void {
    const values = () => this.#gaugeValues.get(name) ?? [];
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        // A gauge whose owner no longer reports it (no model loaded) shows no sample.
        this.reset();
        for (const { value, labels } of values()) {
          if (labels) this.set(labels, value);
          else this.set(value);
        }
      },
    });
  }
}
