// Counters and histograms for GET /metrics in the Prometheus text format. Small on purpose:
// what operators of peers ask for most (queue depth, in-flight, tokens, time to first token).

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

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Histogram {
  readonly counts = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(label: string, seconds: number): void {
    let entry = this.counts.get(label);
    if (!entry) {
      entry = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.counts.set(label, entry);
    }
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) entry.buckets[i]! += 1;
    });
    entry.sum += seconds;
    entry.count += 1;
  }

  render(name: string, help: string, labelName: string): string {
    let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    for (const [label, entry] of this.counts) {
      LATENCY_BUCKETS.forEach((le, i) => {
        out += `${name}_bucket{${labelName}="${label}",le="${le}"} ${entry.buckets[i]}\n`;
      });
      out += `${name}_bucket{${labelName}="${label}",le="+Inf"} ${entry.count}\n`;
      out += `${name}_sum{${labelName}="${label}"} ${entry.sum}\n${name}_count{${labelName}="${label}"} ${entry.count}\n`;
    }
    return out;
  }
}

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #promptTokens = new Map<string, number>();
  readonly #completionTokens = new Map<string, number>();
  readonly #ttft = new Histogram();
  readonly #duration = new Histogram();
  readonly #gauges: GaugeSource[] = [];
  readonly #listeners: RequestListener[] = [];

  addGauges(source: GaugeSource): void {
    this.#gauges.push(source);
  }

  /** Adds a listener told about every request that any route observes. */
  addRequestListener(listener: RequestListener): void {
    this.#listeners.push(listener);
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
        this.#ttft.observe(route, ttftSeconds);
      },
      token: () => {
        for (const listener of this.#listeners) listener.token?.(route);
      },
      finish: (outcome, promptTokens, completionTokens) => {
        if (done) return;
        done = true;
        const durationSeconds = (performance.now() - started) / 1000;
        bump(this.#requests, `route="${route}",outcome="${outcome}"`, 1);
        bump(this.#promptTokens, `route="${route}"`, promptTokens);
        bump(this.#completionTokens, `route="${route}"`, completionTokens);
        this.#duration.observe(route, durationSeconds);
        const record = { route, outcome, promptTokens, completionTokens, ttftSeconds, durationSeconds };
        for (const listener of this.#listeners) listener.finished(record);
      },
    };
  }

  render(): string {
    let out = counter('inferd_requests_total', 'Finished inference requests by route and outcome', this.#requests);
    out += counter('inferd_prompt_tokens_total', 'Prompt tokens evaluated', this.#promptTokens);
    out += counter('inferd_completion_tokens_total', 'Tokens generated', this.#completionTokens);
    out += this.#ttft.render('inferd_time_to_first_token_seconds', 'Time from admission to the first generated text', 'route');
    out += this.#duration.render('inferd_request_duration_seconds', 'Time from admission to the terminal frame', 'route');
    for (const source of this.#gauges) {
      for (const gauge of source()) {
        const labels = gauge.labels
          ? `{${Object.entries(gauge.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
          : '';
        out += `# HELP ${gauge.name} ${gauge.help}\n# TYPE ${gauge.name} gauge\n${gauge.name}${labels} ${gauge.value}\n`;
      }
    }
    return out;
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function counter(name: string, help: string, values: Map<string, number>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
  for (const [labels, value] of values) out += `${name}{${labels}} ${value}\n`;
  return out;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
