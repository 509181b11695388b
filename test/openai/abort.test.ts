// Aborting a request through the SDK's AbortController cancels the generation on the server:
// the one slot is free at once, so the next request (with no queue) is served, not refused.
import OpenAI from 'openai';
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { hello, openai, slotsFree, until } from './fixtures/openai-client.js';

/** Greedy decoding loops in the demo model: this runs to max_tokens unless cancelled. */
const ENDLESS = { model: 'x', messages: hello, temperature: 0, max_tokens: 4000 };

t.test('an SDK abort cancels the server-side generation and frees the slot at once', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 0 });
  const client = openai(url);

  t.test('streaming, 5 times in a row', async (t) => {
    for (let i = 0; i < 5; i++) {
      const ac = new AbortController();
      const stream = await client.chat.completions.create({ ...ENDLESS, stream: true }, { signal: ac.signal });
      let chunks = 0;
      for await (const _chunk of stream) {
        if (++chunks === 3) ac.abort(); // the SDK ends the iteration quietly on its own abort
      }
      t.ok(chunks >= 3, `stream ${i} was generating when aborted`);
      await slotsFree(daemon);
      const next = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 2 });
      t.equal(next.choices.length, 1, `request ${i} after the abort is served with queue_depth 0`);
    }
    t.ok((await daemon.metrics.render()).includes('inferd_requests_total{route="chat_completions",outcome="cancelled"} 5'), 'counted as cancelled');
  });

  t.test('non-streaming, aborted while generating', async (t) => {
    const ac = new AbortController();
    const pending = client.chat.completions.create(ENDLESS, { signal: ac.signal }).catch((e: unknown) => e);
    await until(() => daemon.gate.admission.active === 1, 'the request to take the slot');
    ac.abort();
    t.type(await pending, OpenAI.APIUserAbortError, 'the SDK reports its own abort');
    await slotsFree(daemon);
    const next = await client.completions.create({ model: 'x', prompt: 'The daemon', max_tokens: 2 });
    t.equal(next.choices.length, 1, 'the next request is served');
  });

  t.test('a stream the client breaks out of is cancelled too', async (t) => {
    const stream = await client.chat.completions.create({ ...ENDLESS, stream: true });
    for await (const _chunk of stream) break; // the SDK aborts the request when the loop is left
    await slotsFree(daemon);
    const next = await client.embeddings.create({ model: 'x', input: 'hello' });
    t.equal(next.data.length, 1, 'the next request is served');
  });
});
