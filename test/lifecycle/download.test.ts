// Model acquisition through the daemon: a configured HTTPS model is downloaded with live
// progress on /admin/status, verified, loaded and served; a kill -9 mid-download resumes with
// Range; a wrong checksum ends in quarantine with nothing loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_MODELS, buildDemoModel } from '../../src/demo-model/index.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { startHttpsServer, sha256Hex } from '../helpers/https-server.js';
import { inferNdjson } from '../helpers/http.js';

const demo = DEMO_MODELS.default;
const bytes = buildDemoModel('default');
const summary = (frame: string) => {
  const f = JSON.parse(frame) as Record<string, unknown>;
  return f.phase ? `${String(f.status)}/${String(f.phase)}` : String(f.status);
};

/** Every temp dir this file makes (CA files, homes), removed when the file's tests end. */
const made: string[] = [];
t.teardown(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

async function server(throttle?: { chunkBytes: number; delayMs: number }) {
  const https = await startHttpsServer({ '/demo.gguf': { kind: 'file', body: bytes, ...(throttle ? { throttle } : {}) } });
  const dir = tempDir('inferd-ca-');
  return { https, caFile: await https.writeCaFile(dir) };
}

t.test('a configured HTTPS model: progress frames in order, then ready; a restart reuses the blob', async (t) => {
  // ~2 MB/s, so the 11.6 MB download spans more than one 5 s progress interval.
  const { https, caFile } = await server({ chunkBytes: 64 * 1024, delayMs: 30 });
  t.teardown(() => https.close());
  // A signed URL: its query must not reach admin subscribers.
  const model = { name: 'demo-remote', sha256: demo.sha256, source_url: `${https.url('/demo.gguf')}?token=s3cret`, size_bytes: demo.sizeBytes };
  const { url, daemon, config } = await startDaemon(t, { model, ca_file: caFile, pull_allow_private: true, threads: 1 }, { start: false });
  const admin = await openAdminStream(url, 'ndjson');
  await admin.until(isStatus('starting'));
  await daemon.start();
  await admin.until(isStatus('ready'));

  const kinds = admin.frames.map(summary);
  const downloads = admin.frames.map((f) => JSON.parse(f)).filter((f) => f.phase === 'download');
  t.same(kinds.filter((k) => k !== 'loading_model/download'), [
    'starting', 'loading_model/checking_local', 'loading_model/verify', 'loading_model/mmap', 'loading_model/kv_cache', 'capabilities', 'ready',
  ]);
  t.equal(kinds.indexOf('loading_model/download'), 2, 'download frames come right after checking_local');
  t.ok(downloads.length >= 3, `a first, at least one timed, and a final download frame (${downloads.length})`);
  t.equal(downloads[0].downloaded_bytes, 0, 'the first download frame says 0');
  t.equal(downloads.at(-1).downloaded_bytes, demo.sizeBytes, 'the last one has downloaded == total');
  t.ok(downloads.every((f) => f.total_bytes === demo.sizeBytes && f.source_url === https.url('/demo.gguf')), 'total and URL on every frame, without the query');
  t.notOk(admin.frames.some((f) => f.includes('s3cret')), 'the query string is redacted');
  t.ok(downloads.every((f, i) => i === 0 || f.downloaded_bytes > downloads[i - 1].downloaded_bytes), 'progress only grows');
  const blob = join(config.models_home, 'blobs', 'sha256', demo.sha256.slice(0, 2), demo.sha256, 'data');
  t.match(JSON.parse(admin.frames[1]!), { phase: 'checking_local', path: blob });
  const served = await inferNdjson(url, { id: 'r', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
  t.equal(served.frames.at(-1)!.type, 'done', 'the downloaded model serves');
  admin.close();
  await daemon.shutdown();

  const again = await startDaemon(t, { model, ca_file: caFile, pull_allow_private: true, threads: 1, models_home: config.models_home }, { start: false });
  const admin2 = await openAdminStream(again.url, 'ndjson');
  await again.daemon.start();
  await admin2.until(isStatus('ready'));
  t.same(admin2.frames.map(summary), ['starting', 'loading_model/checking_local', 'loading_model/mmap', 'loading_model/kv_cache', 'capabilities', 'ready'], 'a cached valid blob skips download and verify');
  t.equal(https.log.filter((r) => r.method === 'GET').length, 1, 'one download in all');
  admin2.close();
});

t.test('kill -9 mid-download, then a restart resumes with Range and fetches fewer bytes', async (t) => {
  const { https, caFile } = await server({ chunkBytes: 32 * 1024, delayMs: 20 }); // ~1.6 MB/s
  t.teardown(() => https.close());
  const home = tempDir('inferd-resume-');
  const configFile = join(home, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      model: { name: 'demo-remote', sha256: demo.sha256, source_url: https.url('/demo.gguf'), size_bytes: demo.sizeBytes },
      ca_file: caFile,
      pull_allow_private: true,
      models_home: join(home, 'models'),
      threads: 1,
    }),
  );
  const first = await spawnDaemon(t, ['--config', configFile]);
  while ((https.log[0]?.bytesSent ?? 0) < 3 * 1024 * 1024) await new Promise((r) => setTimeout(r, 50));
  first.child.kill('SIGKILL');
  t.equal(await first.exited, 'SIGKILL');
  const keptBytes = https.log[0]!.bytesSent;

  const second = await spawnDaemon(t, ['--config', configFile]);
  const admin = await openAdminStream(second.url, 'ndjson');
  await admin.until(isStatus('ready'));
  const gets = https.log.filter((r) => r.method === 'GET');
  t.equal(gets.length, 2, 'one interrupted and one resumed request');
  t.match(gets[1]!.range, /^bytes=\d+-$/, 'the restart asked for a Range');
  t.equal(gets[1]!.status, 206);
  const offset = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range!)![1]);
  t.ok(offset > 0 && offset <= keptBytes, `resumed at ${offset} of ${keptBytes} bytes received before the kill`);
  t.equal(gets[1]!.bytesSent, demo.sizeBytes - offset, 'the second request fetched only the rest');
  t.ok(gets[1]!.bytesSent < demo.sizeBytes);
  const resumedFrom = admin.frames.map((f) => JSON.parse(f)).find((f) => f.phase === 'download');
  t.ok(resumedFrom === undefined || resumedFrom.downloaded_bytes === offset || resumedFrom.downloaded_bytes === 0, 'progress starts at the resume point');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test('a wrong checksum: quarantine, failed, never ready, nothing loaded, no retry loop', async (t) => {
  const { https, caFile } = await server();
  t.teardown(() => https.close());
  const wrong = sha256Hex(Buffer.from('not the demo model'));
  const model = { name: 'demo-remote', sha256: wrong, source_url: https.url('/demo.gguf') };
  const { url, daemon, config } = await startDaemon(t, { model, ca_file: caFile, pull_allow_private: true }, { start: false });
  const admin = await openAdminStream(url, 'ndjson');
  await t.rejects(daemon.start(), { code: 'checksum_mismatch' });
  await admin.until(isStatus('failed'));
  const frames = admin.frames.map((f) => JSON.parse(f));
  const quarantine = frames.find((f) => f.phase === 'quarantine');
  t.match(quarantine, { status: 'loading_model', expected_sha256: wrong, actual_sha256: demo.sha256, quarantine_path: /locks\/quarantine\// });
  t.ok((await stat(quarantine.quarantine_path)).size === demo.sizeBytes, 'the bytes were moved to quarantine');
  t.notOk(frames.some((f) => f.status === 'ready' || f.phase === 'mmap'), 'nothing was loaded');
  t.match(frames.at(-1), { status: 'failed', message: /SHA-256 mismatch|checksum/i });
  t.equal(https.log.filter((r) => r.method === 'GET').length, 1, 'downloaded once, never retried');
  for (const sha of [wrong, demo.sha256]) {
    const blob = join(config.models_home, 'blobs', 'sha256', sha.slice(0, 2), sha, 'data');
    await t.rejects(stat(blob), { code: 'ENOENT' }, `no blob stored under ${sha.slice(0, 8)}…`);
  }
  t.equal(daemon.lifecycle.state, 'failed');
  await daemon.shutdown();

  // A supervisor restarting the daemon must not download (and quarantine) the same bytes again.
  const restarted = await startDaemon(t, { model, ca_file: caFile, pull_allow_private: true, models_home: config.models_home }, { start: false });
  await t.rejects(restarted.daemon.start(), /an earlier download of .* did not match sha256 .* Not downloading it again/);
  t.equal(https.log.filter((r) => r.method === 'GET').length, 1, 'no second download after a restart');
});

t.test('a configured model on a loopback host is refused without pull_allow_private: failed, no request made', async (t) => {
  const { https, caFile } = await server();
  t.teardown(() => https.close());
  const model = { name: 'demo-remote', sha256: demo.sha256, source_url: https.url('/demo.gguf') };
  const { daemon, config } = await startDaemon(t, { model, ca_file: caFile }, { start: false });
  await t.rejects(daemon.start(), { code: 'url_not_allowed', message: /127\.0\.0\.1 is a private address.*pull_allow_private/ });
  t.match(JSON.parse(daemon.lifecycle.bus.snapshot.frame), { status: 'failed', message: /pull_allow_private/ });
  t.equal(https.log.length, 0, 'no request reached the server');
  await t.rejects(stat(join(config.models_home, 'blobs', 'sha256', demo.sha256.slice(0, 2), `.partial-${demo.sha256}`)), { code: 'ENOENT' }, 'no partial');
});

t.test('auto_pull:false with the blob absent names inferd pull', async (t) => {
  const model = { name: 'absent', sha256: demo.sha256, source_url: 'https://127.0.0.1:9/never.gguf' };
  const { daemon } = await startDaemon(t, { model, auto_pull: false }, { start: false });
  await t.rejects(daemon.start(), /inferd pull/);
  t.match(JSON.parse(daemon.lifecycle.bus.snapshot.frame), { status: 'failed', message: /inferd pull/ });
});

t.test('an http:// source_url is refused at config load: exit 2 naming the key', async (t) => {
  const home = tempDir('inferd-http-');
  const configFile = join(home, 'config.json');
  await writeFile(configFile, JSON.stringify({ model: { name: 'x', sha256: demo.sha256, source_url: 'http://example.com/x.gguf' } }));
  await t.rejects(spawnDaemon(t, ['--config', configFile]), /exited \(2\) before listening[\s\S]*model = .*https/);
});
