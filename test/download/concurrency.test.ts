// Concurrent pulls in one process share one download; aborts are per caller.
// Ordering is made by the server, never by timing: each route sends its first chunk and then holds
// the rest until the test releases it, so "joined while the download runs" and "aborted before it
// ended" hold however slow the machine is (the old fixed delays raced under load).
import t, { type Test } from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { ggufLikePayload, sha256Hex } from '../helpers/https-server.js';
import { pullModel } from '../../src/download/pull.js';
import { collect, serveHttps, tempStore } from '../store/fixtures/temp-store.js';

const KiB = 1024;

/** A server that holds `/m.gguf` after its first 32 KiB until `release()`. */
async function heldServer(t: Test, body: Buffer) {
  const hold = gate();
  const served = await serveHttps(t, { '/m.gguf': { kind: 'file', body, throttle: { chunkBytes: 32 * KiB, delayMs: 0 }, holdAfterFirstChunk: hold.promise } });
  t.teardown(hold.release); // a failed test must not leave the response pending
  return { ...served, release: hold.release };
}

function gate(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/** Waits for a condition the code under test makes true (no deadline: tap's timeout is the bound). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

const sawDownload = (c: ReturnType<typeof collect>) => c.events.some((e) => e.phase === 'download' && (e as { downloaded_bytes: number }).downloaded_bytes > 0);

t.test('two concurrent pulls of the same model make one download, and both see its frames', async (t) => {
  const body = ggufLikePayload(512 * KiB);
  const sha = sha256Hex(body);
  const { server, agent, release } = await heldServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const a = collect();
  const b = collect();
  const progress = { everyBytes: 16 * KiB };
  const pulls = Promise.all([
    pullModel(store, spec, { allowPrivate: true, dispatcher: agent, onEvent: a.onEvent, progress }),
    pullModel(store, spec, { allowPrivate: true, dispatcher: agent, onEvent: b.onEvent, progress }),
  ]);
  // Both callers are in the download before it may finish.
  await until(() => sawDownload(a) && sawDownload(b));
  release();
  const [ra, rb] = await pulls;
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
  const { server, agent, release } = await heldServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const progress = { everyBytes: 16 * KiB };
  const early = collect();
  const first = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, progress, onEvent: early.onEvent });
  // The first caller has progress to replay, and the download is held: the joiner is late, not too late.
  await until(() => sawDownload(early));
  const late = collect();
  const second = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, progress, onEvent: late.onEvent });
  await until(() => late.events.some((e) => e.phase === 'download'));
  release();
  await Promise.all([first, second]);
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
  const { server, agent, release } = await heldServer(t, body);
  const { store } = await tempStore(t);
  const [one, two] = [collect(), collect()];
  const pulls = Promise.all([
    pullModel(store, { name: 'one', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent, onEvent: one.onEvent }),
    pullModel(store, { name: 'two', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent, onEvent: two.onEvent }),
  ]);
  // Both callers have started while the only download is held (the second name may wait on the
  // blob without a download frame of its own, so only its first frame is awaited).
  await until(() => server.log.length === 1 && one.events.length > 0 && two.events.length > 0);
  release();
  const [r1, r2] = await pulls;
  t.same([r1.source, r2.source].sort(), ['download', 'store']);
  t.equal(server.log.length, 1);
  t.same((await store.list()).map((m) => m.name), ['one', 'two']);
});

t.test('one caller aborting does not cancel the shared download; the last one does', async (t) => {
  const body = ggufLikePayload(768 * KiB);
  const sha = sha256Hex(body);
  const { server, agent, release } = await heldServer(t, body);
  const { store } = await tempStore(t);
  const spec = { name: 'm', sha256: sha, url: server.url('/m.gguf') };
  const progress = { everyBytes: 16 * KiB };
  const [c1, c2] = [collect(), collect()];
  const quitter = new AbortController();
  const p1 = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, signal: quitter.signal, onEvent: c1.onEvent, progress });
  const p2 = pullModel(store, spec, { allowPrivate: true, dispatcher: agent, onEvent: c2.onEvent, progress });
  // Both share the held download; one quits while it cannot have finished.
  await until(() => sawDownload(c1) && sawDownload(c2));
  quitter.abort(new Error('changed my mind'));
  await t.rejects(p1, { message: 'changed my mind' });
  release();
  const r2 = await p2;
  t.same(await readFile(r2.path), body, 'the other caller still got the model');

  // A lone caller aborting stops the download and keeps a resumable partial.
  const body2 = ggufLikePayload(768 * KiB, 9);
  const sha2 = sha256Hex(body2);
  const hold2 = gate();
  t.teardown(hold2.release);
  server.route('/n.gguf', { kind: 'file', body: body2, throttle: { chunkBytes: 32 * KiB, delayMs: 0 }, holdAfterFirstChunk: hold2.promise });
  const spec2 = { name: 'n', sha256: sha2, url: server.url('/n.gguf') };
  const ac = new AbortController();
  const c3 = collect();
  const p3 = pullModel(store, spec2, { allowPrivate: true, dispatcher: agent, signal: ac.signal, onEvent: c3.onEvent, progress });
  await until(() => sawDownload(c3));
  ac.abort(new Error('shutdown'));
  await t.rejects(p3, { message: 'shutdown' });
  hold2.release(); // the resuming pull below gets the rest at once
  const kept = await stat(store.layout.partialDataPath(sha2));
  t.ok(kept.size > 0, `partial kept after abort (${kept.size} bytes)`);
  const r3 = await pullModel(store, spec2, { allowPrivate: true, dispatcher: agent });
  t.equal(server.log.at(-1)!.range, `bytes=${kept.size}-`, 'the next pull resumes');
  t.same(await readFile(r3.path), body2);
});
