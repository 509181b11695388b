// Concurrent pulls in one process share one download; aborts are per caller.
import t, { type Test } from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { ggufLikePayload, sha256Hex } from '../helpers/https-server.js';
import { pullModel } from '../../src/download/pull.js';
import { collect, serveHttps, tempStore } from '../store/fixtures/temp-store.js';

const KiB = 1024;

function slowServer(t: Test, body: Buffer) {
  return serveHttps(t, { '/m.gguf': { kind: 'file', body, throttle: { chunkBytes: 32 * KiB, delayMs: 3 } } });
}

t.test('two concurrent pulls of the same model make one download, and both see its frames', async (t) => {
  const body = ggufLikePayload(512 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await slowServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const a = collect();
  const b = collect();
  const progress = { everyBytes: 64 * KiB };
  const [ra, rb] = await Promise.all([
    pullModel(store, spec, { allowPrivate: true, dispatcher: agent, onEvent: a.onEvent, progress }),
    pullModel(store, spec, { allowPrivate: true, dispatcher: agent, onEvent: b.onEvent, progress }),
  ]);
  t.equal(server.log.length, 1, 'one request');
  t.same(ra, rb);
  t.equal(ra.source, 'download');
  for (const c of [a, b]) {
    t.equal(c.phases()[0], 'checking_local');
    t.equal(c.phases().at(-1), 'verify');
    t.match(c.events.at(-2), { phase: 'download', downloaded_bytes: body.length, total_bytes: body.length });
  }
});

t.test('a late joiner gets a compact replay, then the live frames', async (t) => {
  const body = ggufLikePayload(512 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await slowServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const progress = { everyBytes: 32 * KiB };
  const first = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, progress });
  while (!server.log[0] || server.log[0].bytesSent < 200 * KiB) await new Promise((r) => setTimeout(r, 5));
  const late = collect();
  await Promise.all([first, pullModel(store, spec, { allowPrivate: true, dispatcher: agent, progress, onEvent: late.onEvent })]);
  const p = late.phases();
  t.equal(p[0], 'checking_local');
  t.equal(p[1], 'download');
  t.ok((late.events[1] as { downloaded_bytes: number }).downloaded_bytes > 0, 'the replayed frame is the latest progress, not 0');
  t.equal(p.at(-1), 'verify');
  t.equal(server.log.length, 1);
});

t.test('the same bytes under two names: one download, the second finds the blob', async (t) => {
  const body = ggufLikePayload(256 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await slowServer(t, body);
  const { store } = await tempStore(t);
  const [r1, r2] = await Promise.all([
    pullModel(store, { name: 'one', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent }),
    pullModel(store, { name: 'two', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent }),
  ]);
  t.same([r1.source, r2.source].sort(), ['download', 'store']);
  t.equal(server.log.length, 1);
  t.same((await store.list()).map((m) => m.name), ['one', 'two']);
});

t.test('one caller aborting does not cancel the shared download; the last one does', async (t) => {
  const body = ggufLikePayload(768 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await slowServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const quitter = new AbortController();
  const p1 = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, signal: quitter.signal });
  const p2 = pullModel(store, spec, { allowPrivate: true, dispatcher: agent });
  setTimeout(() => quitter.abort(new Error('changed my mind')), 20);
  await t.rejects(p1, { message: 'changed my mind' });
  const r2 = await p2;
  t.same(await readFile(r2.path), body, 'the other caller still got the model');

  // A lone caller aborting stops the download and keeps a resumable partial.
  const body2 = ggufLikePayload(768 * KiB, 9);
  const sha2 = sha256Hex(body2);
  server.route('/n.gguf', { kind: 'file', body: body2, throttle: { chunkBytes: 32 * KiB, delayMs: 3 } });
  const spec2 = { name: 'n', sha256: sha2, url: server.url('/n.gguf') };
  const ac = new AbortController();
  const p3 = pullModel(store, spec2, { allowPrivate: true, dispatcher: agent, signal: ac.signal });
  while (!server.log.at(-1) || server.log.at(-1)!.path !== '/n.gguf' || server.log.at(-1)!.bytesSent < 200 * KiB) {
    await new Promise((r) => setTimeout(r, 5));
  }
  ac.abort(new Error('shutdown'));
  await t.rejects(p3, { message: 'shutdown' });
  const kept = await stat(store.layout.partialDataPath(sha2));
  t.ok(kept.size > 0, `partial kept after abort (${kept.size} bytes)`);
  const r3 = await pullModel(store, spec2, { allowPrivate: true, dispatcher: agent });
  t.equal(server.log.at(-1)!.range, `bytes=${kept.size}-`, 'the next pull resumes');
  t.same(await readFile(r3.path), body2);
});
