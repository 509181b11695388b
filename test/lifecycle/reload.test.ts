// Reload without a restart: POST /admin/reload and SIGHUP. In-flight work finishes first,
// inference answers 503 meanwhile, the reload ends with capabilities and ready, and a failed
// reload goes back to the previous model.
import { mkdtempSync } from 'node:fs';
import { chmod, copyFile, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame, ErrorFrame } from '../../src/protocol/v1.js';
import { DEMO_BUILD_OPTIONS } from '../../src/demo-model/index.js';
import { encodeGguf } from '../../src/demo-model/gguf-writer.js';
import { buildDemoParts } from '../../src/demo-model/model-builder.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { inferNdjson, postJson } from '../helpers/http.js';

const hi = [{ role: 'user', content: 'hi' }];
const summary = (frame: string) => {
  const f = JSON.parse(frame) as Record<string, unknown>;
  return f.phase ? `${String(f.status)}/${String(f.phase)}` : String(f.status);
};

t.test('POST /admin/reload', async (t) => {
  const { url, daemon } = await startDaemon(t, { queue_depth: 2 });
  const admin = await openAdminStream(url, 'ndjson');
  await admin.until(isStatus('ready'));
  const before = admin.frames.length;

  t.test('in-flight work finishes, new work gets 503, then the model serves again', async (t) => {
    const inFlight = inferNdjson(url, { id: 'old', messages: hi, grammar: 'root ::= [0-9]+', max_tokens: 1500 });
    while (daemon.gate.admission.active === 0) await new Promise((r) => setTimeout(r, 5));
    const reload = request(`${url}/admin/reload`, { method: 'POST' }); // no body: reload the same model
    await admin.until((f) => f.status === 'restarting');
    const during = await postJson<ErrorFrame>(`${url}/infer`, { id: 'during', messages: hi });
    t.equal(during.status, 503, 'inference answers 503 while reloading');
    t.equal(during.body.code, 'backend_unavailable');
    const done = (await inFlight).frames.at(-1) as DoneFrame;
    t.equal(done.stop_reason, 'length', 'the in-flight request ran to completion');
    const res = await reload;
    t.equal(res.statusCode, 200);
    t.match(await res.body.json(), { status: 'ready' });
    await admin.until(isStatus('ready'), before);
    const frames = admin.frames.slice(before).map(summary);
    t.same(frames, ['restarting/drain', 'restarting/checking_local', 'restarting/mmap', 'restarting/kv_cache', 'capabilities', 'ready']);
    t.match(JSON.parse(admin.frames[before]!), { in_flight: 1 }, 'the drain phase counts the request it waits for');
    const after = await inferNdjson(url, { id: 'after', messages: hi, max_tokens: 3 });
    t.equal(after.frames.at(-1)!.type, 'done', 'serving again');
  });

  t.test('a reload can switch to another model file', async (t) => {
    const other = await demoModelPath('default');
    const res = await postJson<{ status: string; path: string }>(`${url}/admin/reload`, { path: other });
    t.equal(res.status, 200);
    t.same(res.body, { status: 'ready', path: other });
    t.match(JSON.parse(daemon.lifecycle.bus.capabilities!.frame), { backend: 'inferd-demo', model: other });
  });

  t.test('a missing, unreadable or non-GGUF file is refused with 404/422 and nothing happens', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-reload-bad-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const good = await demoModelPath('default');
    const truncated = join(dir, 'truncated.gguf');
    const handle = await open(good, 'r');
    const head = Buffer.alloc(100_000);
    await handle.read(head, 0, head.length, 0);
    await handle.close();
    await writeFile(truncated, head); // a GGUF cut short
    const text = join(dir, 'passwd.gguf');
    await writeFile(text, 'root:x:0:0:root:/root:/bin/bash\n');
    const unreadable = join(dir, 'unreadable.gguf');
    await copyFile(good, unreadable);
    await chmod(unreadable, 0o000);
    const cases: Array<[string, string, number, string, RegExp]> = [
      ['a missing file', join(dir, 'absent.gguf'), 404, 'model_not_found', /does not exist/],
      ['a directory', dir, 422, 'model_invalid', /not a regular file/],
      ['a text file', text, 422, 'model_invalid', /GGUF|magic/i],
      ['a truncated GGUF', truncated, 422, 'model_invalid', /truncat|past the end|GGUF/i],
    ];
    // Root reads a mode-000 file anyway: only check unreadability where it is real.
    if (process.getuid?.() !== 0) cases.push(['an unreadable file', unreadable, 422, 'model_invalid', /EACCES|cannot read/]);
    const serving = JSON.parse(daemon.lifecycle.bus.capabilities!.frame).model as string;
    for (const [label, path, status, code, message] of cases) {
      const mark = admin.frames.length;
      const res = await postJson<ErrorFrame>(`${url}/admin/reload`, { path });
      t.equal(res.status, status, `${label}: ${status}`);
      t.match(res.body, { type: 'error', code, message }, `${label}: ${code}`);
      t.same(admin.frames.slice(mark).map(summary), [], `${label}: no restarting frame, nothing published`);
      t.equal(daemon.lifecycle.state, 'ready', `${label}: still ready`);
    }
    t.match(JSON.parse(daemon.lifecycle.bus.capabilities!.frame), { model: serving }, 'the same model serves');
    const after = await inferNdjson(url, { id: 'still', messages: hi, max_tokens: 3 });
    t.equal(after.frames.at(-1)!.type, 'done');
  });

  t.test('a reload that passes the checks but fails to load rolls back and says so', async (t) => {
    const good = JSON.parse(daemon.lifecycle.bus.capabilities!.frame).model as string;
    const dir = mkdtempSync(join(tmpdir(), 'inferd-reload-load-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    // Passes the header check, but llama.cpp refuses it: a tensor is missing.
    const parts = buildDemoParts(DEMO_BUILD_OPTIONS.tiny);
    const broken = join(dir, 'no-output-norm.gguf');
    await writeFile(broken, encodeGguf(parts.kvs, parts.tensors.filter((tensor) => tensor.name !== 'output_norm.weight')));
    const mark = admin.frames.length;
    const res = await postJson<ErrorFrame>(`${url}/admin/reload`, { path: broken });
    await admin.until(isStatus('ready'), mark);
    t.equal(res.status, 500);
    t.match(res.body, { type: 'error', code: 'internal', message: /^reload failed: / });
    t.match(res.body.message, new RegExp(`still serving ${good.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const frames = admin.frames.slice(mark).map(summary);
    t.same(frames.slice(0, 2), ['restarting/drain', 'restarting/checking_local']);
    t.ok(frames.includes('restarting/rollback'), 'the rollback is published');
    t.same(frames.slice(-2), ['capabilities', 'ready'], 'and the daemon is ready again');
    t.match(JSON.parse(daemon.lifecycle.bus.capabilities!.frame), { model: good }, 'the previous model serves');
    const after = await inferNdjson(url, { id: 'still', messages: hi, max_tokens: 3 });
    t.equal(after.frames.at(-1)!.type, 'done');
  });

  t.test('reload while not ready is a 409', async (t) => {
    const { url: idleUrl } = await startDaemon(t, {}, { start: false });
    const res = await postJson<ErrorFrame>(`${idleUrl}/admin/reload`, {});
    t.equal(res.status, 409);
    t.match(res.body.message, /cannot reload while the daemon is starting/);
  });
});

t.test('SIGHUP reloads the model', async (t) => {
  const daemon = await spawnDaemon(t, ['--model', await demoModelPath('tiny'), '--threads', '1']);
  const admin = await openAdminStream(daemon.url, 'ndjson');
  await admin.until(isStatus('ready'));
  const mark = admin.frames.length;
  daemon.child.kill('SIGHUP');
  await admin.until(isStatus('ready'), mark);
  t.same(admin.frames.slice(mark).map(summary), ['restarting/drain', 'restarting/checking_local', 'restarting/mmap', 'restarting/kv_cache', 'capabilities', 'ready']);
  daemon.child.kill('SIGTERM');
  t.equal(await daemon.exited, 0);
});

t.test('a shutdown during a reload wins: nothing is published after draining', async (t) => {
  const { url, daemon } = await startDaemon(t, { drain_timeout_ms: 2000 });
  const admin = await openAdminStream(url, 'ndjson');
  await admin.until(isStatus('ready'));
  const inFlight = inferNdjson(url, { id: 'busy', messages: hi, grammar: 'root ::= [0-9]+', max_tokens: 1500 });
  while (daemon.gate.admission.active === 0) await new Promise((r) => setTimeout(r, 5));
  const reload = postJson(`${url}/admin/reload`, {}).catch(() => null); // waits for the request above
  await admin.until((f) => f.status === 'restarting');
  await daemon.shutdown();
  await admin.ended;
  await inFlight.catch(() => null);
  await reload;
  const statuses = admin.frames.map((f) => JSON.parse(f).status as string);
  t.equal(statuses.at(-1), 'draining', 'draining is the last frame');
  t.equal(statuses.indexOf('draining'), statuses.length - 1, 'no restarting, capabilities or ready after it');
  t.equal(daemon.lifecycle.state, 'stopped');
});

t.test('when the rollback fails too, the process exits 1 for its supervisor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-rollback-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const model = join(dir, 'model.gguf');
  await copyFile(await demoModelPath('tiny'), model);
  const daemon = await spawnDaemon(t, ['--model', model, '--threads', '1']);
  const admin = await openAdminStream(daemon.url, 'ndjson');
  await admin.until(isStatus('ready'));
  // A file that passes the header check but that llama.cpp refuses: a tensor is missing.
  const parts = buildDemoParts(DEMO_BUILD_OPTIONS.tiny);
  const broken = join(dir, 'no-output-norm.gguf');
  await writeFile(broken, encodeGguf(parts.kvs, parts.tensors.filter((tensor) => tensor.name !== 'output_norm.weight')));
  await rm(model); // and the model being served disappears from disk, so going back fails too
  const res = await postJson<ErrorFrame>(`${daemon.url}/admin/reload`, { path: broken });
  t.equal(res.status, 500);
  await admin.until(isStatus('failed'));
  t.equal(await daemon.exited, 1, 'nothing left to serve: exit 1');
  t.match(daemon.stderr(), /inferd: reload failed .* and the previous model could not be loaded again/);
});
