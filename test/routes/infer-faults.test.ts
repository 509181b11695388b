// Failures a real model does not produce on demand: a generation that fails mid-stream ends
// with one error frame; close() never hangs on open streams; idle SSE gets heartbeats.
import t from 'tap';
import { request } from 'undici';
import type { ErrorFrame, V1Frame } from '../../src/protocol/v1.js';
import { openAdminStream, isStatus } from '../helpers/admin.js';
import { startDaemon, testConfig } from '../helpers/daemon.js';
import { faultySource } from '../helpers/faulty-engine.js';
import { inferNdjson, postJson } from '../helpers/http.js';

const LONG = { messages: [{ role: 'user', content: 'count' }], grammar: 'root ::= [0-9]+', max_tokens: 2000 };

t.test('a mid-stream failure is an error frame, the only terminal frame', async (t) => {
  const config = await testConfig();
  const { url } = await startDaemon(t, config, { source: faultySource(config, 5) });
  const res = await inferNdjson(url, { ...LONG, id: 'f' });
  t.equal(res.status, 200, 'the stream had started');
  t.same(res.frames.map((f) => f.type), ['token', 'token', 'token', 'token', 'token', 'error']);
  t.match(res.frames.at(-1), { type: 'error', id: 'f', code: 'backend_unavailable', message: /mid-stream/ });

  const before = await postJson<ErrorFrame>(`${url}/infer`, { ...LONG, id: 'j', stream: false });
  t.equal(before.status, 503, 'with stream:false nothing was sent yet, so it is an HTTP error');
  t.equal(before.body.code, 'backend_unavailable');
});

t.test('close() does not wait for open SSE, NDJSON and token streams', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1 });
  const sse = await openAdminStream(url, 'sse');
  const ndjson = await openAdminStream(url, 'ndjson');
  await Promise.all([sse.until(isStatus('ready')), ndjson.until(isStatus('ready'))]);
  const tokens = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...LONG, max_tokens: 8000 }) });
  const reading = (async () => {
    const frames: V1Frame[] = [];
    let text = '';
    try {
      for await (const chunk of tokens.body) text += (chunk as Buffer).toString('utf8');
    } catch {
      // the connection was closed under the stream
    }
    for (const line of text.split('\n')) if (line) frames.push(JSON.parse(line) as V1Frame);
    return frames;
  })();
  while (daemon.gate.admission.active === 0) await new Promise((r) => setTimeout(r, 5));
  await daemon.app.close(); // straight to close, no drain: must still return
  await Promise.all([sse.ended, ndjson.ended]);
  const frames = await reading;
  t.ok(frames.length > 0, 'the token stream had started');
  t.notOk(daemon.app.server.listening, 'app.close() returned with three streams open, and the server is closed');
  t.equal(daemon.app.streams.size, 0, 'no stream is left tracked');
});

t.test('an idle SSE admin stream gets `: ping` heartbeats', async (t) => {
  const { url } = await startDaemon(t, { sse_heartbeat_ms: 200 });
  const res = await request(`${url}/admin/status`, { headers: { accept: 'text/event-stream' } });
  let text = '';
  for await (const chunk of res.body) {
    text += (chunk as Buffer).toString('utf8');
    if ((text.match(/: ping\n\n/g) ?? []).length >= 2) break;
  }
  t.match(text, /^retry: \d+\n\n/);
  t.match(text, /data: \{"id":"admin","type":"status","status":"ready"\}\n\n(: ping\n\n){2}/, 'pings follow the frames while nothing happens');
});
