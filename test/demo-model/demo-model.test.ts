import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildDemoModel, DEMO_MODELS, writeDemoModel, type DemoVariant } from '../../src/demo-model/index.js';
import { corpusParagraphs } from '../../src/demo-model/corpus/index.js';
import { checkGgufFile } from '../../src/engine/gguf-check.js';
import { demoModelPath } from '../helpers/demo-model.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const variant of ['tiny', 'default'] as const satisfies readonly DemoVariant[]) {
  t.test(`${variant}: the build matches the pinned sha256 and is deterministic`, async (t) => {
    const spec = DEMO_MODELS[variant];
    const a = buildDemoModel(variant);
    const b = buildDemoModel(variant);
    t.ok(a.equals(b), 'two builds give identical bytes');
    t.equal(sha256(a), spec.sha256, 'sha256 equals the pinned constant (re-pin only on purpose)');
    t.equal(a.length, spec.sizeBytes, 'size equals the pinned constant');
    t.equal(spec.variant, variant);
    t.equal(spec.name, variant === 'default' ? 'inferd-demo' : 'inferd-demo-tiny');
  });
}

t.test('product targets: default <= 16 MB, tiny smaller', async (t) => {
  t.ok(DEMO_MODELS.default.sizeBytes <= 16 * 1024 * 1024);
  t.ok(DEMO_MODELS.tiny.sizeBytes < DEMO_MODELS.default.sizeBytes);
  t.equal(buildDemoModel().length, DEMO_MODELS.default.sizeBytes, "the default variant is 'default'");
});

t.test('the corpus is 40-80 KB of plain ASCII prose', async (t) => {
  const paragraphs = corpusParagraphs();
  const text = paragraphs.join('\n');
  t.ok(text.length >= 40_000 && text.length <= 80_000, `${text.length} chars`);
  t.ok(paragraphs.length >= 100, `${paragraphs.length} paragraphs`);
  t.match(text, /^[\x20-\x7e\n]+$/, 'printable ASCII only');
  t.notMatch(text, /[<>]/, 'nothing that could form a control-token string');
});

t.test('writeDemoModel writes atomically and reports the hash', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inferd-demo-write-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'nested', 'demo.gguf');
  const res = await writeDemoModel(out, 'tiny');
  t.same(res, { path: out, sha256: DEMO_MODELS.tiny.sha256, sizeBytes: DEMO_MODELS.tiny.sizeBytes });
  t.equal(sha256(await readFile(out)), DEMO_MODELS.tiny.sha256);
  t.ok((await stat(out)).isFile());
  t.same(await readdir(path.dirname(out)), ['demo.gguf'], 'no temp file left behind');
  const summary = await checkGgufFile(out);
  t.equal(summary.name, 'inferd-demo-tiny');

  // Overwriting an existing file works the same way.
  const again = await writeDemoModel(out, 'tiny');
  t.equal(again.sha256, DEMO_MODELS.tiny.sha256);
  t.same(await readdir(path.dirname(out)), ['demo.gguf']);
});

t.test('writeDemoModel fails with a coded error and cleans up', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inferd-demo-write-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The target is an existing directory, so the final rename fails.
  const target = path.join(dir, 'taken');
  await writeDemoModel(path.join(target, 'x.gguf'), 'tiny');
  await t.rejects(writeDemoModel(target, 'tiny'), { code: 'store_invalid', message: /cannot write the demo model/ });
  t.same((await readdir(dir)).sort(), ['taken'], 'temp file removed');
});

t.test('test helper: demoModelPath builds once and caches by sha256', async (t) => {
  const p1 = await demoModelPath();
  const p2 = await demoModelPath('tiny');
  t.equal(p1, p2);
  t.equal(path.basename(p1), `${DEMO_MODELS.tiny.sha256}.gguf`);
  t.equal(sha256(await readFile(p1)), DEMO_MODELS.tiny.sha256);
});
