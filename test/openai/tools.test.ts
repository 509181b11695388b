// tools through the openai SDK, on the path real function-calling models take: node-llama-cpp's
// LlamaChat, documenting the functions, spotting the call prefix, constraining name and
// arguments. The demo model's ChatML template has no call format (so the daemon refuses tools,
// see chat.test.ts); here the engine gets a ChatML wrapper whose call prefix is "The ", a word
// the demo model often starts with, so the model really does "call" functions.
import OpenAI from 'openai';
import t from 'tap';
import { ChatMLChatWrapper, ChatWrapper, LlamaText, SpecialTokensText, type ChatWrapperSettings } from 'node-llama-cpp';
import { Value } from 'typebox/value';
import { DEMO_MODELS } from '../../src/demo-model/index.js';
import { LlamaEngine } from '../../src/engine/llama-engine.js';
import { loadRuntime } from '../../src/engine/llama-runtime.js';
import type { ModelSource } from '../../src/lifecycle/model-source.js';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { openai, slotsFree } from './fixtures/openai-client.js';

class CallingChatML extends ChatMLChatWrapper {
  override readonly wrapperName: string = 'ChatML+calls';
  override readonly settings: ChatWrapperSettings = {
    ...ChatWrapper.defaultSettings,
    functions: {
      call: { optionalPrefixSpace: true, prefix: 'The ', paramsPrefix: LlamaText(new SpecialTokensText('(')), suffix: LlamaText(new SpecialTokensText(')')), emptyCallParamsPlaceholder: '' },
      result: { prefix: LlamaText(new SpecialTokensText('\n'), '=> '), suffix: LlamaText(new SpecialTokensText('\n')) },
    },
  };
}

function callingSource(): ModelSource {
  const runtime = loadRuntime({ maxThreads: 1, gpu: false });
  return {
    acquire: async () => ({ path: await demoModelPath('tiny'), sizeBytes: DEMO_MODELS.tiny.sizeBytes }),
    load: async (model, onPhase, signal) =>
      LlamaEngine.load({ llama: await runtime, modelPath: model.path, nCtx: 2048, parallel: 1, threads: 1, onPhase, signal, chatWrapper: new CallingChatML() }),
    close: async () => (await runtime).dispose(),
  };
}

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city now',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'] },
  },
};
const ask = [{ role: 'user' as const, content: 'weather in Paris?' }];

