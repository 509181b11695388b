// Decode rounds: parallel generations queue their next token together so one llama_decode
// takes them all. The unit half drives DecodeRounds with a stand-in decode queue; the daemon
// half runs four streams on the real engine and reads the rounds back from /metrics.
import t from 'tap';
import type { DoneFrame } from '../../src/protocol/v1.js';
import { DecodeRounds } from '../../src/engine/decode-rounds.js';
import { startDaemon } from '../helpers/daemon.js';
import { postJson } from '../helpers/http.js';

/** A stand-in for node-llama-cpp's context: records when each evaluation reached the queue. */
function fakeQueue() {
  const queued: string[] = [];
  const context = {
    _decodeTokens(item: { tokens: readonly unknown[]; name: string; sequenceId?: number }): Promise<string> {
      queued.push(item.name);
      return Promise.resolve(item.name);
    },
  };
  return { context, queued };
}

const token = (name: string) => ({ tokens: [1], name });
const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('single-token evaluations wait until every running stream has one, then go together', async (t) => {
  const { context, queued } = fakeQueue();
  const rounds = new DecodeRounds(context);
  t.ok(rounds.enabled);
  rounds.enter();
  rounds.enter();
  rounds.enter();
  const a = context._decodeTokens(token('a'));
  const b = context._decodeTokens(token('b'));
  await tick();
  t.same(queued, [], 'two of three streams wait');
  const c = context._decodeTokens(token('c'));
  t.same(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  t.same(queued, ['a', 'b', 'c'], 'the third releases the round');
  t.same(rounds.stats(), { rounds: 1, tokens: 3, deadlineRounds: 0 });
  rounds.close();
});

t.test('a round reaches the queue in sequence-id order, whatever order it arrived in', async (t) => {
  // llama.cpp puts only consecutive sequence ids into one micro-batch: 2,0,1 would be two decodes.
  const { context, queued } = fakeQueue();
  const rounds = new DecodeRounds(context);
  for (let i = 0; i < 3; i++) rounds.enter();
  await Promise.all([2, 0, 1].map((id) => context._decodeTokens({ tokens: [1], name: `seq${id}`, sequenceId: id })));
  t.same(queued, ['seq0', 'seq1', 'seq2']);
  rounds.close();
});

t.test('prompts and a lone stream are never held', async (t) => {
  const { context, queued } = fakeQueue();
  const rounds = new DecodeRounds(context);
  void context._decodeTokens(token('alone'));
  t.same(queued, ['alone'], 'no running streams: straight through');
  rounds.enter();
  rounds.enter();
  void context._decodeTokens({ tokens: [1, 2, 3], name: 'prompt' });
  t.same(queued, ['alone', 'prompt'], 'a multi-token prompt goes straight through');
  t.same(rounds.stats().rounds, 0);
  rounds.close();
});

t.test('a stream that finishes releases the others; a straggler meets the deadline', async (t) => {
  const { context, queued } = fakeQueue();
  const rounds = new DecodeRounds(context);
  rounds.enter();
  rounds.enter();
  rounds.enter();
  const a = context._decodeTokens(token('a'));
  const b = context._decodeTokens(token('b'));
  rounds.leave();
  await Promise.all([a, b]);
  t.same(queued, ['a', 'b'], 'the finished stream is no longer waited for');

  const started = performance.now();
  await context._decodeTokens(token('c'));
  const waited = performance.now() - started;
  t.same(queued, ['a', 'b', 'c'], 'alone with a silent partner, it goes at the deadline');
  t.ok(waited < 500, `the deadline is short (${waited.toFixed(1)} ms)`);
  t.same(rounds.stats(), { rounds: 2, tokens: 3, deadlineRounds: 1 });
  rounds.close();
});

t.test('close releases what is held and stops holding', async (t) => {
  const { context, queued } = fakeQueue();
  const rounds = new DecodeRounds(context);
  rounds.enter();
  rounds.enter();
  const a = context._decodeTokens(token('a'));
  rounds.close();
  await a;
  void context._decodeTokens(token('b'));
  t.same(queued, ['a', 'b']);
});

t.test('INFERD_DECODE_ROUNDS=0 or a context without the queue leaves it untouched', async (t) => {
  const { context } = fakeQueue();
  const original = context._decodeTokens;
  t.notOk(new DecodeRounds(context, { INFERD_DECODE_ROUNDS: '0' }).enabled);
  t.equal(context._decodeTokens, original);
  t.notOk(new DecodeRounds({}).enabled);
});

t.test('four streams on the real engine share their decodes and answer as they do alone', async (t) => {
  const { url } = await startDaemon(t, { parallel: 4, queue_depth: 4 });
  const prompts = ['the daemon', 'a model file', 'the socket', 'each request'];
  const ask = (content: string) =>
    postJson<DoneFrame>(`${url}/infer`, { messages: [{ role: 'user', content }], max_tokens: 40, temperature: 0, stream: false });

  const alone: string[] = [];
  for (const content of prompts) alone.push((await ask(content)).body.content);
  const before = await roundsFromMetrics(url);
  t.equal(before.rounds, 0, 'one stream at a time never forms a round');

  const together = await Promise.all(prompts.map(ask));
  t.same(
    together.map((r) => r.body.content),
    alone,
    'greedy text is the same whether the streams share decodes or not',
  );
  const after = await roundsFromMetrics(url);
  const perRound = after.tokens / after.rounds;
  t.ok(after.rounds > 0 && perRound > 2, `streams per shared decode: ${perRound.toFixed(2)} over ${after.rounds} rounds`);
});

async function roundsFromMetrics(url: string): Promise<{ rounds: number; tokens: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rounds: value('inferd_decode_rounds_total'), tokens: value('inferd_decode_round_tokens_total') };
}
