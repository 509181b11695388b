// Error mapping of the OpenAI routes as the official SDK sees it: its error classes, statuses,
// codes and headers; and a failure after a stream began.
import OpenAI from 'openai';
import t from 'tap';
import { request } from 'undici';
import { startDaemon } from '../helpers/daemon.js';
import { hello, openai, slotsFree } from './fixtures/openai-client.js';

/** Digits never end a turn in the demo model: this holds its slot until cancelled. */
const HOLD_SLOT = { messages: [{ role: 'user', content: 'hi' }], grammar: 'root ::= [0-9]+', max_tokens: 4000 };

t.test('429 queue_full is a RateLimitError with Retry-After, and /infer and /v1 share the slots', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 0 });
  const client = openai(url);
  const ac = new AbortController();
  const busy = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(HOLD_SLOT), signal: ac.signal });
  const reader = busy.body[Symbol.asyncIterator]();
  await reader.next(); // the first token is out: the slot is held
  t.equal(daemon.gate.admission.active, 1);
  for (const call of [
    () => client.chat.completions.create({ model: 'x', messages: hello }),
    () => client.completions.create({ model: 'x', prompt: 'x' }),
    () => client.embeddings.create({ model: 'x', input: 'x' }),
  ]) {
    const err = await call().catch((e: unknown) => e);
    t.type(err, OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    t.equal(e.status, 429);
    t.equal(e.code, 'queue_full');
    t.equal(e.type, 'rate_limit_error');
    t.equal(e.headers.get('retry-after'), '1');
  }
  ac.abort();
  await reader.return?.();
  await slotsFree(daemon);
  const ok = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 2 });
  t.equal(ok.choices.length, 1, 'served again once the slot is free');
});

t.test('strict_model: another model name is a NotFoundError (404 model_not_found)', async (t) => {
  const { url, daemon } = await startDaemon(t, { strict_model: true });
  const client = openai(url);
  const real = daemon.lifecycle.engine!.info.modelName;
  for (const call of [
    () => client.chat.completions.create({ model: 'gpt-4o', messages: hello }),
    () => client.completions.create({ model: 'gpt-4o', prompt: 'x' }),
    () => client.embeddings.create({ model: 'gpt-4o', input: 'x' }),
    () => client.models.retrieve('gpt-4o'),
  ]) {
    const err = await call().catch((e: unknown) => e);
    t.type(err, OpenAI.NotFoundError);
    const e = err as InstanceType<typeof OpenAI.NotFoundError>;
    t.equal(e.status, 404);
    t.equal(e.code, 'model_not_found');
    t.equal(e.type, 'invalid_request_error');
    t.match(e.message, new RegExp(`\`gpt-4o\` does not exist: this daemon serves \`${real}\``));
  }
  const ok = await client.chat.completions.create({ model: real, messages: hello, max_tokens: 2 });
  t.equal(ok.model, real, 'the real name is served');
  t.equal((await client.models.retrieve(real)).id, real);
});

t.test('without strict_model any name is served and answered with the real name', async (t) => {
  const { url, daemon } = await startDaemon(t);
  const client = openai(url);
  const real = daemon.lifecycle.engine!.info.modelName;
  t.equal((await client.chat.completions.create({ model: 'gpt-4o', messages: hello, max_tokens: 2 })).model, real);
  t.equal((await client.models.retrieve('gpt-4o')).id, real);
});

t.test('before the model is ready: 503 with Retry-After (InternalServerError)', async (t) => {
  const { url } = await startDaemon(t, {}, { start: false });
  const client = openai(url);
  for (const call of [
    () => client.chat.completions.create({ model: 'x', messages: hello }),
    () => client.chat.completions.create({ model: 'x', messages: hello, stream: true }),
    () => client.embeddings.create({ model: 'x', input: 'x' }),
    () => client.models.list(),
  ]) {
    const err = await call().catch((e: unknown) => e);
    t.type(err, OpenAI.InternalServerError);
    const e = err as InstanceType<typeof OpenAI.InternalServerError>;
    t.equal(e.status, 503);
    t.equal(e.code, 'backend_unavailable');
    t.equal(e.type, 'server_error');
    t.ok(e.headers.get('retry-after'), 'Retry-After is set');
  }
});

t.test('errors before the first chunk are HTTP statuses, even for streams', async (t) => {
  const { url } = await startDaemon(t, { n_ctx: 64 });
  const client = openai(url);
  const long = [{ role: 'user' as const, content: 'word '.repeat(200) }];
  const err = await client.chat.completions.create({ model: 'x', messages: long, stream: true }).catch((e: unknown) => e);
  t.type(err, OpenAI.BadRequestError, 'a prompt longer than the context is a 400, not a broken stream');
  t.match((err as Error).message, /the prompt is \d+ tokens but the context holds \d+/);
});

t.test('a failure after the stream began: an error event, then the end (no [DONE])', async (t) => {
  const { url, daemon } = await startDaemon(t, { drain_timeout_ms: 0 });
  const client = openai(url);
  // Greedy decoding loops in the demo model, so this runs until it is stopped.
  const stream = await client.chat.completions.create({ model: 'x', messages: hello, temperature: 0, max_tokens: 4000, stream: true });
  const seen: string[] = [];
  const failure = (async () => {
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content ?? '');
      if (seen.length === 3) void daemon.lifecycle.drain(); // the drain timeout (0) cancels in-flight work
    }
  })().catch((e: unknown) => e);
  const err = await failure;
  t.type(err, OpenAI.APIError, 'the SDK raises the error event');
  const e = err as InstanceType<typeof OpenAI.APIError>;
  t.equal(e.status, undefined, 'no HTTP status: the response was 200 and already streaming');
  t.equal(e.code, 'backend_unavailable');
  t.match(e.message, /cancelled by the drain timeout/);
  t.ok(seen.length >= 3);
});

t.test('the SSE wire format', async (t) => {
  const { url, daemon } = await startDaemon(t, { drain_timeout_ms: 0 });
  const post = (body: unknown) => request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = await post({ messages: hello, max_tokens: 4, stream: true });
  t.match(ok.headers['content-type'], /^text\/event-stream/);
  t.equal(ok.headers['cache-control'], 'no-cache');
  t.equal(ok.headers['x-accel-buffering'], 'no');
  const events = (await ok.body.text()).split('\n\n');
  t.equal(events.pop(), '', 'every event ends with a blank line');
  t.equal(events.at(-1), 'data: [DONE]');
  t.ok(events.slice(0, -1).every((e) => /^data: \{.*\}$/.test(e)), 'one data line of JSON per event');

  const failing = await post({ messages: hello, temperature: 0, max_tokens: 4000, stream: true });
  const parts: string[] = [];
  for await (const part of failing.body) {
    parts.push(String(part));
    if (parts.length === 2) void daemon.lifecycle.drain();
  }
  const tail = parts.join('').split('\n\n').filter(Boolean);
  const last = JSON.parse(tail.at(-1)!.replace(/^data: /, '')) as { error: Record<string, unknown> };
  t.same(Object.keys(last.error).sort(), ['code', 'message', 'param', 'type'], 'the OpenAI error object');
  t.equal(last.error['type'], 'server_error');
  t.notOk(tail.includes('data: [DONE]'), 'no [DONE] after an error');
});
