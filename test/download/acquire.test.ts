// acquireModel for the cases that need no download: local files, auto_pull: false, manifests.
import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ggufLikePayload, sha256Hex, startHttpServer } from '../helpers/https-server.js';
import { acquireModel } from '../../src/download/acquire.js';
import { sourceFromUrl } from '../../src/store/manifest.js';
import { importFile } from '../../src/store/store-import.js';
import { collect, tempStore } from '../store/fixtures/temp-store.js';

t.test('a {path} model: checking_local with the path, must be a regular file', async (t) => {
  const { store, dir } = await tempStore(t);
  const file = join(dir, 'local.gguf');
  await writeFile(file, ggufLikePayload(4096));
  const { events, onEvent } = collect();
  const got = await acquireModel({ path: file }, store, { onEvent });
  t.same(got, { path: file, name: 'local', sizeBytes: 4096, source: 'local' });
  t.same(events, [{ phase: 'checking_local', path: file }]);

  await t.rejects(acquireModel({ path: join(dir, 'absent.gguf') }, store), { code: 'model_missing', message: /does not exist/ });
  await mkdir(join(dir, 'a-dir.gguf'));
  await t.rejects(acquireModel({ path: join(dir, 'a-dir.gguf') }, store), { code: 'model_invalid', message: /not a regular file/ });
});

t.test('auto_pull false: a missing blob names `inferd pull`; a present one needs no network', async (t) => {
  const { store, dir } = await tempStore(t);
  // source_url points at a host that cannot resolve: any network use would fail the test.
  const body = ggufLikePayload(8192);
  const sha = sha256Hex(body);
  const model = { name: 'pinned', sha256: sha, source_url: 'https://models.invalid/pinned.gguf', size_bytes: body.length };
  const { events, onEvent } = collect();
  const err = await acquireModel(model, store, { autoPull: false, onEvent }).catch((e: unknown) => e);
  t.match(err, { code: 'model_missing' });
  t.match((err as Error).message, /model pinned not present in store at .*auto_pull is disabled\. Run `inferd pull` or set auto_pull: true in config\./);
  t.same(events, [{ phase: 'checking_local', path: store.blobPath(sha) }]);

  // Import the bytes (no network), then the same config resolves from the store.
  const file = join(dir, 'p.gguf');
  await writeFile(file, body);
  await importFile(store, 'elsewhere', file);
  const again = collect();
  const got = await acquireModel(model, store, { autoPull: false, onEvent: again.onEvent });
  t.same(got, { path: store.blobPath(sha), sha256: sha, name: 'pinned', sizeBytes: body.length, source: 'store' });
  t.same(again.phases(), ['checking_local']);
  const manifest = JSON.parse(await readFile(store.layout.manifestPath('pinned'), 'utf8'));
  t.match(manifest, { name: 'pinned', blob: `sha256:${sha}`, source: { url: model.source_url, registry: 'models.invalid' } });
});

t.test('a cached blob is found without any request, even with auto_pull true', async (t) => {
  const { store, dir } = await tempStore(t);
  const plain = await startHttpServer({});
  t.teardown(() => plain.close());
  const body = ggufLikePayload(2048);
  const sha = sha256Hex(body);
  await writeFile(join(dir, 'c.gguf'), body);
  await importFile(store, 'c', join(dir, 'c.gguf'));
  const got = await acquireModel({ name: 'c', sha256: sha, source_url: 'https://models.invalid/c.gguf' }, store);
  t.equal(got.source, 'store');
  t.equal(plain.log.length, 0);
});

t.test('manifest source: no query string or credentials; Hugging Face repo and revision', async (t) => {
  t.same(sourceFromUrl('https://user:pw@huggingface.co/org/repo/resolve/0123abc/dir/model-Q4.gguf?download=true&token=secret'), {
    kind: 'download',
    url: 'https://huggingface.co/org/repo/resolve/0123abc/dir/model-Q4.gguf',
    registry: 'huggingface.co',
    filename: 'model-Q4.gguf',
    repo: 'org/repo',
    revision: '0123abc',
  });
});
