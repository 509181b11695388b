// Download failures: each one ends in a clear, coded error and leaves the store consistent.
import t from 'tap';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { ggufLikePayload, sha256Hex, startHttpServer, startHttpsServer } from '../helpers/https-server.js';
import { acquireModel } from '../../src/download/acquire.js';
import { fileSink, type SinkFactory } from '../../src/download/sink.js';
import { pullModel } from '../../src/download/pull.js';
import { collect, FAST_RETRY, serveHttps, tempStore } from '../store/fixtures/temp-store.js';

const KiB = 1024;

t.test('SHA mismatch: quarantine file, quarantine frame, no blob, checksum_mismatch, one attempt', async (t) => {
  const body = ggufLikePayload(256 * KiB);
  const wrong = sha256Hex(Buffer.from('something else'));
  const actual = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const { events, onEvent, phases } = collect();
  const model = { name: 'bad', sha256: wrong, source_url: server.url('/m.gguf') };
  const err = await acquireModel(model, store, { onEvent, allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'checksum_mismatch' });
  t.match((err as Error).message, /expected [0-9a-f]{64}, got [0-9a-f]{64}.*quarantined to/);
  t.equal(server.log.length, 1, 'exactly one download attempt: a mismatch is never retried');

  t.same(phases().slice(-2), ['verify', 'quarantine']);
  const q = events.at(-1) as { path: string; expected_sha256: string; actual_sha256: string; quarantine_path: string };
  t.equal(q.expected_sha256, wrong);
  t.equal(q.actual_sha256, actual);
  t.match(q.quarantine_path, /locks\/quarantine\/\d{8}T\d{6}Z-sha-mismatch-[0-9a-f]{12}-[0-9a-f]{12}\.bin$/);
  t.same(await readFile(q.quarantine_path), body, 'the quarantined file holds the bad bytes');
  t.equal(await store.blobSize(wrong), null, 'no blob');
  t.equal(await store.readManifest('bad'), null, 'no manifest');
  const fan = await readdir(join(store.root, 'blobs', 'sha256', wrong.slice(0, 2))).catch(() => []);
  t.same(fan, [], 'no partial left behind');

  // Pulling again (a daemon restarted by its supervisor) refuses at once: the mismatch is remembered.
  await t.rejects(pullModel(store, { name: 'bad', sha256: wrong, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent }), {
    code: 'checksum_mismatch',
    message: /an earlier download .* Not downloading it again/,
  });
  t.equal(server.log.length, 1, 'no second request');
  // An explicit retry (`inferd pull`) downloads once more, a new decision; it does not loop on its own.
  await t.rejects(pullModel(store, { name: 'bad', sha256: wrong, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent, retryKnownMismatch: true }), { code: 'checksum_mismatch' });
  t.equal(server.log.length, 2);
});

t.test('a bad cached blob is quarantined, then downloaded again', async (t) => {
  const body = ggufLikePayload(128 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent });
  // Corrupt the blob in place (same size), then ask for a full re-hash.
  const corrupt = Buffer.from(body);
  corrupt[1000] = corrupt[1000]! ^ 0xff;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(store.blobPath(sha), corrupt);
  const { phases, events, onEvent } = collect();
  const got = await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m.gguf') }, { allowPrivate: true, dispatcher: agent, onEvent, verifyCached: 'sha256' });
  t.equal(got.source, 'download');
  t.same(phases().slice(0, 3), ['checking_local', 'quarantine', 'download']);
  t.equal((events[1] as { actual_sha256: string }).actual_sha256, sha256Hex(corrupt));
  t.same(await readFile(got.path), body);

  // A blob whose size differs from size_bytes is caught without asking for a re-hash.
  await writeFile(store.blobPath(sha), body.subarray(0, 1000));
  const again = collect();
  await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m.gguf'), sizeBytes: body.length }, { allowPrivate: true, dispatcher: agent, onEvent: again.onEvent });
  t.same(again.phases().slice(0, 3), ['checking_local', 'quarantine', 'download']);
});

