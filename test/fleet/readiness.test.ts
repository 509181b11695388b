// What a load balancer acts on, checked while a long generation is still running: the moment a
// reload or a drain starts, /readyz is 503 and every inference route refuses new work with 503
// `backend_unavailable` + Retry-After before any byte of a body (the answer a proxy may retry
// elsewhere); infer.sock is gone. queue_full stays 429 with Retry-After.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import type { V1Frame } from '../../src/protocol/v1.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';
import { startDaemon } from '../helpers/daemon.js';

const LONG = { id: 'long', messages: [{ role: 'user', content: 'count' }], grammar: 'root ::= [0-9]+', max_tokens: 4000 };

/** A streaming /infer request; `ended` flips when its last byte has arrived. */
async function longStream(url: string) {
  const res = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LONG) });
  const state = { ended: false, text: '' };
  let first!: () => void;
  const started = new Promise<void>((resolve) => (first = resolve));
  const frames = (async () => {
    for await (const chunk of res.body) {
      state.text += (chunk as Buffer).toString('utf8');
      if (state.text.includes('\n')) first();
    }
    state.ended = true;
    return state.text.trim().split('\n').map((line) => JSON.parse(line) as V1Frame);
  })();
  await started;
  return { state, frames: () => frames };
}

const chat = { model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true };
const NEW_WORK: Array<[route: string, body: unknown]> = [
  ['/infer', { id: 'late', messages: [{ role: 'user', content: 'hi' }] }],
  ['/v1/chat/completions', chat],
  ['/v1/completions', { model: 'x', prompt: 'hi', stream: true }],
  ['/v1/embeddings', { model: 'x', input: 'hi' }],
];

async function checkRefusing(t: Test, url: string, runtimeDir: string, inFlight: { ended: boolean }) {
  const ready = await request(`${url}/readyz`);
  const frame = (await ready.body.json()) as { status: string };
  t.equal(ready.statusCode, 503, '/readyz is 503');
  t.ok(ready.headers['retry-after'], '/readyz carries Retry-After');
  t.not(frame.status, 'ready', `/readyz shows the current status (${frame.status})`);
  for (const [route, body] of NEW_WORK) {
    const res = await request(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    t.equal(res.statusCode, 503, `${route}: 503`);
    t.match(res.headers['retry-after'], /^\d+$/, `${route}: Retry-After`);
    t.match(res.headers['content-type'], /application\/json/, `${route}: an error document, not a started stream`);
    t.match(text, /backend_unavailable|server_error/, `${route}: backend_unavailable`);
  }
  t.notOk(existsSync(join(runtimeDir, 'infer.sock')), 'infer.sock is gone: socket clients reconnect elsewhere');
  t.equal(inFlight.ended, false, 'all of this happened while the in-flight generation was still running');
}

t.test('a reload: not ready at once, new work refused, the in-flight stream completes', async (t) => {
  const { url, daemon, config } = await startDaemon(t);
  const admin = await openAdminStream(url, 'ndjson');
  t.teardown(() => admin.close());
  const stream = await longStream(url);
  const reloaded = request(`${url}/admin/reload`, { method: 'POST' });
  await admin.until(isStatus('restarting'));
  await checkRefusing(t, url, config.runtime_dir!, stream.state);
  const last = (await stream.frames()).at(-1);
  t.match(last, { type: 'done', stop_reason: 'length' }, 'the in-flight stream ran to its end');
  t.equal((await reloaded).statusCode, 200);
  t.equal((await request(`${url}/readyz`)).statusCode, 200, 'ready again after the reload');
  t.equal(daemon.lifecycle.state, 'ready');
});

t.test('a drain: not ready at once, new work refused, the in-flight stream completes', async (t) => {
  const { url, daemon, config } = await startDaemon(t);
  const admin = await openAdminStream(url, 'ndjson');
  t.teardown(() => admin.close());
  const stream = await longStream(url);
  const stopped = daemon.shutdown();
  await admin.until(isStatus('draining'));
  await checkRefusing(t, url, config.runtime_dir!, stream.state);
  t.match((await stream.frames()).at(-1), { type: 'done', stop_reason: 'length' }, 'the in-flight stream ran to its end');
  await stopped;
});

t.test('queue_full stays 429 with Retry-After', async (t) => {
  // A short drain timeout: the teardown cancels the long stream instead of waiting for it.
  const { url } = await startDaemon(t, { queue_depth: 0, drain_timeout_ms: 50 });
  const stream = await longStream(url);
  const res = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'second', messages: [{ role: 'user', content: 'hi' }] }) });
  t.equal(res.statusCode, 429);
  t.match(res.headers['retry-after'], /^\d+$/);
  t.match(await res.body.json(), { type: 'error', code: 'queue_full', id: 'second' });
  t.equal((await request(`${url}/readyz`)).statusCode, 200, 'a full queue is not unreadiness: the balancer keeps the daemon');
  t.equal(stream.state.ended, false, 'checked while the first request held the only slot');
});
