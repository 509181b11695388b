// The JSON-schema translation (client schema → node-llama-cpp grammar subset + a checking schema)
// and the number-rule patch that keeps `integer` free of exponents, on the real engine.
import t from 'tap';
import { patchBundledJsonGrammar, patchSchemaGrammar } from '../../src/engine/json-grammar.js';
import { LlamaEngine } from '../../src/engine/llama-engine.js';
import { loadRuntime } from '../../src/engine/llama-runtime.js';
import { InferdError } from '../../src/errors.js';
import { convertJsonSchema } from '../../src/inference/json-schema.js';
import { demoModelPath } from '../helpers/demo-model.js';

t.test('convertJsonSchema', async (t) => {
  t.test('unions become oneOf for the grammar and anyOf for the check', async (t) => {
    const out = convertJsonSchema({ anyOf: [{ type: 'string' }, { type: 'null' }], title: 'ignored', description: 'ignored' }, 'p');
    t.same(out.grammar, { oneOf: [{ type: 'string' }, { type: 'null' }] });
    t.same(out.check, { anyOf: [{ type: 'string' }, { type: 'null' }] });
  });

  t.test('a type list with an object splits into alternatives', async (t) => {
    const out = convertJsonSchema({ type: ['object', 'null'], properties: { a: { type: 'integer' } }, required: ['a'] }, 'p');
    t.same(out.grammar, { oneOf: [{ type: 'object', properties: { a: { type: 'integer' } } }, { type: 'null' }] });
    t.same(out.check, { anyOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { type: 'null' }] });
  });

  t.test('definitions, draft-07 refs and tuples are read as 2020-12', async (t) => {
    const out = convertJsonSchema(
      { type: 'object', properties: { p: { $ref: '#/definitions/P' }, t: { type: 'array', items: [{ type: 'string' }, { type: 'boolean' }] } }, definitions: { P: { type: 'string' } } },
      'p',
    );
    t.same(out.grammar, {
      type: 'object',
      properties: { p: { $ref: '#/$defs/P' }, t: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'boolean' }] } },
      $defs: { P: { type: 'string' } },
    });
  });

  t.test('Pydantic-style allOf of one reference; no type means any JSON', async (t) => {
    const out = convertJsonSchema({ type: 'object', properties: { a: { allOf: [{ $ref: '#/$defs/A' }], description: 'x' }, b: {} }, $defs: { A: { enum: [1, 2] } } }, 'p');
    t.same((out.grammar['properties'] as Record<string, unknown>)['a'], { $ref: '#/$defs/A' });
    t.match((out.grammar['properties'] as Record<string, unknown>)['b'], { oneOf: Array });
    t.same((out.check['properties'] as Record<string, unknown>)['b'], {});
  });

  t.test('formats: the grammar enforces date/time; the check only asks for a string', async (t) => {
    const out = convertJsonSchema({ type: 'string', format: 'date-time' }, 'p');
    t.same(out.grammar, { type: 'string', format: 'date-time' });
    t.same(out.check, { type: 'string' });
  });

  t.test('refusals name the request field and the keyword', async (t) => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'integer', multipleOf: 2 }, /^invalid request: tools\.0\.function\.parameters: `multipleOf` cannot be enforced/],
      [{ type: 'object', properties: { a: { type: 'string', pattern: 'x' } } }, /parameters\.properties\.a: `pattern`/],
      [{ type: 'object', properties: { a: false } }, /a `false` schema allows no value/],
      [{ $ref: 'http://example.com/s.json' }, /must point into the top-level `\$defs`/],
      [{ type: 'object', properties: { a: { type: 'string', $defs: {} } } }, /put `\$defs` at the top level/],
      [{ type: 'thing' }, /`type` must be one of/],
      [{ enum: [{ a: 1 }] }, /`enum` must be a non-empty array of strings, numbers, booleans or null/],
      [{ anyOf: [{ type: 'string' }], type: 'string' }, /put `type` and other keywords inside the `anyOf` alternatives/],
      [{ type: 'string', format: 'date', maxLength: 3 }, /`format` cannot be combined/],
      [[1, 2], /must be a JSON schema object/],
      [{ type: 'string', minLength: 5, maxLength: 2 }, /`minLength` is larger than `maxLength`: no string can match/],
      [{ type: 'array', minItems: 3, maxItems: 1 }, /`minItems` is larger than `maxItems`/],
      [{ type: 'object', minProperties: 2, maxProperties: 1 }, /`minProperties` is larger than `maxProperties`/],
    ];
    for (const [schema, message] of cases) {
      try {
        convertJsonSchema(schema, 'tools.0.function.parameters');
        t.fail(`accepted ${JSON.stringify(schema)}`);
      } catch (err) {
        t.type(err, InferdError);
        t.equal((err as InferdError).code, 'invalid_request');
        t.equal((err as InferdError).detail?.['param'], 'tools.0.function.parameters');
        t.match((err as Error).message, message);
      }
    }
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 70; i++) deep = { type: 'array', items: deep };
    t.throws(() => convertJsonSchema(deep, 'p'), /nested deeper than 64 levels/);
  });
});

