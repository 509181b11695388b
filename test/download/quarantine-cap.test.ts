// The quarantine folder is capped (quarantine_max_files / quarantine_max_bytes): the oldest
// entries go, the newest always stays, and the `quarantine` frame lists what was removed.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { pullModel } from '../../src/download/pull.js';
import { ModelStore } from '../../src/store/model-store.js';
import { ggufLikePayload, sha256Hex } from '../helpers/https-server.js';
import { collect, serveHttps, tempDir } from '../store/fixtures/temp-store.js';

const KiB = 1024;

async function quarantined(store: ModelStore): Promise<string[]> {
  return (await readdir(store.layout.quarantineDir)).map((f) => join(store.layout.quarantineDir, f)).sort();
}

t.test('count cap: a second mismatch removes the first quarantined file and the frame says so', async (t) => {
  const body = ggufLikePayload(48 * KiB);
  const { server, agent } = await serveHttps(t, { '/m.gguf': { kind: 'file', body } });
  const store = await ModelStore.open(join(await tempDir(t), 'models'), { quarantine: { maxFiles: 1, maxBytes: 0 } });
  const wrong = sha256Hex(Buffer.from('something else'));
  const spec = { name: 'm', sha256: wrong, url: server.url('/m.gguf') };
  const opts = { allowPrivate: true, dispatcher: agent, retryKnownMismatch: true };

  const first = collect();
  await t.rejects(pullModel(store, spec, { ...opts, onEvent: first.onEvent }), { code: 'checksum_mismatch' });
  const q1 = first.events.find((e) => e.phase === 'quarantine');
  t.ok(q1 && q1.phase === 'quarantine' && q1.quarantine_removed === undefined, 'nothing removed the first time: the field is absent');
  const firstPath = q1?.phase === 'quarantine' ? q1.quarantine_path : '';

  const second = collect();
  await t.rejects(pullModel(store, spec, { ...opts, onEvent: second.onEvent }), { code: 'checksum_mismatch' });
  const q2 = second.events.find((e) => e.phase === 'quarantine');
  t.match(q2, { phase: 'quarantine', quarantine_removed: [firstPath] });
  const secondPath = q2?.phase === 'quarantine' ? q2.quarantine_path : '';
  t.same(await quarantined(store), [secondPath], 'only the newest file is left');
  t.equal((await stat(secondPath)).size, body.length);
});

t.test('byte cap: oldest first, and the newest stays even when it alone is over the cap', async (t) => {
  const store = await ModelStore.open(join(await tempDir(t), 'models'), { quarantine: { maxFiles: 0, maxBytes: 10 * KiB } });
  const moved: string[] = [];
  for (const [i, size] of [4, 4, 4].entries()) {
    const src = store.path('blobs', `junk-${i}`);
    await writeFile(src, Buffer.alloc(size * KiB, i));
    const r = await store.quarantine(src, `test-${i}`);
    moved.push(r.path);
    t.same(r.removed, i < 2 ? [] : [moved[0]], `move ${i}: ${i < 2 ? 'within the cap' : 'the oldest goes'}`);
  }
  t.same(await quarantined(store), [moved[1], moved[2]].sort());
  const big = store.path('blobs', 'big');
  await writeFile(big, Buffer.alloc(12 * KiB));
  const r = await store.quarantine(big, 'big');
  t.same(r.removed.sort(), [moved[1], moved[2]].sort(), 'everything older is removed');
  t.same(await quarantined(store), [r.path], 'the newest is kept although it is over the cap');
});

t.test('no caps (0, 0): nothing is ever removed', async (t) => {
  const store = await ModelStore.open(join(await tempDir(t), 'models'), { quarantine: { maxFiles: 0, maxBytes: 0 } });
  for (let i = 0; i < 3; i++) {
    const src = store.path('blobs', `junk-${i}`);
    await writeFile(src, 'x');
    t.same((await store.quarantine(src, 'n')).removed, []);
  }
  t.equal((await quarantined(store)).length, 3);
});
