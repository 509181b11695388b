// POST /v1/completions, POST /v1/embeddings and GET /v1/models through the official openai SDK.
import OpenAI from 'openai';
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { postJson } from '../helpers/http.js';
import { openai } from './fixtures/openai-client.js';

t.test('completions, embeddings and models with the openai SDK', async (t) => {
  const { url, daemon } = await startDaemon(t);
  const client = openai(url);
  const engine = daemon.lifecycle.engine!;

  t.test('completions: a text_completion on the raw prompt', async (t) => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'The daemon', max_tokens: 8, seed: 1 });
    t.match(res.id, /^cmpl-/);
    t.equal(res.object, 'text_completion');
    t.equal(res.model, engine.info.modelName);
    t.equal(res.choices.length, 1);
    t.equal(res.choices[0]!.index, 0);
    t.ok(res.choices[0]!.text.length > 0);
    t.equal(res.choices[0]!.finish_reason, 'length');
    t.equal(res.usage!.completion_tokens, 8);
    t.equal(res.usage!.prompt_tokens, engine.countPromptTokens({ kind: 'text', text: 'The daemon' }), 'no chat template around the prompt');
    const byDefault = await client.completions.create({ model: 'x', prompt: 'The daemon', seed: 1, temperature: 0 });
    t.ok(byDefault.usage!.completion_tokens <= 16, 'max_tokens defaults to 16, as in the OpenAI API');
  });

  t.test('completions: a prompt array gives one choice per prompt, each its own generation', async (t) => {
    const prompts = ['The daemon', 'A model', 'Streaming'];
    const res = await client.completions.create({ model: 'x', prompt: prompts, max_tokens: 6, seed: 4 });
    t.same(res.choices.map((c) => c.index), [0, 1, 2]);
    for (const [i, prompt] of prompts.entries()) {
      const alone = await client.completions.create({ model: 'x', prompt, max_tokens: 6, seed: 4 });
      t.equal(res.choices[i]!.text, alone.choices[0]!.text, `choice ${i} is what prompt ${i} gives alone`);
    }
    t.equal(res.usage!.completion_tokens, 18, 'usage adds up over the prompts');
  });

  t.test('completions: streaming, echo and usage', async (t) => {
    const whole = await client.completions.create({ model: 'x', prompt: ['The daemon', 'A model'], max_tokens: 6, seed: 2, echo: true });
    t.ok(whole.choices[0]!.text.startsWith('The daemon'), 'echo puts the prompt first');
    const stream = await client.completions.create({ model: 'x', prompt: ['The daemon', 'A model'], max_tokens: 6, seed: 2, echo: true, stream: true, stream_options: { include_usage: true } });
    const texts = ['', ''];
    const finishes: Array<string | null> = [null, null];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      t.equal(chunk.object, 'text_completion');
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.text;
        finishes[choice.index] = choice.finish_reason ?? finishes[choice.index]!;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    t.same(texts, whole.choices.map((c) => c.text), 'the stream carries the same texts');
    t.same(finishes, ['length', 'length']);
    t.same(usage, whole.usage);
  });

  t.test('completions: what cannot be honoured is a 400', async (t) => {
    for (const [patch, param] of [
      [{ n: 2 }, 'n'],
      [{ best_of: 3 }, 'best_of'],
      [{ suffix: 'end' }, 'suffix'],
      [{ logprobs: 2 }, 'logprobs'],
      [{ prompt: [1, 2, 3] }, 'prompt'],
    ] as const) {
      const err = await client.completions.create({ model: 'x', prompt: 'x', ...patch } as never).catch((e: unknown) => e);
      t.type(err, OpenAI.BadRequestError, JSON.stringify(patch));
      t.equal((err as InstanceType<typeof OpenAI.BadRequestError>).param?.split('.')[0], param);
    }
  });

  t.test('embeddings: float vectors, one per input, in order', async (t) => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'], encoding_format: 'float' });
    t.equal(res.object, 'list');
    t.equal(res.model, engine.info.modelName);
    t.same(res.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
    for (const d of res.data) {
      t.equal(d.embedding.length, engine.info.embeddingSize);
      t.ok(d.embedding.every((v) => Number.isFinite(v)));
    }
    const direct = await engine.embed(['first text', 'second text']);
    t.same(res.data.map((d) => d.embedding), direct.vectors, 'exactly the engine vectors');
    t.equal(res.usage.prompt_tokens, direct.promptTokens);
    t.equal(res.usage.total_tokens, direct.promptTokens);
  });

  t.test('embeddings: base64, as the SDK requests by default and decodes', async (t) => {
    const floats = await client.embeddings.create({ model: 'x', input: 'hello world', encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model: 'x', input: 'hello world' });
    t.same(decoded.data[0]!.embedding, floats.data[0]!.embedding, 'the SDK decodes our base64 to the same floats');
    const raw = await client.embeddings.create({ model: 'x', input: 'hello world', encoding_format: 'base64' });
    const text = raw.data[0]!.embedding as unknown as string;
    t.type(text, 'string', 'asked for base64 explicitly, the SDK hands the string through');
    const bytes = Buffer.from(text, 'base64');
    t.equal(bytes.length, engine.info.embeddingSize * 4);
    const le = Array.from({ length: engine.info.embeddingSize }, (_, i) => bytes.readFloatLE(i * 4));
    t.same(le, floats.data[0]!.embedding, 'little-endian float32');
  });

  t.test('embeddings: bad input is a 400', async (t) => {
    for (const [body, param] of [
      [{ input: '' }, 'input'],
      [{ input: ['ok', ''] }, 'input.1'],
      [{ input: 'x', dimensions: 3 }, 'dimensions'],
      [{ input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      [{ input: [[1, 2]] }, 'input'],
    ] as const) {
      const res = await postJson<{ error: { param: string; code: string } }>(`${url}/v1/embeddings`, body);
      t.equal(res.status, 400, JSON.stringify(body));
      t.equal(res.body.error.code, 'invalid_request');
      t.ok(res.body.error.param.startsWith(param), `param ${res.body.error.param}`);
    }
    const same = await client.embeddings.create({ model: 'x', input: 'x', dimensions: engine.info.embeddingSize });
    t.equal(same.data[0]!.embedding.length, engine.info.embeddingSize, "the model's own size is accepted");
  });

  t.test('models: the list has the one loaded model; retrieve gives it too', async (t) => {
    const list = await client.models.list();
    t.equal(list.data.length, 1);
    const [model] = list.data;
    t.equal(model!.id, engine.info.modelName);
    t.equal(model!.object, 'model');
    t.equal(model!.owned_by, 'inferd');
    t.ok(Number.isInteger(model!.created) && model!.created > 0);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    t.same(ids, [engine.info.modelName], 'the SDK paginates over it');
    t.same(await client.models.retrieve(model!.id), model);
  });
});
