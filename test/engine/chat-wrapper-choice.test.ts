// The chat-wrapper decision is remembered per model file: a second start builds the very wrapper
// node-llama-cpp resolved the first time, without resolving again; anything that cannot be
// rebuilt exactly, or a changed file, goes through node-llama-cpp's resolution again.
import { copyFile, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChatMLChatWrapper,
  getLlama,
  JinjaTemplateChatWrapper,
  Llama2ChatWrapper,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatWrapper,
} from 'node-llama-cpp';
import t from 'tap';
import { CHAT_WRAPPER_CACHE_FILE, chooseChatWrapper, rebuildableType } from '../../src/engine/chat-wrapper-choice.js';
import { demoModelPath } from '../helpers/demo-model.js';

const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
t.teardown(() => llama.dispose());
const dir = await mkdtemp(join(tmpdir(), 'inferd-wrapper-cache-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const modelPath = join(dir, 'demo.gguf');
await copyFile(await demoModelPath('tiny'), modelPath);
const model = await llama.loadModel({ modelPath });
t.teardown(() => model.dispose());

const rendered = (wrapper: ChatWrapper) =>
  wrapper
    .generateContextState({
      chatHistory: [
        { type: 'system', text: 'Be brief.' },
        { type: 'user', text: 'hello' },
        { type: 'model', response: ['hi there'] },
        { type: 'user', text: 'and again' },
        { type: 'model', response: [] },
      ],
    })
    .contextText.toString();

t.test('the second choice comes from the cache and equals node-llama-cpp’s own resolution', async (t) => {
  const cacheDir = join(dir, 'cache-a');
  const fresh = resolveChatWrapper(model);
  const first = await chooseChatWrapper(model, modelPath, cacheDir);
  t.equal(first.source, 'resolved');
  const file = JSON.parse(await readFile(join(cacheDir, CHAT_WRAPPER_CACHE_FILE), 'utf8')) as { entries: Record<string, string> };
  t.same(Object.values(file.entries), ['chatML'], 'the decision is written down');

  const second = await chooseChatWrapper(model, modelPath, cacheDir);
  t.equal(second.source, 'cached');
  for (const choice of [first, second]) {
    t.equal(choice.wrapper.constructor, fresh.constructor, 'same wrapper class');
    t.equal(JSON.stringify(choice.wrapper), JSON.stringify(fresh), 'same settings');
    t.equal(rendered(choice.wrapper), rendered(fresh), 'same rendered prompt');
  }
});

t.test('a changed file is resolved again', async (t) => {
  const cacheDir = join(dir, 'cache-b');
  t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'resolved');
  const later = new Date(Date.now() + 5000);
  await utimes(modelPath, later, later);
  t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'resolved', 'new mtime: not the same file any more');
  t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'cached');
});

t.test('a damaged or foreign cache file is ignored and replaced', async (t) => {
  for (const content of ['{not json', JSON.stringify({ version: 1, entries: [] }), JSON.stringify({ version: 9, entries: {} })]) {
    const cacheDir = join(dir, `cache-${Math.random().toString(36).slice(2)}`);
    await chooseChatWrapper(model, modelPath, cacheDir);
    await writeFile(join(cacheDir, CHAT_WRAPPER_CACHE_FILE), content);
    t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'resolved', content);
    t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'cached', 'then written anew');
  }
  const cacheDir = join(dir, 'cache-unknown-type');
  await chooseChatWrapper(model, modelPath, cacheDir);
  const path = join(cacheDir, CHAT_WRAPPER_CACHE_FILE);
  const file = JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, string> };
  for (const key of Object.keys(file.entries)) file.entries[key] = 'jinjaTemplate';
  await writeFile(path, JSON.stringify(file));
  t.equal((await chooseChatWrapper(model, modelPath, cacheDir)).source, 'resolved', 'only specialised wrapper names are taken from the file');
});

t.test('without a cache directory, or with one that cannot be written, it resolves every time', async (t) => {
  t.equal((await chooseChatWrapper(model, modelPath)).source, 'resolved');
  const blocked = join(dir, 'a-file');
  await writeFile(blocked, '');
  const choice = await chooseChatWrapper(model, modelPath, join(blocked, 'cache'));
  t.equal(choice.source, 'resolved');
  t.equal(rendered(choice.wrapper), rendered(resolveChatWrapper(model)));
});

t.test('only wrappers that their type name rebuilds exactly are kept', async (t) => {
  t.equal(rebuildableType(new ChatMLChatWrapper(), model), 'chatML');
  t.equal(rebuildableType(new Llama2ChatWrapper({ addSpaceBeforeEos: true }), model), null, 'non-default settings');
  const jinja = new JinjaTemplateChatWrapper({ template: '{% for m in messages %}{{ m.content }}{% endfor %}' });
  t.equal(rebuildableType(jinja, model), null, 'a Jinja template wrapper');
});
