// KV-cache prefix reuse per slot: a request whose prompt starts like the slot's previous one
// evaluates only the rest, reports how much it reused, and generates the same text.
import t from 'tap';
import type { DoneFrame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { postJson } from '../helpers/http.js';

const system = { role: 'system', content: 'You answer in one short line about free software licences and their terms.' };

t.test('prompt_tokens_cached in v1 and OpenAI usage', async (t) => {
  const { url } = await startDaemon(t, { parallel: 2, queue_depth: 4 });
  const ask = (content: string) =>
    postJson<DoneFrame>(`${url}/infer`, { messages: [system, { role: 'user', content }], max_tokens: 12, temperature: 0, stream: false });

  const first = await ask('What does the licence say about copies?');
  t.equal(first.status, 200);
  t.equal(first.body.usage.prompt_tokens_cached, 0, 'a fresh slot has nothing to reuse');

  const again = await ask('What does the licence say about copies?');
  t.equal(again.body.usage.prompt_tokens_cached, again.body.usage.prompt_tokens - 1, 'the same prompt reuses all but its last token');
  t.equal(again.body.content, first.body.content, 'reusing the cache does not change the greedy text');

  const other = await ask('And about warranty?');
  const cached = other.body.usage.prompt_tokens_cached ?? 0;
  t.ok(cached > 10 && cached < other.body.usage.prompt_tokens - 1, `the shared system prompt is reused (${cached} of ${other.body.usage.prompt_tokens})`);

  const oa = await postJson<{ usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }>(`${url}/v1/chat/completions`, {
    model: 'x',
    messages: [system, { role: 'user', content: 'And about warranty?' }],
    max_tokens: 12,
    temperature: 0,
  });
  t.equal(oa.status, 200);
  t.equal(oa.body.usage.prompt_tokens_details?.cached_tokens, oa.body.usage.prompt_tokens - 1, 'OpenAI usage.prompt_tokens_details.cached_tokens');
});
