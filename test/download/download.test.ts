// Downloads against a real local HTTPS server: phase order, cadence, resume, restarts.
import t from 'tap';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ggufLikePayload, sha256Hex } from '../helpers/https-server.js';
import { acquireModel } from '../../src/download/acquire.js';
import { pullModel } from '../../src/download/pull.js';
import { writeSidecar } from '../../src/store/sidecar.js';
import { collect, FAST_RETRY, serveHttps, tempStore } from '../store/fixtures/temp-store.js';

const MiB = 1024 * 1024;

t.test('a fresh download emits checking_local, download frames, verify — in order', async (t) => {
  const body = ggufLikePayload(3 * MiB + 123);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const { events, onEvent, phases } = collect();

  const model = { name: 'tiny', sha256: sha, source_url: server.url('/m.gguf'), license: 'mit' };
  const got = await acquireModel(model, store, { onEvent, allowPrivate: true, dispatcher: agent, retry: FAST_RETRY });

  t.equal(got.source, 'download');
  t.equal(got.sha256, sha);
  t.equal(got.sizeBytes, body.length);
  t.equal(got.path, store.blobPath(sha));
  t.same(await readFile(got.path), body, 'the blob holds the served bytes');

  const p = phases();
  t.equal(p[0], 'checking_local');
  t.same(events[0], { phase: 'checking_local', path: store.blobPath(sha) });
  t.same(events[1], { phase: 'download', downloaded_bytes: 0, total_bytes: body.length, source_url: model.source_url });
  const last = events.length - 1;
  t.equal(p[last], 'verify', 'verify is the last phase');
  t.same(events[last - 1], { phase: 'download', downloaded_bytes: body.length, total_bytes: body.length, source_url: model.source_url });
  t.ok(p.slice(1, last).every((x) => x === 'download'), 'only download frames between checking_local and verify');

  const manifest = JSON.parse(await readFile(join(store.root, 'manifests', 'tiny.json'), 'utf8'));
  t.match(manifest, { schema_version: 1, name: 'tiny', format: 'gguf', blob: `sha256:${sha}`, size_bytes: body.length, license: 'mit' });
  t.equal(manifest.source.url, model.source_url);
  const fan = await readdir(join(store.root, 'blobs', 'sha256', sha.slice(0, 2)));
  t.same(fan, [sha], 'no partial directory is left behind');

  // A second acquire finds the cached blob: no download, no verify, no request.
  const before = server.log.length;
  const again = collect();
  const cached = await acquireModel(model, store, { onEvent: again.onEvent, allowPrivate: true, dispatcher: agent });
  t.equal(cached.source, 'store');
  t.same(again.phases(), ['checking_local']);
  t.equal(server.log.length, before, 'no request for a cached blob');
});

t.test('cadence: a frame every milestone, strictly increasing, last one has downloaded == total', async (t) => {
  const body = ggufLikePayload(2 * MiB);
  const sha = sha256Hex(body);
  // Throttled: 64 KiB every 2 ms, so chunks arrive one by one.
  const { server, agent } = await serveHttps(t, { '/slow.gguf': { kind: 'file', body, throttle: { chunkBytes: 64 * 1024, delayMs: 2 } } });
  const { store } = await tempStore(t);
  const { events, onEvent } = collect();
  const everyBytes = 256 * 1024;
  await pullModel(
    store,
    { name: 'slow', sha256: sha, url: server.url('/slow.gguf') },
    { onEvent, allowPrivate: true, dispatcher: agent, progress: { everyBytes, everyMs: 60 * 60 * 1000 } },
  );
  const frames = events.filter((e) => e.phase === 'download') as Array<{ downloaded_bytes: number; total_bytes: number | null }>;
  t.equal(frames[0]!.downloaded_bytes, 0, 'first frame at 0');
  t.equal(frames.at(-1)!.downloaded_bytes, body.length, 'last frame at the total');
  t.equal(frames.at(-1)!.total_bytes, body.length);
  for (let i = 1; i < frames.length; i++) {
    t.ok(frames[i]!.downloaded_bytes > frames[i - 1]!.downloaded_bytes, `frame ${i} advances`);
    if (i < frames.length - 1) t.ok(frames[i]!.downloaded_bytes - frames[i - 1]!.downloaded_bytes >= everyBytes, `frame ${i} is a milestone`);
  }
  // 2 MiB in 256 KiB milestones: the start frame, 7 or 8 milestone frames, the final frame.
  t.ok(frames.length >= 8 && frames.length <= 10, `frame count ${frames.length} fits the milestones`);
  t.equal(events.at(-1)!.phase, 'verify');
});

