import t from 'tap';
import { isInferdError } from '../../src/errors.js';
import { decodeV1Request, resolveV1Request, V1_DEFAULTS } from '../../src/protocol/v1.js';

const hi = [{ role: 'user', content: 'hi' }];

function rejection(fn: () => unknown): { stage: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    if (isInferdError(err) && err.code === 'invalid_request') return { stage: err.detail?.stage, message: err.message };
    throw err;
  }
  throw new Error('expected invalid_request');
}

const parse = (value: unknown) => resolveV1Request(decodeV1Request(value));

t.test('defaults are applied server-side', async (t) => {
  const req = parse({ messages: hi });
  t.equal(req.id, '');
  t.equal(req.temperature, V1_DEFAULTS.temperature);
  t.equal(req.top_p, 0.95);
  t.equal(req.top_k, 64);
  t.equal(req.max_tokens, 1000);
  t.equal(req.stream, true);
  t.equal(req.grammar, '');
  t.equal(req.image_token_budget, undefined);
});

t.test('unknown fields are ignored', async (t) => {
  const req = parse({ id: 'x', messages: hi, future_field: { a: 1 }, model: 'whatever' });
  t.equal(req.id, 'x');
});

t.test('every invalid_request case of contract §1.4', async (t) => {
  const decode = (value: unknown, pattern: RegExp, what: string) => {
    const r = rejection(() => parse(value));
    t.equal(r.stage, 'decode', `${what}: a decode error`);
    t.match(r.message, pattern, what);
  };
  decode({ id: 'a' }, /^invalid request: missing field messages$/, 'missing messages key');
  decode({ messages: [{ role: 'robot', content: 'x' }] }, /messages\.0\.role must be one of "system", "user", "assistant"/, 'bad role');
  decode({ messages: [{ role: 'User', content: 'x' }] }, /role must be one of/, 'roles are lowercase');
  decode({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }, /messages\.0\.content must be string/, 'content array');
  decode({ messages: [{ role: 'user' }] }, /messages\.0: missing field content/, 'missing content');
  decode({ messages: hi, top_k: -1 }, /top_k must be >= 0/, 'negative top_k');
  decode({ messages: hi, max_tokens: 1.5 }, /max_tokens must be integer/, 'fractional max_tokens');
  decode({ messages: hi, max_tokens: 2 ** 32 }, /max_tokens must be <= 4294967295/, 'max_tokens over u32');
  decode({ messages: hi, temperature: '1.0' }, /temperature must be number/, 'string temperature is not coerced');
  decode({ messages: hi, stream: 'yes' }, /stream must be boolean/, 'non-boolean stream');
  decode({ messages: 'hi' }, /messages must be array/, 'messages not an array');
  decode([hi], /^invalid request: body must be object$/, 'array body');
  decode(null, /^invalid request: body must be object$/, 'null body');
  decode({ id: 7, messages: hi }, /id must be string/, 'non-string id');

  const resolve = (value: unknown, message: string, what: string) => {
    const r = rejection(() => parse(value));
    t.equal(r.stage, 'resolve', `${what}: a resolve error`);
    t.equal(r.message, message, what);
  };
  resolve({ messages: [] }, 'invalid request: messages must not be empty', 'empty messages');
  resolve({ messages: hi, image_token_budget: 100 }, 'invalid request: image_token_budget 100 not in [70, 140, 280, 560, 1120]', 'bad image budget');
  resolve({ messages: hi, grammar: 'x'.repeat(64 * 1024 + 1) }, 'invalid request: grammar is larger than 65536 bytes', 'grammar too big');
  resolve({ messages: hi, grammar: 'root ::= ' + Array(4098).fill('"a"').join(' | ') }, 'invalid request: grammar has more than 4096 alternations', 'too many |');
});

t.test('every allowed image_token_budget passes', async (t) => {
  for (const budget of [70, 140, 280, 560, 1120]) t.equal(parse({ messages: hi, image_token_budget: budget }).image_token_budget, budget);
});

t.test('a huge array is refused without walking every element', async (t) => {
  const before = process.memoryUsage().heapUsed;
  const r = rejection(() => parse({ messages: new Array(2_000_000).fill(1) }));
  t.equal(r.stage, 'decode');
  t.equal(r.message, 'invalid request: messages must have at most 10000 items');
  t.ok(process.memoryUsage().heapUsed - before < 200 * 1024 * 1024, 'no per-element error objects were built');
});