t.test('tools on a model whose template has a call format', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 0 }, { source: callingSource() });
  const client = openai(url);

  t.test('the capability is advertised', async (t) => {
    t.equal(daemon.lifecycle.engine!.capabilities.tools, true);
    t.equal(daemon.lifecycle.engine!.info.chatTemplate, 'ChatML+calls');
  });

  t.test('a call: finish_reason tool_calls, content null, arguments that validate', async (t) => {
    const res = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], seed: 2, max_tokens: 100 });
    const choice = res.choices[0]!;
    t.equal(choice.finish_reason, 'tool_calls');
    t.equal(choice.message.content, null, 'a reply that is only a call has no content');
    t.equal(choice.message.tool_calls?.length, 1);
    const call = choice.message.tool_calls![0]!;
    t.match(call.id, /^call_/);
    t.equal(call.type, 'function');
    if (call.type !== 'function') return;
    t.equal(call.function.name, 'get_weather');
    t.ok(Value.Check(WEATHER.function.parameters, JSON.parse(call.function.arguments)), call.function.arguments);
    t.ok(res.usage!.completion_tokens > 0);
  });

  t.test('text, then a call', async (t) => {
    const res = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], seed: 6, max_tokens: 100 });
    t.equal(res.choices[0]!.finish_reason, 'tool_calls');
    t.ok(res.choices[0]!.message.content!.length > 0);
    t.equal(res.choices[0]!.message.tool_calls?.length, 1);
  });

  t.test('streamed: the SDK assembles the call from the chunks', async (t) => {
    const whole = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], seed: 2, max_tokens: 100 });
    const final = await client.chat.completions.stream({ model: 'x', messages: ask, tools: [WEATHER], seed: 2, max_tokens: 100 }).finalChatCompletion();
    t.equal(final.choices[0]!.finish_reason, 'tool_calls');
    const [a, b] = [whole.choices[0]!.message.tool_calls![0]!, final.choices[0]!.message.tool_calls![0]!];
    if (a.type !== 'function' || b.type !== 'function') return t.fail('function calls');
    t.same(b.function, a.function, 'the same call as the non-stream answer');
  });

  t.test('a follow-up with the tool result continues the conversation', async (t) => {
    const first = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], seed: 2, max_tokens: 100 });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0]!;
    const followUp = await client.chat.completions.create({
      model: 'x',
      messages: [...ask, message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' }],
      tools: [WEATHER],
      seed: 3,
      max_tokens: 30,
    });
    t.ok(['stop', 'length', 'tool_calls'].includes(followUp.choices[0]!.finish_reason));
    t.ok(followUp.usage!.prompt_tokens > first.usage!.prompt_tokens, 'the call and its result are in the prompt');
    const unanswered = await client.chat.completions.create({ model: 'x', messages: [...ask, message, { role: 'user', content: 'and?' }], tools: [WEATHER] }).catch((e: unknown) => e);
    t.type(unanswered, OpenAI.BadRequestError);
    t.match((unanswered as Error).message, /has no tool message answering it/);
  });

  t.test('tool_choice none: a plain answer, as without tools', async (t) => {
    const none = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], tool_choice: 'none', seed: 2, max_tokens: 20 });
    const plain = await client.chat.completions.create({ model: 'x', messages: ask, seed: 2, max_tokens: 20 });
    t.equal(none.choices[0]!.message.content, plain.choices[0]!.message.content);
    t.notOk(none.choices[0]!.message.tool_calls);
  });

  t.test('what cannot be enforced is a 400', async (t) => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ tool_choice: 'required' }, 'tool_choice', /"required" cannot be enforced/],
      [{ tool_choice: { type: 'function', function: { name: 'get_weather' } } }, 'tool_choice', /naming a function cannot be enforced/],
      [{ response_format: { type: 'json_object' } }, 'response_format', /cannot be combined with tools/],
      [{ tools: [WEATHER, WEATHER] }, 'tools.1.function.name', /duplicate tool name/],
      [{ tools: [{ ...WEATHER, function: { ...WEATHER.function, parameters: { type: 'object', properties: { n: { type: 'number', maximum: 3 } } } } }] }, 'tools.0.function.parameters', /`maximum`/],
    ];
    for (const [patch, param, message] of cases) {
      const err = await client.chat.completions.create({ model: 'x', messages: ask, tools: [WEATHER], ...patch } as never).catch((e: unknown) => e);
      t.type(err, OpenAI.BadRequestError);
      t.equal((err as InstanceType<typeof OpenAI.BadRequestError>).param, param);
      t.match((err as Error).message, message);
    }
  });

  t.test("node-llama-cpp's integer exponent in tool arguments is a clear 500, and the slot is freed", async (t) => {
    // LlamaChat builds the argument grammar itself, so the engine cannot tighten it as it does
    // for response_format; node-llama-cpp then rejects its own output (`47321e-6` is no integer).
    const days = { ...WEATHER, function: { ...WEATHER.function, parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, days: { type: 'integer' } } } } };
    const err = await client.chat.completions.create({ model: 'x', messages: ask, tools: [days], seed: 2, max_tokens: 100 }).catch((e: unknown) => e);
    t.type(err, OpenAI.InternalServerError);
    t.equal((err as InstanceType<typeof OpenAI.InternalServerError>).status, 500);
    t.match((err as Error).message, /the model produced a tool call that does not match its schema: Expected type "integer"/);
    await slotsFree(daemon);
  });
});
