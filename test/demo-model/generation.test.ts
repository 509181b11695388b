// The demo model in the real engine: it loads, chats through the ChatML template, writes
// mostly corpus words, is deterministic for a seed, and ends replies by itself.
import t from 'tap';
import { getLlama, LlamaChatSession, LlamaCompletion, LlamaLogLevel, resolveChatWrapper, type LlamaModel } from 'node-llama-cpp';
import { corpusParagraphs } from '../../src/demo-model/corpus/index.js';
import { DEMO_MODELS } from '../../src/demo-model/index.js';
import { demoModelPath } from '../helpers/demo-model.js';

const norm = (w: string): string => w.toLowerCase().replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
const corpusWords = new Set(corpusParagraphs().flatMap((p) => p.split(/\s+/).map(norm)).filter(Boolean));

function wordShare(text: string): { words: number; known: number } {
  const words = text.split(/\s+/).map(norm).filter(Boolean);
  return { words: words.length, known: words.filter((w) => corpusWords.has(w)).length };
}

// resolveChatWrapper renders the model's Jinja template against a dozen candidate wrappers
// (~0.6 s); a LlamaChatSession without an explicit wrapper pays that on every construction.
async function chatter(model: LlamaModel) {
  const wrapper = resolveChatWrapper(model);
  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  const sequence = context.getSequence();
  const chat = async (seed: number, maxTokens = 1000): Promise<{ text: string; stopReason: string; tokens: number }> => {
    await sequence.clearHistory();
    const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper: wrapper });
    let tokens = 0;
    try {
      const r = await session.promptWithMeta('What is inferd?', {
        temperature: 0.8,
        seed,
        maxTokens,
        onToken: (ts) => {
          tokens += ts.length;
        },
      });
      return { text: r.responseText, stopReason: r.stopReason, tokens };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  };
  return { wrapper, chat, dispose: () => context.dispose() };
}

t.test('tiny demo model: chat generation', async (t) => {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.warn });
  t.teardown(() => llama.dispose());
  const model = await llama.loadModel({ modelPath: await demoModelPath('tiny') });
  t.teardown(() => model.dispose());

  const { wrapper, chat, dispose } = await chatter(model);
  t.teardown(dispose);
  t.equal(wrapper.wrapperName, 'ChatML', 'chat template detected as ChatML');

  const a = await chat(42);
  const b = await chat(42);
  t.equal(a.text, b.text, 'same seed, same reply');
  t.ok(a.text.trim().length > 0, 'the reply is not empty');

  let eog = 0;
  let words = 0;
  let known = 0;
  const lengths: number[] = [];
  for (let seed = 1; seed <= 12; seed++) {
    const r = await chat(seed);
    if (r.stopReason === 'eogToken') eog++;
    lengths.push(r.tokens);
    const s = wordShare(r.text);
    words += s.words;
    known += s.known;
  }
  lengths.sort((x, y) => x - y);
  t.ok(eog >= 10, `most replies end on their own below 1000 tokens (${eog}/12)`);
  t.notOk(lengths[0] === 0, 'no reply ends at its very first token');
  t.ok(known / words >= 0.8, `mostly corpus words (${((100 * known) / words).toFixed(1)}% of ${words})`);
  t.ok((lengths[6] as number) >= 10 && (lengths[6] as number) <= 300, `median length ${lengths[6]} tokens`);
});

t.test('default demo model: loads, completes and stops', async (t) => {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.warn });
  t.teardown(() => llama.dispose());
  const model = await llama.loadModel({ modelPath: await demoModelPath('default') });
  t.teardown(() => model.dispose());
  t.equal(model.fileInfo.metadata.general.name, DEMO_MODELS.default.name);
  t.equal(model.trainContextSize, 8192);

  const { chat, dispose } = await chatter(model);
  t.teardown(dispose);
  let stopped = 0;
  let words = 0;
  let known = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const r = await chat(seed);
    if (r.stopReason === 'eogToken') stopped++;
    const s = wordShare(r.text);
    words += s.words;
    known += s.known;
  }
  t.ok(stopped >= 3, `replies end with eogToken (${stopped}/4)`);
  t.ok(known / words >= 0.85, `mostly corpus words (${((100 * known) / words).toFixed(1)}%)`);

  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  t.teardown(() => context.dispose());
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  const c = await completion.generateCompletionWithMeta('The daemon', { temperature: 0.8, seed: 7, maxTokens: 64 });
  t.ok(c.response.length > 0, 'plain completion produces text');
});
