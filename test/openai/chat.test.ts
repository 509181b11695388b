// POST /v1/chat/completions through the official openai SDK, against a real daemon serving the
// tiny demo model with the real engine.
import OpenAI from 'openai';
import t from 'tap';
import type { DoneFrame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { postJson } from '../helpers/http.js';
import { hello, openai } from './fixtures/openai-client.js';

t.test('chat completions with the openai SDK', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 4 });
  const client = openai(url);
  const modelName = daemon.lifecycle.engine!.info.modelName;

  t.test('non-stream: an OpenAI chat.completion naming the real model', async (t) => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, max_tokens: 40, seed: 1 });
    t.match(res.id, /^chatcmpl-/);
    t.equal(res.object, 'chat.completion');
    t.equal(res.model, modelName, 'any model name is served by the loaded model, which the response names');
    t.equal(res.choices.length, 1);
    const [choice] = res.choices;
    t.equal(choice!.index, 0);
    t.equal(choice!.message.role, 'assistant');
    t.type(choice!.message.content, 'string');
    t.ok(choice!.message.content!.length > 0);
    t.ok(['stop', 'length'].includes(choice!.finish_reason));
    t.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);
    t.ok(res.usage!.completion_tokens > 0 && res.usage!.completion_tokens <= 40);
    t.ok(Number.isInteger(res.created));
  });

  t.test('the same generation as POST /infer: one engine, same defaults, same prompt', async (t) => {
    const v1 = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 50, seed: 42 });
    const infer = await postJson<DoneFrame>(`${url}/infer`, { messages: hello, max_tokens: 50, seed: 42, stream: false });
    t.equal(v1.choices[0]!.message.content, infer.body.content);
    t.equal(v1.usage!.prompt_tokens, infer.body.usage.prompt_tokens);
    t.equal(v1.usage!.completion_tokens, infer.body.usage.completion_tokens);
  });

  t.test('stream: role first, content deltas, finish_reason, then a usage chunk', async (t) => {
    const body = { model: 'x', messages: hello, max_tokens: 40, seed: 1 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    t.ok(chunks.length > 3);
    t.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id && c.model === modelName), 'one id, the real model');
    t.equal(chunks[0]!.choices[0]!.delta.role, 'assistant', 'the first chunk names the role');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    t.equal(text, whole.choices[0]!.message.content, 'the deltas add up to the non-stream answer');
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    t.equal(finishes.length, 1, 'one chunk carries the finish reason');
    t.equal(finishes[0]!.choices[0]!.finish_reason, whole.choices[0]!.finish_reason);
    const last = chunks.at(-1)!;
    t.same(last.choices, [], 'the usage chunk has no choices');
    // The second request reuses the first one's KV cache, so only cached_tokens may differ.
    t.same({ ...last.usage, prompt_tokens_details: undefined }, { ...whole.usage, prompt_tokens_details: undefined }, 'usage as in the non-stream answer');
    t.ok((last.usage?.prompt_tokens_details?.cached_tokens ?? 0) > 0, 'the repeated prompt came from the slot cache');
    t.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'usage is null on every other chunk');
  });

  t.test('stream without include_usage has no usage field', async (t) => {
    const stream = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 5, seed: 1, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    t.ok(chunks.every((c) => !('usage' in c)));
    t.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  });

  t.test("the SDK's stream helper assembles the completion", async (t) => {
    const final = await client.chat.completions.stream({ model: 'x', messages: hello, max_tokens: 30, seed: 9 }).finalChatCompletion();
    const whole = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 30, seed: 9 });
    t.equal(final.choices[0]!.message.content, whole.choices[0]!.message.content);
    t.equal(final.choices[0]!.message.role, 'assistant');
  });

  t.test('max_completion_tokens and max_tokens limit the reply (finish_reason length)', async (t) => {
    const a = await client.chat.completions.create({ model: 'x', messages: hello, max_completion_tokens: 3, seed: 1 });
    t.equal(a.choices[0]!.finish_reason, 'length');
    t.equal(a.usage!.completion_tokens, 3);
    const b = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 50, max_completion_tokens: 4, seed: 1 });
    t.equal(b.usage!.completion_tokens, 4, 'max_completion_tokens wins over the older max_tokens');
  });

  t.test('stop sequences end the text before them (finish_reason stop)', async (t) => {
    const full = (await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 60, seed: 1 })).choices[0]!.message.content!;
    const word = full.split(' ')[3]!;
    const cut = full.slice(0, full.indexOf(word));
    for (const stop of [word, [word, 'zzzz-never']]) {
      const res = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 60, seed: 1, stop });
      t.equal(res.choices[0]!.message.content, cut, `stop ${JSON.stringify(stop)}`);
      t.equal(res.choices[0]!.finish_reason, 'stop');
    }
    const stream = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 60, seed: 1, stop: word, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    t.equal(text, cut, 'the stream stops at the same place');
    t.equal(finish, 'stop');
  });

  t.test('temperature and top_p are honoured; the same seed gives the same text', async (t) => {
    const body = { model: 'x', messages: hello, max_tokens: 40, seed: 5, temperature: 0.7, top_p: 0.9 };
    const a = await client.chat.completions.create(body);
    const b = await client.chat.completions.create(body);
    t.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
    const greedy = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 12, temperature: 0 });
    const greedy2 = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 12, temperature: 0, seed: 77 });
    t.equal(greedy.choices[0]!.message.content, greedy2.choices[0]!.message.content, 'temperature 0 is greedy whatever the seed');
  });

  t.test('content as text parts reads like the same string; developer is a system message', async (t) => {
    const asString = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'one\ntwo' }], max_tokens: 20, seed: 3 });
    const asParts = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }],
      max_tokens: 20,
      seed: 3,
    });
    t.equal(asParts.choices[0]!.message.content, asString.choices[0]!.message.content);
    const dev = await client.chat.completions.create({ model: 'x', messages: [{ role: 'developer', content: 'Be terse.' }, ...hello], max_tokens: 20, seed: 3 });
    const sys = await client.chat.completions.create({ model: 'x', messages: [{ role: 'system', content: 'Be terse.' }, ...hello], max_tokens: 20, seed: 3 });
    t.equal(dev.choices[0]!.message.content, sys.choices[0]!.message.content);
  });

  t.test('harmless OpenAI fields are accepted and ignored', async (t) => {
    const res = await client.chat.completions.create({
      model: 'x',
      messages: hello,
      max_tokens: 10,
      seed: 1,
      user: 'someone',
      frequency_penalty: 0.5,
      presence_penalty: 0.5,
      logit_bias: { '42': 1 },
      logprobs: false,
      metadata: { a: 'b' },
      store: false,
      n: 1,
      parallel_tool_calls: true,
      service_tier: 'auto',
      tool_choice: 'none',
      response_format: { type: 'text' },
    });
    const plain = await client.chat.completions.create({ model: 'x', messages: hello, max_tokens: 10, seed: 1 });
    t.equal(res.choices[0]!.message.content, plain.choices[0]!.message.content);
    const future = await postJson<OpenAI.ChatCompletion>(`${url}/v1/chat/completions`, { messages: hello, max_tokens: 2, some_future_field: { x: 1 }, temperature: null, stop: null });
    t.equal(future.status, 200, 'unknown fields and nulls are fine');
  });

  t.test('what cannot be honoured is a 400 naming the field', async (t) => {
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['n 2', { n: 2 }, 'n', /n must be 1/],
      ['logprobs', { logprobs: true }, 'logprobs', /logprobs are not supported/],
      ['image part', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }, 'messages.0.content.0.type', /image_url.*text only/],
      ['tools on ChatML', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }] }, 'tools', /tools are not supported by the loaded model: its chat template \(ChatML\) has no function-calling format/],
      ['tool_choice required', { tool_choice: 'required' }, 'tool_choice', /cannot be enforced/],
      ['empty messages', { messages: [] }, 'messages', /messages must not be empty/],
      ['bad role', { messages: [{ role: 'robot', content: 'hi' }] }, 'messages.0.role', /role must be one of/],
      ['temperature 3', { temperature: 3 }, 'temperature', /temperature/],
      ['stray tool message', { messages: [{ role: 'tool', content: 'x', tool_call_id: 'c1' }] }, 'messages.0.tool_call_id', /must answer a tool call/],
    ];
    for (const [name, patch, param, message] of cases) {
      const err = await client.chat.completions.create({ model: 'x', messages: hello, ...patch } as never).catch((e: unknown) => e);
      t.type(err, OpenAI.BadRequestError, `${name}: BadRequestError`);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      t.equal(e.status, 400, `${name}: 400`);
      t.equal(e.code, 'invalid_request', `${name}: code`);
      t.equal(e.type, 'invalid_request_error', `${name}: type`);
      t.equal(e.param, param, `${name}: param`);
      t.match(e.message, message, `${name}: message`);
    }
  });
});