t.test('cadence: the time threshold alone produces frames', async (t) => {
  const body = ggufLikePayload(512 * 1024);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/t.gguf': { kind: 'file', body, throttle: { chunkBytes: 32 * 1024, delayMs: 5 } } });
  const { store } = await tempStore(t);
  const { events, onEvent } = collect();
  // Byte milestones never trigger (1 GiB); everyMs: 0 makes every chunk due by time.
  await pullModel(store, { name: 't', sha256: sha, url: server.url('/t.gguf') }, { onEvent, allowPrivate: true, dispatcher: agent, progress: { everyBytes: 1 << 30, everyMs: 0 } });
  const frames = events.filter((e) => e.phase === 'download');
  t.ok(frames.length > 3, `time-based frames were sent (${frames.length})`);
});

t.test('a server without Range support restarts cleanly from 0', async (t) => {
  const body = ggufLikePayload(1 * MiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/norange.gguf': { kind: 'file', body, range: false } });
  const { store } = await tempStore(t);
  // A leftover partial of 300 KiB with a sidecar, as an interrupted earlier run leaves it.
  const partialDir = store.layout.partialDir(sha);
  await mkdir(partialDir, { recursive: true });
  await writeFile(store.layout.partialDataPath(sha), body.subarray(0, 300 * 1024));
  await writeSidecar(store.layout.sidecarPath(sha), { url: server.url('/norange.gguf'), etag: `"${sha.slice(0, 16)}"`, last_modified: null, total_bytes: body.length, sha256: sha });

  const { events, onEvent } = collect();
  const got = await pullModel(store, { name: 'norange', sha256: sha, url: server.url('/norange.gguf') }, { onEvent, allowPrivate: true, dispatcher: agent });
  t.equal(got.source, 'download');
  t.equal(server.log.length, 1, 'one request');
  t.equal(server.log[0]!.range, 'bytes=307200-', 'it asked to resume');
  t.equal(server.log[0]!.status, 200, 'the server ignored the range');
  const frames = events.filter((e) => e.phase === 'download') as Array<{ downloaded_bytes: number }>;
  t.equal(frames[0]!.downloaded_bytes, 0, 'progress restarts at 0');
  t.same(await readFile(got.path), body, 'the blob is the full, correct file');
});

t.test('resume after an interruption: Range + If-Range, fewer bytes the second time', async (t) => {
  const body = ggufLikePayload(2 * MiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/r.gguf': { kind: 'file', body, truncateAfter: 700 * 1024 } });
  const { store } = await tempStore(t);
  // One attempt only: the first run fails on the truncated body and keeps the partial.
  const spec = { name: 'r', sha256: sha, url: server.url('/r.gguf') };
  await t.rejects(pullModel(store, spec, { allowPrivate: true, dispatcher: agent, retry: { attempts: 1 } }), { code: 'download_failed' });
  const partial = await stat(store.layout.partialDataPath(sha));
  t.ok(partial.size > 0 && partial.size < body.length, `a partial of ${partial.size} bytes was kept`);

  server.route('/r.gguf', { kind: 'file', body });
  const { events, onEvent } = collect();
  const got = await pullModel(store, spec, { onEvent, allowPrivate: true, dispatcher: agent });
  t.equal(got.source, 'download');
  const second = server.log.at(-1)!;
  t.equal(second.range, `bytes=${partial.size}-`);
  t.equal(second.ifRange, `"${sha.slice(0, 16)}"`, 'If-Range carries the stored ETag');
  t.equal(second.status, 206);
  t.equal(second.bytesSent, body.length - partial.size, 'only the missing bytes came down');
  const first = events.find((e) => e.phase === 'download') as { downloaded_bytes: number };
  t.equal(first.downloaded_bytes, partial.size, 'the first frame of a resume starts at the resume offset');
  t.same(await readFile(got.path), body);
});

t.test('a transient truncation is retried and resumed within one pull', async (t) => {
  const body = ggufLikePayload(1 * MiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/flaky.gguf': { kind: 'file', body, truncateAfter: 400 * 1024 } });
  const { store } = await tempStore(t);
  // Each response is cut after 400 KiB, but each resume makes progress: 3 requests finish it.
  const got = await pullModel(store, { name: 'flaky', sha256: sha, url: server.url('/flaky.gguf') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY });
  t.same(await readFile(got.path), body);
  t.same(
    server.log.map((e) => e.range),
    [null, `bytes=${400 * 1024}-`, `bytes=${800 * 1024}-`],
    'each retry resumes where the last response ended',
  );
});

t.test('a changed ETag (If-Range mismatch) restarts from 0', async (t) => {
  const oldBody = ggufLikePayload(600 * 1024, 7);
  const body = ggufLikePayload(600 * 1024, 8);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/e.gguf': { kind: 'file', body, etag: '"new"' } });
  const { store } = await tempStore(t);
  await mkdir(store.layout.partialDir(sha), { recursive: true });
  await writeFile(store.layout.partialDataPath(sha), oldBody.subarray(0, 100 * 1024));
  await writeSidecar(store.layout.sidecarPath(sha), { url: server.url('/e.gguf'), etag: '"old"', last_modified: null, total_bytes: body.length, sha256: sha });
  const got = await pullModel(store, { name: 'e', sha256: sha, url: server.url('/e.gguf') }, { allowPrivate: true, dispatcher: agent });
  t.equal(server.log[0]!.ifRange, '"old"');
  t.equal(server.log[0]!.status, 200, 'the server sent the whole new file');
  t.same(await readFile(got.path), body);
});

t.test('a 416 on resume discards the partial and starts again', async (t) => {
  const body = ggufLikePayload(300 * 1024);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/s.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  // A partial claiming more bytes than the file has now (sidecar total unknown).
  await mkdir(store.layout.partialDir(sha), { recursive: true });
  await writeFile(store.layout.partialDataPath(sha), Buffer.alloc(400 * 1024));
  await writeSidecar(store.layout.sidecarPath(sha), { url: server.url('/s.gguf'), etag: `"${sha.slice(0, 16)}"`, last_modified: null, total_bytes: null, sha256: sha });
  const got = await pullModel(store, { name: 's', sha256: sha, url: server.url('/s.gguf') }, { allowPrivate: true, dispatcher: agent });
  t.same(server.log.map((e) => e.status), [416, 200]);
  t.same(await readFile(got.path), body);
});

t.test('unknown length (chunked, no size_bytes): total_bytes is null until the final frame', async (t) => {
  const body = ggufLikePayload(200 * 1024);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/c.gguf': { kind: 'file', body, contentLength: false } });
  const { store } = await tempStore(t);
  const { events, onEvent } = collect();
  await pullModel(store, { name: 'c', sha256: sha, url: server.url('/c.gguf') }, { onEvent, allowPrivate: true, dispatcher: agent });
  const frames = events.filter((e) => e.phase === 'download') as Array<{ downloaded_bytes: number; total_bytes: number | null }>;
  t.equal(frames[0]!.total_bytes, null);
  t.same(frames.at(-1), { phase: 'download', downloaded_bytes: body.length, total_bytes: body.length, source_url: server.url('/c.gguf') });
});

t.test('size_bytes is the total when the server sends no Content-Length', async (t) => {
  const body = ggufLikePayload(200 * 1024);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/c.gguf': { kind: 'file', body, contentLength: false } });
  const { store } = await tempStore(t);
  const { events, onEvent } = collect();
  await pullModel(store, { name: 'c', sha256: sha, url: server.url('/c.gguf'), sizeBytes: body.length }, { onEvent, allowPrivate: true, dispatcher: agent });
  const first = events.find((e) => e.phase === 'download') as { total_bytes: number | null };
  t.equal(first.total_bytes, body.length);
});
