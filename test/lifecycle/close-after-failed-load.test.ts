// The daemon's close after a model that llama.cpp refused. node-llama-cpp 3.21.1 leaves a
// disposal guard on the runtime for such a model, released only while the failed model object is
// still in memory: once the garbage collector has taken it, llama.dispose() never settles. That
// hung the suite at random (reload.test.ts's teardown, on loaded machines, where a collection
// fell between the failed reload and the shutdown). Here the collection is forced.
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { ErrorFrame } from '../../src/protocol/v1.js';
import { DEMO_BUILD_OPTIONS } from '../../src/demo-model/index.js';
import { encodeGguf } from '../../src/demo-model/gguf-writer.js';
import { buildDemoParts } from '../../src/demo-model/model-builder.js';
import { createModelSource } from '../../src/lifecycle/model-source.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';
import { startDaemon, testConfig } from '../helpers/daemon.js';
import { collectGarbage } from '../helpers/gc.js';
import { postJson } from '../helpers/http.js';

/** 'settled', or 'hung' when `work` has not settled within `ms` (a bound for the test only). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<'settled' | 'hung'> {
  const timer = new AbortController();
  const outcome = await Promise.race([
    work.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    sleep(ms, 'hung' as const, { signal: timer.signal }),
  ]);
  timer.abort();
  return outcome;
}

/** A file that passes inferd's header check but that llama.cpp refuses: a tensor is missing. */
async function brokenModel(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-failed-load-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const parts = buildDemoParts(DEMO_BUILD_OPTIONS.tiny);
  const path = join(dir, 'no-output-norm.gguf');
  await writeFile(path, encodeGguf(parts.kvs, parts.tensors.filter((tensor) => tensor.name !== 'output_norm.weight')));
  return path;
}

t.test('the model source closes after llama.cpp refused a model and the failed model was collected', async (t) => {
  const path = await brokenModel(t);
  const source = createModelSource(await testConfig(), pino({ level: 'silent' }));
  await t.rejects(source.load({ path, sizeBytes: 0 }, () => {}, new AbortController().signal), { code: 'model_load_failed' });
  await collectGarbage();
  t.equal(await settlesWithin(source.close(), 20_000), 'settled', 'close() settles');
});

t.test('the daemon shuts down after a reload to a refused model rolled back', async (t) => {
  const path = await brokenModel(t);
  const { url, daemon } = await startDaemon(t);
  const admin = await openAdminStream(url, 'ndjson');
  await admin.until(isStatus('ready'));
  const mark = admin.frames.length;
  const res = await postJson<ErrorFrame>(`${url}/admin/reload`, { path });
  t.equal(res.status, 500, 'the reload failed');
  await admin.until(isStatus('ready'), mark);
  await collectGarbage();
  t.equal(await settlesWithin(daemon.shutdown(), 20_000), 'settled', 'shutdown() settles');
});
