// decodeJsonSliced (large bodies, several event-loop turns) must answer exactly like decodeJson
// (one task): the same value, or the same error with the same message and detail. The inputs
// are padded past SLICED_FROM_BYTES and put their tricky part across a 64 KiB slice boundary
// (a split UTF-8 sequence, a backslash ending a slice, a forbidden key, a lone surrogate).
import fc from 'fast-check';
import t from 'tap';
import { setImmediate as turn } from 'node:timers/promises';
import { InferdError } from '../../src/errors.js';
import { decodeJson, decodeJsonSliced, SLICED_FROM_BYTES } from '../../src/protocol/json-decode.js';

const SLICE = 64 * 1024;
const seed = Number(process.env['FUZZ_SEED'] ?? 20261206);

type Outcome = { value: unknown } | { error: { code: string; message: string; detail: unknown } };

function failed(err: unknown): Outcome {
  if (!(err instanceof InferdError)) throw err;
  return { error: { code: err.code, message: err.message, detail: err.detail } };
}

function sync(bytes: Buffer): Outcome {
  try {
    return { value: decodeJson(bytes) };
  } catch (err) {
    return failed(err);
  }
}

async function sliced(bytes: Buffer): Promise<Outcome> {
  try {
    return { value: await decodeJsonSliced(bytes) };
  } catch (err) {
    return failed(err);
  }
}

/** `text` with spaces before it so that its byte `at` lands `shift` bytes after a slice boundary. */
function across(text: string | Buffer, at: number, shift: number): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const pad = 2 * SLICE + shift - at;
  return Buffer.concat([Buffer.alloc(pad, 0x20), body]);
}

const filler = 'x'.repeat(100);
const CASES: Array<{ name: string; text: string | Buffer; at: number }> = [
  { name: 'valid object', text: `{"messages":[{"role":"user","content":"${filler}é€😀"}],"n":1}`, at: 110 },
  { name: 'split 4-byte sequence', text: `["${filler}😀"]`, at: 103 },
  { name: 'escaped quote after a slice-ending backslash', text: `["${filler}\\"${'['.repeat(80)}"]`, at: 102 },
  { name: 'escaped backslash at a boundary', text: `["${filler}\\\\",${'['.repeat(80)}${']'.repeat(80)}]`, at: 102 },
  { name: 'deep nesting', text: `{"x":${'['.repeat(200)}${']'.repeat(200)}}`, at: 30 },
  { name: 'deep nesting then invalid UTF-8', text: Buffer.concat([Buffer.from(`[${'['.repeat(100)}"`), Buffer.from([0xc3, 0x28]), Buffer.from('"]')]), at: 50 },
  { name: 'invalid UTF-8 at a boundary', text: Buffer.concat([Buffer.from('["ab'), Buffer.from([0xe2, 0x82]), Buffer.from('"]')]), at: 5 },
  { name: 'truncated sequence at the end', text: Buffer.concat([Buffer.from('["ab"]'), Buffer.from([0xe2, 0x82])]), at: 6 },
  { name: 'lone surrogate escape', text: `{"a":"${filler}\\ud800b"}`, at: 106 },
  { name: 'lone surrogate escape, upper case', text: `{"a":"${filler}\\uDC00"}`, at: 106 },
  { name: 'surrogate pair escape', text: `{"a":"${filler}\\ud83d\\ude00"}`, at: 106 },
  { name: 'lone surrogate in a key', text: `{"\\udc00":1}`, at: 2 },
  { name: '__proto__ key', text: `{"a":1,"__proto__":{"admin":true}}`, at: 8 },
  { name: 'escaped __proto__ key', text: `{"a":1,"\\u005f_proto__":{"admin":true}}`, at: 8 },
  { name: 'constructor and prototype, nested', text: `[{"role":"user","constructor":{"prototype":1}}]`, at: 16 },
  { name: 'forbidden key and lone surrogate', text: `{"b":"\\ud800","constructor":1}`, at: 6 },
  { name: 'not JSON', text: `{"messages":[${filler}`, at: 13 },
  { name: 'not JSON at the end', text: `{"a":"${filler}"`, at: 100 },
  { name: 'empty after padding', text: '', at: 0 },
  { name: 'a BOM', text: `\ufeff{"a":1}`, at: 1 },
];

t.test('large inputs: the sliced decoder answers like the one-task decoder', async (t) => {
  for (const c of CASES) {
    for (const shift of [-2, -1, 0, 1, 2]) {
      const bytes = across(c.text, c.at, shift);
      t.ok(bytes.length >= SLICED_FROM_BYTES);
      t.same(await sliced(bytes), sync(bytes), `${c.name}, shift ${shift}`);
    }
  }
});

t.test('small inputs are decoded in one go, with the same answers', async (t) => {
  for (const c of CASES) {
    const bytes = typeof c.text === 'string' ? Buffer.from(c.text, 'utf8') : c.text;
    t.same(await sliced(bytes), sync(bytes), c.name);
  }
});

t.test('fuzz: fragments around slice boundaries give the same answers', async (t) => {
  // Pieces that matter to one of the checks; joined at random they are mostly invalid JSON,
  // which is an answer to compare too.
  const fragment = fc.constantFrom(
    '{', '}', '[', ']', '"', '\\', '\\"', '\\\\', ',', ':', '1', 'x', ' ', '"a":', '"__proto__":', '"constructor":', '"prototype":',
    '\\ud800', '\\udc00', '\\uD83D\\uDE00', '😀', 'é', '€', '\ud800', '"\\u005f_proto__":',
  );
  const validish = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v));
  const text = fc.oneof(fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join('')), validish);
  const raw = fc.uint8Array({ maxLength: 8 });
  await fc.assert(
    fc.asyncProperty(text, raw, fc.nat({ max: 40 }), fc.integer({ min: -8, max: 8 }), async (s, extra, at, shift) => {
      const body = Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from(extra)]);
      const bytes = across(body, Math.min(at, body.length), shift);
      const a = sync(bytes);
      const b = await sliced(bytes);
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`sliced ${JSON.stringify(b)} vs one task ${JSON.stringify(a)}`);
    }),
    { seed, numRuns: 400 },
  );
  t.pass('400 inputs');
});

t.test('a 1 MB body is decoded over several event-loop turns', async (t) => {
  const content = 'lorem ipsum "quoted" é\n'.repeat(48 * 1024);
  const bytes = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content }] }), 'utf8');
  let turns = 0;
  let decoding = true;
  const count = async (): Promise<void> => {
    while (decoding) {
      await turn();
      turns++;
    }
  };
  const counting = count();
  const value = await decodeJsonSliced(bytes);
  decoding = false;
  await counting;
  t.same(value, { messages: [{ role: 'user', content }] });
  t.ok(turns >= 8, `${turns} turns for ${bytes.length} bytes`);
});