t.test('the number-rule patch, on the grammars node-llama-cpp 3.21.1 generates', async (t) => {
  const llama = await loadRuntime({ maxThreads: 1, gpu: false });
  t.teardown(() => llama.dispose());
  const schema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' }, c: { type: 'integer' } } } as const;
  const original = (await llama.createGrammarForJsonSchema(schema)).grammar;

  t.test('the rules are found and tightened', async (t) => {
    t.match(original, /^integer-number-rule ::= .* \(\[eE\] /m, 'node-llama-cpp lets an integer take an exponent');
    const patched = patchSchemaGrammar(original);
    t.ok(patched.patched);
    t.notMatch(patched.text, /^integer-number-rule ::= .*[eE]/m, 'no exponent on integers');
    const mixed = patchSchemaGrammar((await llama.createGrammarForJsonSchema({ type: 'array', items: { type: 'number' } })).grammar);
    t.match(mixed.text, /^fractional-number-rule ::= .* \(\[eE\] \[-\+\]\? \[0-9\]\{1,2\}\)\?$/m, 'numbers get a short exponent');
    t.ok(patchSchemaGrammar((await llama.createGrammarForJsonSchema({ type: 'string' })).grammar).patched, 'no number rules: nothing to patch');
    const bundled = patchBundledJsonGrammar((await llama.getGrammarFor('json')).grammar);
    t.ok(bundled.patched, 'the bundled json.gbnf number rule is found');
    t.match(bundled.text, /\[eE\] \[-\+\]\? \[0-9\]\{1,2\}/);
    t.notOk(patchSchemaGrammar('root ::= "x" ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?\ninteger-number-rule ::= "1"').patched, 'an unknown layout is left alone');
  });

  t.test('the same seeds: exponents on integers without the patch, integers with it', async (t) => {
    const engine = await LlamaEngine.load({ llama, modelPath: await demoModelPath('tiny'), nCtx: 512, parallel: 1, threads: 1 });
    t.teardown(() => engine.close());
    const patched = patchSchemaGrammar(original).text;
    const generate = async (grammar: string, seed: number) =>
      (await engine.generate({
        prompt: { kind: 'chat', messages: [{ role: 'user', content: 'hi' }] },
        maxTokens: 40,
        temperature: 1,
        topP: 0.95,
        topK: 64,
        seed,
        constraint: { kind: 'gbnf', grammar },
      })).text;
    for (const seed of [2, 4]) {
      t.match(await generate(original, seed), /\d[eE]-\d/, `seed ${seed}: node-llama-cpp's grammar gives an exponent`);
      const fixed = JSON.parse(await generate(patched, seed)) as Record<string, number>;
      t.ok(Object.values(fixed).every((v) => Number.isInteger(v)), `seed ${seed}: integers with the patch: ${JSON.stringify(fixed)}`);
    }
  });
});
