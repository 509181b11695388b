// The store itself: import, manifests, resolve/list, traversal refusal, reconcile.
import t from 'tap';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ggufLikePayload, sha256Hex } from '../helpers/https-server.js';
import { InferdError } from '../../src/errors.js';
import { StoreLayout } from '../../src/store/layout.js';
import { ModelStore } from '../../src/store/model-store.js';
import { reconcileStore } from '../../src/store/reconcile.js';
import { writeSidecar } from '../../src/store/sidecar.js';
import { importFile } from '../../src/store/store-import.js';
import { tempDir, tempStore } from './fixtures/temp-store.js';

/** Every path under `dir`, recursively, relative to it. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

t.test('import: hash, copy in, manifest last; list and resolve find it', async (t) => {
  const { store, dir } = await tempStore(t);
  const body = ggufLikePayload(300 * 1024);
  const sha = sha256Hex(body);
  const file = join(dir, 'model.gguf');
  await writeFile(file, body);

  const res = await importFile(store, 'my-model', file, { license: 'apache-2.0' });
  t.equal(res.sha256, sha);
  t.equal(res.blobCreated, true);
  t.equal(res.path, join(store.root, 'blobs', 'sha256', sha.slice(0, 2), sha, 'data'));
  t.same(await readFile(res.path), body);

  const text = await readFile(join(store.root, 'manifests', 'my-model.json'), 'utf8');
  t.ok(text.endsWith('}\n'), 'pretty JSON with a trailing newline');
  t.match(JSON.parse(text), {
    schema_version: 1,
    name: 'my-model',
    format: 'gguf',
    blob: `sha256:${sha}`,
    size_bytes: body.length,
    license: 'apache-2.0',
    source: { kind: 'import', filename: 'model.gguf' },
    produced_by: /^inferd\//,
    produced_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
  });
  t.same(await readdir(join(store.root, 'manifests')), ['my-model.json'], 'no temp files left in manifests/');
  t.same(await readdir(join(store.root, 'blobs', 'sha256')), [sha.slice(0, 2)], 'no import temp dir left');

  const resolved = await store.resolve('my-model');
  t.match(resolved, { name: 'my-model', sha256: sha, path: res.path, sizeBytes: body.length });
  t.equal(await store.resolve('other'), null);
  const list = await store.list();
  t.same(list.map((m) => [m.name, m.sha256, m.present]), [['my-model', sha, true]]);

  // Same bytes under a second name: one blob, two manifests.
  const again = await importFile(store, 'alias', file, { expectSha256: sha });
  t.equal(again.blobCreated, false);
  t.same((await store.list()).map((m) => m.name), ['alias', 'my-model']);
});

t.test('import with a wrong expected sha256 refuses and leaves nothing behind', async (t) => {
  const { store, dir } = await tempStore(t);
  const file = join(dir, 'model.gguf');
  await writeFile(file, ggufLikePayload(10_000));
  const before = await tree(store.root);
  await t.rejects(importFile(store, 'm', file, { expectSha256: '0'.repeat(64) }), {
    code: 'checksum_mismatch',
    message: /has sha256 [0-9a-f]{64}, expected 0{64}; nothing was imported/,
  });
  t.same(await tree(store.root), before, 'store unchanged');
  await t.rejects(importFile(store, 'm', file, { expectSha256: 'ABC' }), { code: 'invalid_request' });
  await t.rejects(importFile(store, 'm', join(dir, 'absent.gguf')), { code: 'model_not_found', status: 404, message: /cannot read/ });
  await t.rejects(importFile(store, 'm', dir), { code: 'model_invalid', status: 422, message: /not a regular file/ });
  t.same(await tree(store.root), before, 'store unchanged');
});

t.test('import runs the check hook on the copy; a refusal leaves nothing behind', async (t) => {
  const { store, dir } = await tempStore(t);
  const file = join(dir, 'model.gguf');
  await writeFile(file, 'root:x:0:0:root:/root:/bin/bash\n');
  const before = await tree(store.root);
  const seen: string[] = [];
  const check = async (copy: string) => {
    seen.push(copy);
    throw new InferdError('model_invalid', 'not a GGUF file');
  };
  await t.rejects(importFile(store, 'bad', file, { check }), { code: 'model_invalid', message: 'not a GGUF file' });
  t.equal(seen.length, 1);
  t.not(seen[0], file, 'the private copy is what gets checked');
  t.same(await tree(store.root), before, 'no blob, no manifest, no temp copy');
  t.same(await store.list(), []);
});

t.test('traversal-shaped names and digests are refused; nothing is created outside the store', async (t) => {
  const base = await tempDir(t);
  const store = await ModelStore.open(join(base, 'models'));
  const file = join(base, 'f.gguf');
  await writeFile(file, 'GGUF');
  const before = await tree(base);
  const names = ['..', '../x', '../../etc/passwd', '/abs', 'a/b', 'a\\b', 'nul\0byte', 'UPPER', '.hidden', '', 'x'.repeat(65), 'sha256:../../x'];
  for (const name of names) {
    await t.rejects(importFile(store, name, file), { code: 'invalid_request' }, `import ${JSON.stringify(name)}`);
    await t.rejects(store.resolve(name), { code: 'invalid_request' }, `resolve ${JSON.stringify(name)}`);
    t.throws(() => store.layout.manifestPath(name), { code: 'invalid_request' });
    t.throws(() => store.layout.nameLockPath(name), { code: 'invalid_request' });
  }
  const digests = ['..', '../' + 'a'.repeat(61), 'A'.repeat(64), 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'a'.repeat(63) + '/', 'a'.repeat(63) + '\\'];
  for (const sha of digests) {
    t.throws(() => store.layout.blobPath(sha), { code: 'invalid_request' }, `blob ${JSON.stringify(sha)}`);
    t.throws(() => store.layout.partialDir(sha), { code: 'invalid_request' });
    await t.rejects(importFile(store, 'ok', file, { expectSha256: sha }), { code: 'invalid_request' });
  }
  t.throws(() => store.layout.inside('..', 'x'), { code: 'store_invalid' }, 'the containment check itself');
  t.throws(() => new StoreLayout('relative/root'), { code: 'store_invalid' });
  t.same(await tree(base), before, 'nothing was created anywhere');
});

t.test('resolve: a corrupt manifest is store_invalid and list() skips it', async (t) => {
  const { store } = await tempStore(t);
  await writeFile(join(store.root, 'manifests', 'broken.json'), '{"schema_version":1,');
  await writeFile(join(store.root, 'manifests', 'wrong.json'), JSON.stringify({ schema_version: 2, name: 'wrong' }));
  await t.rejects(store.resolve('broken'), { code: 'store_invalid', message: /not valid JSON/ });
  await t.rejects(store.resolve('wrong'), { code: 'store_invalid', message: /not a v1 manifest/ });
  t.same(await store.list(), []);
});

t.test('reconcile: reports partials and orphans, sets aside dangling and invalid manifests', async (t) => {
  const { store, dir } = await tempStore(t);
  const a = ggufLikePayload(20_000, 1);
  const b = ggufLikePayload(20_000, 2);
  await writeFile(join(dir, 'a.gguf'), a);
  await writeFile(join(dir, 'b.gguf'), b);
  const keep = await importFile(store, 'keep', join(dir, 'a.gguf'));
  const gone = await importFile(store, 'gone', join(dir, 'b.gguf'));
  // Dangling: the blob of "gone" disappears (e.g. deleted by hand).
  await rm(store.layout.blobDir(gone.sha256), { recursive: true });
  // Orphan: a blob whose manifest was removed.
  const c = ggufLikePayload(5_000, 3);
  await writeFile(join(dir, 'c.gguf'), c);
  const orphan = await importFile(store, 'orphan', join(dir, 'c.gguf'));
  await rm(store.layout.manifestPath('orphan'));
  // A resumable partial and a partial without sidecar.
  const pSha = 'ab'.padEnd(64, '1');
  await mkdir(store.layout.partialDir(pSha), { recursive: true });
  await writeFile(store.layout.partialDataPath(pSha), Buffer.alloc(1234));
  await writeSidecar(store.layout.sidecarPath(pSha), { url: 'https://example.com/x.gguf', etag: '"e"', last_modified: null, total_bytes: 5000, sha256: pSha });
  const qSha = 'cd'.padEnd(64, '2');
  await mkdir(store.layout.partialDir(qSha), { recursive: true });
  await writeFile(store.layout.partialDataPath(qSha), Buffer.alloc(10));
  // An invalid manifest, a leftover import of a dead process, and a stranger.
  await writeFile(join(store.root, 'manifests', 'junk.json'), 'not json');
  const deadImport = join(store.root, 'blobs', 'sha256', '.import-999999999-0123456789abcdef');
  await mkdir(deadImport);
  await writeFile(join(deadImport, 'data.tmp'), 'x');
  await writeFile(join(store.root, 'blobs', 'sha256', 'README'), 'hi');

  const report = await reconcileStore(store);
  t.same(report.partials.map((p) => [p.sha256, p.bytes, p.totalBytes, p.resumable]).sort(), [
    [pSha, 1234, 5000, true],
    [qSha, 10, null, false],
  ]);
  t.same(report.orphanBlobs.map((o) => o.sha256), [orphan.sha256]);
  t.same(report.danglingManifests.map((d) => [d.name, d.sha256]), [['gone', gone.sha256]]);
  t.match(report.danglingManifests[0]!.movedTo, /locks\/quarantine\/\d{8}T\d{6}Z-dangling-manifest-gone\.json$/);
  t.same(report.invalidManifests.map((i) => i.file), [join(store.root, 'manifests', 'junk.json')]);
  t.same(report.removed, [deadImport]);
  t.same(report.unknown, [join(store.root, 'blobs', 'sha256', 'README')]);

  // Afterwards no manifest points at a missing blob, and the good model is untouched.
  t.same((await store.list()).map((m) => [m.name, m.present]), [['keep', true]]);
  t.equal(await store.resolve('gone'), null);
  t.same(await readFile(keep.path), a);
  const again = await reconcileStore(store);
  t.same([again.danglingManifests, again.invalidManifests, again.removed], [[], [], []], 'a second run finds nothing to fix');
});

t.test('writeManifest refuses to point at a missing blob', async (t) => {
  const { store } = await tempStore(t);
  await t.rejects(store.writeManifest({ name: 'x', sha256: 'a'.repeat(64), sizeBytes: 1, source: {} }), { code: 'store_invalid' });
  t.same(await readdir(join(store.root, 'manifests')), []);
});
