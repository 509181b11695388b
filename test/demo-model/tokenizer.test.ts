// The bigram counts are only right if our JS tokenizer splits text exactly as llama.cpp does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { DEMO_BUILD_OPTIONS, type DemoVariant } from '../../src/demo-model/index.js';
import { corpusParagraphs } from '../../src/demo-model/corpus/index.js';
import { buildDemoGguf } from '../../src/demo-model/model-builder.js';
import { SpmTokenizer } from '../../src/demo-model/spm-tokenizer.js';

const EXTRA = [
  'Hello  world, two spaces.',
  '  leading spaces and trailing ones  ',
  'line one\nline two\n\nthree',
  '\nstarts with a newline',
  'caf\u00e9, na\u00efve, \u2713 and \u65e5\u672c',
  'tabs\tand\tmore',
  '<s> </s> <|im_start|> are plain text here',
  '{"type": "token", "text": " daemon"}',
  'inferdinferdinferd reloadreload UPPER lower MiXeD 12345 3.14',
  'a',
  '.',
];

t.test('JS SPM tokenizer equals llama.cpp', async (t) => {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.warn });
  t.teardown(() => llama.dispose());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inferd-tok-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const paragraphs = corpusParagraphs();

  for (const variant of ['tiny', 'default'] as const satisfies readonly DemoVariant[]) {
    const build = buildDemoGguf(DEMO_BUILD_OPTIONS[variant]);
    const file = path.join(dir, `${variant}.gguf`);
    await writeFile(file, build.buffer);
    const model = await llama.loadModel({ modelPath: file });
    const tok = new SpmTokenizer(build.vocab);
    let same = 0;
    const diffs: string[] = [];
    for (const text of [...paragraphs, ...EXTRA]) {
      const ours = tok.encode(text);
      const theirs = Array.from(model.tokenize(text));
      if (JSON.stringify(ours) === JSON.stringify(theirs)) same++;
      else if (diffs.length < 3) diffs.push(`${JSON.stringify(text.slice(0, 60))}: ${ours.slice(0, 10)} vs ${theirs.slice(0, 10)}`);
    }
    t.equal(same, paragraphs.length + EXTRA.length, `${variant}: every text tokenizes identically`, { diffs });
    const whole = paragraphs.join('\n');
    t.same(tok.encode(whole), Array.from(model.tokenize(whole)), `${variant}: the whole corpus as one text`);
    t.same(tok.encode(''), Array.from(model.tokenize('')), `${variant}: empty text`);
    t.equal(tok.decode(tok.encode(paragraphs[0] as string)), ` ${paragraphs[0]}`, 'decode inverts encode');
    t.ok(build.info.merges > 0 && build.vocab.tokens.length === build.info.nVocab);
    await model.dispose();
  }
});
