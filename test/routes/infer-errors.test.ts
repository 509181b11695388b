// POST /infer: errors before the stream, admission and cancellation on a real daemon.
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame, ErrorFrame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { inferNdjson, postJson } from '../helpers/http.js';

const hi = [{ role: 'user', content: 'hi' }];
/** Digits never end a turn in the demo model, so this runs to max_tokens. */
const LONG = { messages: hi, grammar: 'root ::= [0-9]+', max_tokens: 4000 };

t.test('invalid requests are 400 with the v1 error frame', async (t) => {
  const { url } = await startDaemon(t);
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing messages', { id: 'x' }, /missing field messages/],
    ['empty messages', { id: 'x', messages: [] }, /^invalid request: messages must not be empty$/],
    ['bad role', { id: 'x', messages: [{ role: 'robot', content: 'hi' }] }, /role must be one of/],
    ['content array', { id: 'x', messages: [{ role: 'user', content: [] }] }, /content must be string/],
    ['bad image_token_budget', { id: 'x', messages: hi, image_token_budget: 100 }, /^invalid request: image_token_budget 100 not in \[70, 140, 280, 560, 1120\]$/],
    ['negative top_k', { id: 'x', messages: hi, top_k: -1 }, /top_k/],
    ['fractional max_tokens', { id: 'x', messages: hi, max_tokens: 0.5 }, /max_tokens must be integer/],
    ['string temperature', { id: 'x', messages: hi, temperature: 'hot' }, /temperature must be number/],
    ['malformed JSON', '{"id":"x","messages":[', /decode/],
    ['not an object', '[1,2]', /invalid request/],
    ['oversized grammar', { id: 'x', messages: hi, grammar: 'x'.repeat(65537) }, /grammar is larger than 65536 bytes/],
    // Refused before the (synchronous) tokenizer runs: 4 MB cannot fit 8192 tokens of this vocabulary.
    ['prompt longer than the context', { id: 'x', messages: [{ role: 'user', content: 'inferd '.repeat(600_000) }] }, /the prompt is 4200000 bytes, more than a 8192-token context can hold/],
  ];
  for (const [name, body, message] of cases) {
    const res = await postJson<ErrorFrame>(`${url}/infer`, body);
    t.equal(res.status, 400, `${name}: 400`);
    t.equal(res.body.type, 'error', `${name}: an error frame`);
    t.equal(res.body.code, 'invalid_request', `${name}: invalid_request`);
    t.match(res.body.message, message, `${name}: message`);
  }
  const withId = await postJson<ErrorFrame>(`${url}/infer`, { id: 'mine', messages: [] });
  t.equal(withId.body.id, 'mine', 'the request id is echoed when there is one');
  const unknown = await postJson<DoneFrame>(`${url}/infer`, { messages: hi, max_tokens: 1, stream: false, unknown_field: true });
  t.equal(unknown.status, 200, 'unknown fields are ignored');
});

t.test('a body over the limit is 413 frame_too_large', async (t) => {
  const { url } = await startDaemon(t);
  const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(64 * 1024 * 1024) }] });
  const res = await postJson<ErrorFrame>(`${url}/infer`, big);
  t.equal(res.status, 413, 'the 64 MiB default limit matches the frame cap');
  t.equal(res.body.code, 'frame_too_large');
  const small = await startDaemon(t, { body_limit: 4096 });
  const res2 = await postJson<ErrorFrame>(`${small.url}/infer`, { messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
  t.equal(res2.status, 413, 'the limit is configurable');
  t.equal(res2.body.code, 'frame_too_large');
  t.equal(res2.body.message, 'request body exceeds body_limit (4096 bytes)');
});

t.test('queue_full is 429 with Retry-After (parallel 1, queue_depth 0)', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 0 });
  const ac = new AbortController();
  const busy = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LONG), signal: ac.signal });
  const reader = busy.body[Symbol.asyncIterator]();
  await reader.next(); // the first token is out: the slot is held
  t.equal(daemon.gate.admission.active, 1);
  const refused = await postJson<ErrorFrame>(`${url}/infer`, { id: 'q', messages: hi, max_tokens: 1 });
  t.equal(refused.status, 429);
  t.equal(refused.body.code, 'queue_full');
  t.equal(refused.body.id, 'q');
  t.equal(refused.headers['retry-after'], '1');
  ac.abort();
  await reader.return?.();
});

t.test('a client disconnect cancels generation and frees the slot, 20 times in a row', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 1 });
  const { port } = new URL(url);
  const body = JSON.stringify({ ...LONG, id: 'd' });
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /infer HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
      socket.once('data', () => {
        socket.destroy(); // gone mid-stream, right after the first token frame
        resolve();
      });
      socket.once('error', reject);
    });
    const next = await inferNdjson(url, { id: `n${i}`, messages: hi, max_tokens: 3, seed: i });
    const done = next.frames.at(-1) as DoneFrame;
    t.equal(done.type, 'done', `request ${i} after a disconnect completes`);
  }
  t.equal(daemon.gate.admission.active, 0, 'no slot is left held');
  t.ok((await daemon.metrics.render()).includes('outcome="cancelled"'), 'the disconnects were counted as cancelled');
});

t.test('before the model is ready: 503 with Retry-After', async (t) => {
  const { url } = await startDaemon(t, {}, { start: false });
  const res = await postJson<ErrorFrame>(`${url}/infer`, { id: 'early', messages: hi });
  t.equal(res.status, 503);
  t.equal(res.body.code, 'backend_unavailable');
  t.ok(res.headers['retry-after'], 'Retry-After is set');
  const ready = await request(`${url}/readyz`);
  t.equal(ready.statusCode, 503);
  t.match(await ready.body.json(), { id: 'admin', type: 'status', status: 'starting' });
  const live = await request(`${url}/healthz`);
  t.equal(live.statusCode, 200, 'liveness does not wait for the model');
  await live.body.dump();
});
