// The Ollama family's errors over raw HTTP: {"error": "…"} bodies with the catalogue's status
// codes, from the one error handler. One daemon with strict_model, one slot and no queue.
import t, { type Test } from 'tap';
import { startDaemon } from '../helpers/daemon.js';

t.test('Ollama-compatible errors', async (t) => {
  const { url } = await startDaemon(t, { strict_model: true, parallel: 1, queue_depth: 0 });
  const served = ((await (await fetch(`${url}/api/ps`)).json()) as { models: { name: string }[] }).models[0]!.name;
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const expectError = async (t: Test, res: Response, status: number, message: RegExp) => {
    t.equal(res.status, status, `status ${status}`);
    const body = (await res.json()) as Record<string, unknown>;
    t.same(Object.keys(body), ['error'], 'only an error field');
    t.match(body['error'], message);
  };
  const hello = [{ role: 'user', content: 'hi' }];

  t.test('strict_model: another name is a 404', async (t) => {
    await expectError(t, await post('/api/chat', { model: 'llama3:latest', messages: hello }), 404, /does not exist/);
    await expectError(t, await post('/api/generate', { model: 'other', prompt: 'x' }), 404, /does not exist/);
    await expectError(t, await post('/api/embed', { model: 'other', input: 'x' }), 404, /does not exist/);
  });

  t.test('validation is a 400, as on /v1', async (t) => {
    await expectError(t, await post('/api/chat', { model: served, messages: hello, options: { num_ctx: 1 << 20 } }), 400, /num_ctx/);
    await expectError(t, await post('/api/chat', { model: served, messages: hello, tools: [{ type: 'function', function: { name: 'f' } }] }), 400, /tools are not supported/);
    await expectError(t, await post('/api/chat', { model: served, messages: [{ role: 'wizard', content: 'x' }] }), 400, /invalid request/);
    await expectError(t, await post('/api/chat', '{not json'), 400, /decode/);
    await expectError(t, await post('/api/generate', { model: served, prompt: 'x', suffix: 'y' }), 400, /suffix/);
    await expectError(t, await post('/api/embed', { model: served, input: [''] }), 400, /empty/);
  });

  t.test('pull and delete refusals', async (t) => {
    await expectError(t, await post('/api/pull', { model: 'http://example.com/x.gguf' }), 400, /https/);
    await expectError(t, await post('/api/pull', { model: 'https://example.com/x.gguf', sha256: 'abc' }), 400, /sha256/);
    await expectError(t, await post('/api/pull', { model: 'https://example.com/x.gguf', name: 'Not A Name' }), 400, /store name/);
    await expectError(t, await post('/api/pull', { model: 'nothing-here' }), 404, /not found/);
    await expectError(t, await post('/api/delete', { model: 'nothing-here' }, 'DELETE'), 404, /not found/);
  });

  t.test('an unknown /api route is a 404 in the same shape', async (t) => {
    await expectError(t, await fetch(`${url}/api/nope`), 404, /no route/);
  });

  t.test('a second request with the slot taken and no queue is a 429 with Retry-After', async (t) => {
    const ac = new AbortController();
    const busy = fetch(`${url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: served, prompt: 'x', options: { temperature: 0, num_predict: 4000 } }),
      signal: ac.signal,
    });
    const holder = await busy;
    const reader = holder.body!.getReader();
    await reader.read(); // the first line: the slot is held
    const refused = await post('/api/chat', { model: served, messages: hello });
    t.ok(refused.headers.get('retry-after'), 'Retry-After');
    await expectError(t, refused, 429, /queue/);
    ac.abort();
    await reader.cancel().catch(() => {});
  });
});