t.test('http:// is refused before any I/O', async (t) => {
  const plain = await startHttpServer({ '/m.gguf': { kind: 'file', body: Buffer.from('x') } });
  t.teardown(() => plain.close());
  const { store } = await tempStore(t);
  const { events, onEvent } = collect();
  const model = { name: 'plain', sha256: 'a'.repeat(64), source_url: plain.url('/m.gguf') };
  await t.rejects(acquireModel(model, store, { onEvent }), { code: 'download_failed', message: /must be https:\/\// });
  t.equal(plain.log.length, 0, 'no request reached the server');
  t.same(events, [], 'not even checking_local: the spec is refused up front');
});

t.test('a redirect to http:// is refused; the http server sees nothing', async (t) => {
  const plain = await startHttpServer({ '/m.gguf': { kind: 'file', body: Buffer.from('x') } });
  t.teardown(() => plain.close());
  const { server, agent } = await serveHttps(t, { '/go': { kind: 'redirect', location: plain.url('/m.gguf') } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'r', sha256: 'b'.repeat(64), url: server.url('/go') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /refusing redirect .* to non-https/ });
  t.equal(server.log.length, 1, 'one request, not retried');
  t.equal(plain.log.length, 0);
});

t.test('redirects are followed (relative Location) up to 5 hops, and no more', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const sha = sha256Hex(body);
  const routes: Parameters<typeof startHttpsServer>[0] = { '/file': { kind: 'file', body } };
  for (let i = 1; i <= 6; i++) routes[`/hop${i}`] = { kind: 'redirect', location: i === 1 ? '/file' : `/hop${i - 1}`, status: i % 2 ? 302 : 307 };
  const { server, agent } = await serveHttps(t, routes);
  const { store } = await tempStore(t);
  const ok = await pullModel(store, { name: 'hops', sha256: sha, url: server.url('/hop5') }, { allowPrivate: true, dispatcher: agent });
  t.same(await readFile(ok.path), body, 'five redirects are fine');
  const count = server.log.length;
  const err = await pullModel(store, { name: 'hops6', sha256: 'c'.repeat(64), url: server.url('/hop6') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /too many redirects/ });
  t.equal(server.log.length - count, 6, 'six hops requested, the file never fetched');
});

t.test('404 is not retried; 500 is retried a bounded number of times', async (t) => {
  const { server, agent } = await serveHttps(t, { '/500': { kind: 'status', status: 500 } });
  const { store } = await tempStore(t);
  const e404 = await pullModel(store, { name: 'x', sha256: 'd'.repeat(64), url: server.url('/missing') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(e404, { code: 'download_failed', message: /HTTP 404 \(not retried\)/ });
  t.equal(server.log.length, 1);
  const e500 = await pullModel(store, { name: 'y', sha256: 'e'.repeat(64), url: server.url('/500') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(e500, { code: 'download_failed', message: /failed after 3 attempts: HTTP 500/ });
  t.equal(server.log.filter((e) => e.path === '/500').length, FAST_RETRY.attempts, 'exactly the configured attempts');
});

t.test('a 503 then success: transient statuses recover', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m': { kind: 'file', body, failFirst: { times: 2, status: 503, headers: { 'retry-after': '0' } } } });
  const { store } = await tempStore(t);
  const got = await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY });
  t.same(server.log.map((e) => e.status), [503, 503, 200]);
  t.same(await readFile(got.path), body);
});

t.test('a truncated body is detected (server without Range keeps cutting at the same point)', async (t) => {
  const body = ggufLikePayload(512 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/cut': { kind: 'file', body, range: false, truncateAfter: 100 * KiB } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'cut', sha256: sha, url: server.url('/cut') }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /failed after 3 attempts/ });
  t.match((err as Error).message, /102400 of 524288 bytes/);
  t.equal(await store.blobSize(sha), null, 'no blob from a truncated body');
});

t.test('a truncated chunked body is detected against size_bytes', async (t) => {
  const body = ggufLikePayload(256 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/cut': { kind: 'file', body: body.subarray(0, 200 * KiB), contentLength: false, range: false } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'cut', sha256: sha, url: server.url('/cut'), sizeBytes: body.length }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /truncated body/ });
});

t.test('Content-Length that disagrees with size_bytes fails before any body byte is stored', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m'), sizeBytes: body.length + 1 }, { allowPrivate: true, dispatcher: agent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /size mismatch: the server reports 65536 bytes but model.size_bytes is 65537/ });
  t.equal(server.log.length, 1, 'not retried');
  t.equal(await stat(store.layout.partialDataPath(sha)).catch(() => null), null, 'no partial kept');
});

t.test('more bytes than expected are refused', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m': { kind: 'file', body: Buffer.concat([body, Buffer.alloc(4096)]), contentLength: false } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'm', sha256: sha, url: server.url('/m'), sizeBytes: body.length }, { allowPrivate: true, dispatcher: agent }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /more than the expected 65536 bytes/ });
  t.equal(await store.blobSize(sha), null);
});

t.test('an untrusted certificate is a clear, unretried error (verification is never off)', async (t) => {
  const { server } = await serveHttps(t, { '/m': { kind: 'file', body: Buffer.from('x') } });
  const { store } = await tempStore(t);
  const plainAgent = new Agent();
  t.teardown(() => plainAgent.close());
  const err = await pullModel(store, { name: 'm', sha256: 'f'.repeat(64), url: server.url('/m') }, { allowPrivate: true, dispatcher: plainAgent, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /ca_file/ });
  // The TLS handshake fails before any HTTP request is parsed by the server.
  t.equal(server.log.length, 0);
  // The same server is fine once its certificate is trusted through caPem.
  const body = ggufLikePayload(1024);
  server.route('/ok', { kind: 'file', body });
  const got = await pullModel(store, { name: 'ok', sha256: sha256Hex(body), url: server.url('/ok') }, { allowPrivate: true, caPem: server.ca });
  t.equal(got.source, 'download');
});

t.test('a stalled body hits the idle timeout and is retried with resume', async (t) => {
  const body = ggufLikePayload(256 * KiB);
  const sha = sha256Hex(body);
  const { server } = await serveHttps(t, { '/stall': { kind: 'file', body, stallAfter: 64 * KiB } });
  const { store } = await tempStore(t);
  const spec = { name: 'stall', sha256: sha, url: server.url('/stall') };
  const err = await pullModel(store, spec, { allowPrivate: true, caPem: server.ca, timeouts: { bodyIdleMs: 200 }, retry: { attempts: 1 } }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed' });
  t.match((err as Error).message, /UND_ERR_BODY_TIMEOUT|timeout/i);
  server.route('/stall', { kind: 'file', body });
  const got = await pullModel(store, spec, { allowPrivate: true, caPem: server.ca });
  t.equal(server.log.at(-1)!.range, `bytes=${64 * KiB}-`, 'resumed after the stall');
  t.same(await readFile(got.path), body);
});

t.test('disk full (injected ENOSPC): clear download_failed, partial kept and consistent, resume works', async (t) => {
  const body = ggufLikePayload(3 * 1024 * KiB);
  const sha = sha256Hex(body);
  const { server, agent } = await serveHttps(t, { '/m': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const limit = 1024 * KiB + 5;
  // A sink that behaves like a disk with `limit` bytes of room.
  const fullDisk: SinkFactory = async (path, offset) => {
    const real = await fileSink(path, offset);
    let written = offset;
    return {
      async write(chunk) {
        if (written + chunk.length > limit) {
          const room = Math.max(0, limit - written);
          if (room > 0) await real.write(chunk.subarray(0, room));
          written += room;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        written += chunk.length;
        await real.write(chunk);
      },
      close: () => real.close(),
      abort: () => real.close().catch(() => undefined),
    };
  };
  const spec = { name: 'm', sha256: sha, url: server.url('/m') };
  const err = await pullModel(store, spec, { allowPrivate: true, dispatcher: agent, sinkFactory: fullDisk, retry: FAST_RETRY }).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', message: /disk full while writing .*partial download is kept/ });
  t.match((err as { detail: unknown }).detail, { reason: 'ENOSPC' });
  t.equal(server.log.length, 1, 'a write error is not retried');
  const kept = await stat(store.layout.partialDataPath(sha));
  t.ok(kept.size > 0 && kept.size <= limit, `partial kept (${kept.size} bytes)`);

  // Room again: the next pull resumes from what is on disk and the digest matches.
  const got = await pullModel(store, spec, { allowPrivate: true, dispatcher: agent });
  t.equal(server.log.at(-1)!.range, `bytes=${kept.size}-`);
  t.same(await readFile(got.path), body);
});

t.test('traversal-shaped names and digests are refused before any I/O', async (t) => {
  const { server, agent } = await serveHttps(t, { '/m': { kind: 'file', body: Buffer.from('x') } });
  const { store } = await tempStore(t);
  for (const name of ['..', '../x', '/etc/passwd', 'a/b', 'a\\b', 'a\0b', 'Upper', '', 'x'.repeat(65)]) {
    await t.rejects(pullModel(store, { name, sha256: 'a'.repeat(64), url: server.url('/m') }, { allowPrivate: true, dispatcher: agent }), { code: 'invalid_request' }, `name ${JSON.stringify(name)}`);
  }
  for (const sha of ['../' + 'a'.repeat(61), 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'sha256:' + 'a'.repeat(64), 'a'.repeat(63) + '\0']) {
    await t.rejects(pullModel(store, { name: 'ok', sha256: sha, url: server.url('/m') }, { allowPrivate: true, dispatcher: agent }), { code: 'invalid_request' }, `sha ${JSON.stringify(sha)}`);
  }
  t.equal(server.log.length, 0, 'no request was made');
});
