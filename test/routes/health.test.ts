// Liveness, readiness, metrics and the served OpenAPI document.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import parsePrometheus from 'parse-prometheus-text-format';
import t from 'tap';
import { request } from 'undici';
import { OPENAPI_PATH } from '../../src/http/openapi.js';
import { startDaemon } from '../helpers/daemon.js';
import { inferNdjson } from '../helpers/http.js';

t.test('one daemon', async (t) => {
  const { url } = await startDaemon(t);

  t.test('health, metrics and the spec', async (t) => {
    const live = await request(`${url}/healthz`);
    t.equal(live.statusCode, 200);
    t.same(await live.body.json(), { status: 'ok' });

    const ready = await request(`${url}/readyz`);
    t.equal(ready.statusCode, 200);
    t.same(await ready.body.json(), { id: 'admin', type: 'status', status: 'ready' });

    await inferNdjson(url, { id: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, grammar: 'root ::= [a-z]+' });
    const metrics = await request(`${url}/metrics`);
    t.equal(metrics.statusCode, 200);
    t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const text = await metrics.body.text();
    t.match(text, /inferd_requests_total\{route="infer",outcome="length"\} 1\n/);
    t.match(text, /inferd_completion_tokens_total\{route="infer"\} 5\n/);
    t.match(text, /inferd_time_to_first_token_seconds_count\{route="infer"\} 1\n/);
    t.match(text, /^inferd_ready 1$/m);
    t.match(text, /^inferd_slots 1$/m);
    t.match(text, /^inferd_requests_active 0$/m);
    t.match(text, /inferd_model_info\{path="[^"]+",name="inferd-demo-tiny",n_ctx="8192"\} 1/);

    const spec = await request(`${url}/openapi.yaml`);
    t.equal(spec.statusCode, 200);
    t.match(spec.headers['content-type'], /yaml/);
    t.equal(await spec.body.text(), await readFile(OPENAPI_PATH, 'utf8'), 'serves the committed spec');

    const missing = await request(`${url}/nope`);
    t.equal(missing.statusCode, 404);
    t.match(await missing.body.json(), { type: 'error', code: 'not_found', message: 'no route for GET /nope' });
  });

  t.test('/metrics parses as Prometheus text and moves with real requests', async (t) => {
    const before = await scrape(url);
    t.equal(before.types.get('process_cpu_user_seconds_total'), 'COUNTER', 'default process metrics');
    t.equal(before.types.get('nodejs_eventloop_lag_seconds'), 'GAUGE', 'event-loop metrics');
    t.ok(before.value('nodejs_heap_size_used_bytes')! > 0, 'heap metrics have values');
    for (const name of ['inferd_time_to_first_token_seconds', 'inferd_tokens_per_second', 'inferd_queue_wait_seconds', 'inferd_request_duration_seconds']) {
      t.equal(before.types.get(name), 'HISTOGRAM', `${name} is a histogram`);
    }

    // An admin subscriber shows in the gauge while its stream is open.
    const admin = new AbortController();
    const status = await request(`${url}/admin/status?format=ndjson`, { signal: admin.signal, bodyTimeout: 0 });
    const statusReader = status.body[Symbol.asyncIterator]();
    await statusReader.next();
    t.equal((await scrape(url)).value('inferd_admin_subscribers'), before.value('inferd_admin_subscribers')! + 1, 'admin subscribers up by one');
    admin.abort();
    await statusReader.return?.().catch(() => undefined);

    // One request holds the only slot; two more wait in the queue.
    const hold = new AbortController();
    const long = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], grammar: 'root ::= [0-9]+', max_tokens: 4000 }), signal: hold.signal });
    const longReader = long.body[Symbol.asyncIterator]();
    await longReader.next();
    const queued = [1, 2].map((seed) => inferNdjson(url, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, seed, grammar: 'root ::= [a-z]+' }));
    let busy = await scrape(url);
    while (busy.value('inferd_requests_queued') !== 2) {
      await sleep(10);
      busy = await scrape(url);
    }
    t.equal(busy.value('inferd_requests_active'), 1, 'slots busy: 1');
    t.equal(busy.value('inferd_requests_queued'), 2, 'queue depth: 2');
    await sleep(50); // the queued requests wait at least this long
    hold.abort();
    await longReader.return?.().catch(() => undefined);
    const answers = await Promise.all(queued);
    t.same(answers.map((a) => a.status), [200, 200]);

    let after = await scrape(url);
    while (after.value('inferd_requests_active') !== 0) {
      await sleep(10);
      after = await scrape(url);
    }
    const delta = (name: string, labels?: Record<string, string>) => after.value(name, labels)! - (before.value(name, labels) ?? 0);
    t.equal(delta('inferd_requests_total', { route: 'infer', outcome: 'length' }), 2, 'two finished by length');
    t.equal(delta('inferd_requests_total', { route: 'infer', outcome: 'cancelled' }), 1, 'the held one was cancelled');
    t.ok(delta('inferd_completion_tokens_total', { route: 'infer' }) >= 10, 'completion tokens counted');
    // Only the `infer` route has observations in this file, so the parser's merged buckets are its.
    t.equal(after.histogram('inferd_time_to_first_token_seconds').count - before.histogram('inferd_time_to_first_token_seconds').count, 3, 'TTFT observed 3 times');
    t.equal(after.histogram('inferd_request_duration_seconds').count - before.histogram('inferd_request_duration_seconds').count, 3, 'duration observed 3 times');
    t.ok(after.histogram('inferd_tokens_per_second').count - before.histogram('inferd_tokens_per_second').count >= 2, 'speed observed for the generating requests');
    const wait = after.histogram('inferd_queue_wait_seconds');
    const waitBefore = before.histogram('inferd_queue_wait_seconds');
    t.equal(wait.count - waitBefore.count, 3, 'three admissions');
    t.equal(wait.buckets['0.01']! - (waitBefore.buckets['0.01'] ?? 0), 1, 'only the first was admitted at once; two waited over 10 ms');
    t.ok(wait.sum - waitBefore.sum >= 0.1, 'the wait time adds up (two waits of at least 50 ms)');
    t.equal(after.value('inferd_admin_subscribers'), before.value('inferd_admin_subscribers'), 'the admin subscriber is gone');
  });
});

interface Scrape {
  types: Map<string, string>;
  value(name: string, labels?: Record<string, string>): number | undefined;
  histogram(name: string): { count: number; sum: number; buckets: Record<string, number> };
}

async function scrape(url: string): Promise<Scrape> {
  const res = await request(`${url}/metrics`);
  const families = parsePrometheus(await res.body.text());
  const byName = new Map(families.map((f) => [f.name, f]));
  return {
    types: new Map(families.map((f) => [f.name, f.type])),
    value(name, labels = {}) {
      const sample = byName.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
    histogram(name) {
      // parse-prometheus-text-format 1.1 merges labelled histogram series into one set of buckets
      // (and drops count and sum): count is the +Inf bucket, and sum is read only when unlabelled.
      const sample = byName.get(name)?.metrics[0] ?? {};
      const buckets = Object.fromEntries(Object.entries(sample.buckets ?? {}).map(([le, v]) => [le, Number(v)]));
      return { count: buckets['+Inf'] ?? 0, sum: Number(sample.sum ?? 0), buckets };
    },
  };
}
