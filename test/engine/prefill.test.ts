// Long prompts are evaluated in slices before generation. The slicing must not change anything
// a client sees: the same greedy text, the same usage, and the cache reused as before.
import { readFileSync } from 'node:fs';
import { getLlama } from 'node-llama-cpp';
import t from 'tap';
import type { GenerateRequest } from '../../src/engine/engine.js';
import { LlamaEngine } from '../../src/engine/llama-engine.js';
import { demoModelPath } from '../helpers/demo-model.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('a sliced prompt gives the same answer as a whole one', async (t) => {
  const llama = await getLlama({ build: 'never', gpu: false, maxThreads: 1 });
  const modelPath = await demoModelPath('tiny');
  const load = (prefillTokens: number) => LlamaEngine.load({ llama, modelPath, nCtx: 32768, parallel: 1, threads: 1, prefillTokens });
  const sliced = await load(500);
  const whole = await load(1e9);
  t.teardown(async () => {
    await sliced.close();
    await whole.close();
    await llama.dispose();
  });
  const ask = (text: string): GenerateRequest => ({ prompt: { kind: 'chat', messages: [{ role: 'user', content: text }] }, maxTokens: 24, temperature: 0, topP: 1, topK: 0 });
  const long = readme.slice(0, 12000);

  const a = await sliced.generate(ask(long));
  const b = await whole.generate(ask(long));
  t.ok(a.promptTokens > 2000, `the prompt is long enough to be sliced (${a.promptTokens} tokens in slices of 500)`);
  t.equal(a.text, b.text, 'same greedy text');
  t.equal(a.promptTokens, b.promptTokens);
  t.equal(a.completionTokens, b.completionTokens);
  t.equal(a.promptTokensCached, 0);
  const sliceCount = Math.ceil((a.promptTokens - 1) / 500);
  t.same(sliced.prefillStats(), { slices: sliceCount, heldTokens: a.promptTokens - 1 }, 'all but the last token came in from the slices');
  t.same(whole.prefillStats(), { slices: 0, heldTokens: 0 });

  const again = await sliced.generate(ask(long));
  t.equal(again.promptTokensCached, again.promptTokens - 1, 'the same prompt again reuses all but its last token');
  t.equal(again.text, a.text);

  // A prompt sharing only the first half: the rest of the old one is erased, the new rest sliced.
  const other = readme.slice(0, 6000) + readme.slice(20000, 26000);
  const c = await sliced.generate(ask(other));
  const d = await whole.generate(ask(other));
  t.ok(c.promptTokensCached > 1000 && c.promptTokensCached < c.promptTokens - 1000, `a shared prefix is reused (${c.promptTokensCached} of ${c.promptTokens})`);
  t.equal(c.text, d.text, 'same greedy text after a partial reuse');

  const controller = new AbortController();
  controller.abort();
  const cancelled = await sliced.generate({ ...ask(readme.slice(30000, 42000)), signal: controller.signal });
  t.equal(cancelled.stopReason, 'cancelled', 'an aborted request stops before or between slices');
});
