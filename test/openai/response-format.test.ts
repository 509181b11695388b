// response_format json_object / json_schema through the openai SDK: the output is JSON that
// parses, and for a schema it validates (checked here with TypeBox, independently of the daemon).
import OpenAI from 'openai';
import t from 'tap';
import { Value } from 'typebox/value';
import { startDaemon } from '../helpers/daemon.js';
import { openai } from './fixtures/openai-client.js';

const ask = [{ role: 'user' as const, content: 'Reply in JSON' }];

/** Every JSON-schema feature the grammar enforces, including the `integer` that once took exponents. */
const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 16 },
    count: { type: 'integer' },
    ratio: { type: 'number' },
    ready: { type: 'boolean' },
    level: { enum: ['low', 'high'] },
    kind: { const: 'demo' },
    tags: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 3 },
    note: { anyOf: [{ type: 'null' }, { type: 'integer' }] },
    owner: { $ref: '#/$defs/Person' },
    day: { type: 'string', format: 'date' },
  },
  required: ['name', 'count', 'ratio', 'ready', 'level', 'kind', 'tags', 'note', 'owner', 'day'],
  additionalProperties: false,
  $defs: { Person: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
} as const;

t.test('response_format with the openai SDK', async (t) => {
  const { url } = await startDaemon(t);
  const client = openai(url);

  t.test('json_schema: every finished output parses and validates, with integer integers', async (t) => {
    for (let seed = 1; seed <= 8; seed++) {
      const res = await client.chat.completions.create({
        model: 'x',
        messages: ask,
        seed,
        max_tokens: 400,
        response_format: { type: 'json_schema', json_schema: { name: 'report', schema: SCHEMA, strict: true } },
      });
      const choice = res.choices[0]!;
      t.equal(choice.finish_reason, 'stop', `seed ${seed}: the grammar brought the model to an end`);
      const value = JSON.parse(choice.message.content!) as { count: number; owner: { id: number } };
      t.ok(Value.Check(SCHEMA, value), `seed ${seed}: validates: ${choice.message.content}`);
      t.ok(Number.isSafeInteger(value.count) || Number.isInteger(value.count), `seed ${seed}: count is an integer`);
      t.notMatch(choice.message.content!, /"count":\s*-?\d+[eE]/, `seed ${seed}: no exponent on the integer`);
    }
  });

  t.test('json_schema streamed: the chunks add up to JSON that validates', async (t) => {
    const stream = await client.chat.completions.create({
      model: 'x',
      messages: ask,
      seed: 3,
      max_tokens: 400,
      stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'report', schema: SCHEMA } },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    t.ok(Value.Check(SCHEMA, JSON.parse(text)));
  });

  t.test('json_object: an object that parses', async (t) => {
    // The demo model writes long strings; this seed brings the object to an end in the budget.
    const res = await client.chat.completions.create({ model: 'x', messages: ask, seed: 5, max_tokens: 300, response_format: { type: 'json_object' } });
    t.equal(res.choices[0]!.finish_reason, 'stop');
    const value: unknown = JSON.parse(res.choices[0]!.message.content!);
    t.ok(value !== null && typeof value === 'object' && !Array.isArray(value));
    const cut = await client.chat.completions.create({ model: 'x', messages: ask, seed: 1, max_tokens: 20, response_format: { type: 'json_object' } });
    t.equal(cut.choices[0]!.finish_reason, 'length', 'a truncated object says so with finish_reason length');
    t.match(cut.choices[0]!.message.content!, /^\{/);
  });

  t.test('a schema the grammar cannot enforce is a 400 naming the keyword', async (t) => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } }, /properties\.n: `minimum` cannot be enforced/],
      [{ type: 'string', pattern: '^a+$' }, /`pattern` cannot be enforced/],
      [{ type: 'string', format: 'email' }, /`format` must be one of date, time, date-time/],
      [{ type: 'object', properties: { a: { type: 'string' } }, required: ['b'] }, /`required` names `b`, which is not in `properties`/],
      [{ type: 'object', properties: { a: { $ref: '#/$defs/Missing' } } }, /missing definition `Missing`/],
      [{ allOf: [{ type: 'string' }, { type: 'number' }] }, /`allOf` is supported only with a single schema/],
    ];
    for (const [schema, message] of cases) {
      const err = await client.chat.completions
        .create({ model: 'x', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })
        .catch((e: unknown) => e);
      t.type(err, OpenAI.BadRequestError);
      t.equal((err as InstanceType<typeof OpenAI.BadRequestError>).param, 'response_format.json_schema.schema');
      t.match((err as Error).message, message);
    }
  });
});
