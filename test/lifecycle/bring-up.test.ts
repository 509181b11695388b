// The lifecycle as subscribers see it on GET /admin/status: order, snapshot on late connect,
// identical bytes for every subscriber and both framings, and the demo model kept in the store.
import { stat } from 'node:fs/promises';
import t from 'tap';
import { request } from 'undici';
import { startDaemon } from '../helpers/daemon.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';

const summary = (frame: string) => {
  const f = JSON.parse(frame) as Record<string, unknown>;
  return f.phase ? `${String(f.status)}/${String(f.phase)}` : String(f.status);
};

t.test('from t=0: the full ordered sequence, identical for every subscriber and framing', async (t) => {
  // No model configured: the built-in demo model is built into a fresh store on first start.
  const { url, daemon, config } = await startDaemon(t, { model: undefined }, { start: false });
  const first = await openAdminStream(url, 'ndjson');
  const second = await openAdminStream(url, 'ndjson');
  const sse = await openAdminStream(url, 'sse');
  await Promise.all([first, second, sse].map((s) => s.until(isStatus('starting'))));
  await daemon.start();
  await Promise.all([first, second, sse].map((s) => s.until(isStatus('ready'))));

  t.same(first.frames.map(summary), [
    'starting',
    'loading_model/checking_local',
    'loading_model/mmap',
    'loading_model/kv_cache',
    'capabilities',
    'ready',
  ]);
  const frames = first.frames.map((f) => JSON.parse(f) as Record<string, unknown>);
  t.ok(frames.every((f) => f.id === 'admin' && f.type === 'status'), 'every frame has the admin envelope');
  t.match(frames[1], { path: new RegExp(`^${config.models_home}/blobs/sha256/`) }, 'checking_local names the store blob');
  t.equal(frames[2]!.path, frames[1]!.path, 'mmap loads that path');
  t.equal(frames[3]!.n_ctx, 8192);
  t.match(frames[4], { backend: 'inferd-demo', wire_version: 1, embed: true, accelerator: 'cpu', gpu_layers: 0, vision: false, audio: false, thinking: false, v2: false });
  t.same(second.frames, first.frames, 'two subscribers see identical sequences');
  t.same(sse.frames, first.frames, 'SSE and NDJSON carry byte-identical JSON');
  t.same(sse.ids, sse.ids.map((_, i) => sse.ids[0]! + i), 'SSE event ids are consecutive');
  for (const s of [first, second, sse]) s.close();

  t.test('a late subscriber gets the capabilities, then the snapshot', async (t) => {
    const late = await openAdminStream(url, 'ndjson');
    await late.until(isStatus('ready'));
    t.same(late.frames, first.frames.slice(-2), 'capabilities + ready, byte for byte');
    late.close();
  });

  t.test('readyz answers 200 with the ready frame', async (t) => {
    const res = await request(`${url}/readyz`);
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), first.frames.at(-1));
  });

  t.test('SSE headers: no buffering by proxies, a retry delay', async (t) => {
    const res = await request(`${url}/admin/status?format=sse`);
    t.match(res.headers['content-type'], /^text\/event-stream/);
    t.equal(res.headers['x-accel-buffering'], 'no');
    t.equal(res.headers['cache-control'], 'no-cache');
    const reader = res.body[Symbol.asyncIterator]();
    const { value } = await reader.next();
    t.match(String(value), /^retry: \d+\n\n/);
    await reader.return?.();
  });
});

t.test('the demo model is built once and reused', async (t) => {
  const one = await startDaemon(t, { model: undefined });
  const blob = JSON.parse(one.daemon.lifecycle.bus.capabilities!.frame) as { model: string };
  const before = await stat(blob.model);
  await one.daemon.shutdown();
  const two = await startDaemon(t, { model: undefined, models_home: one.config.models_home });
  const again = JSON.parse(two.daemon.lifecycle.bus.capabilities!.frame) as { model: string };
  t.equal(again.model, blob.model, 'same store blob');
  const after = await stat(again.model);
  t.equal(after.ino, before.ino, 'not rebuilt: the same file');
  t.equal(after.mtimeMs, before.mtimeMs);
});
