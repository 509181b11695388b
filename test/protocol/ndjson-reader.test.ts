import t from 'tap';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { MAX_FRAME_BYTES } from '../../src/protocol/ndjson.js';
import { NdjsonDecoder, readNdjson, type NdjsonItem } from '../../src/protocol/ndjson-reader.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** mulberry32: a small seeded PRNG so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a decoded item looks like for comparison: the value, or the error's code and message. */
type Outcome = { frame: unknown } | { error: string };
const outcome = (item: NdjsonItem): Outcome =>
  item.kind === 'frame' ? { frame: item.value } : { error: `${item.error.code}: ${item.error.message}` };

function decodeSync(chunks: readonly Uint8Array[], maxFrameBytes?: number): Outcome[] {
  const decoder = new NdjsonDecoder({ maxFrameBytes });
  const out: Outcome[] = [];
  const drain = (): void => {
    for (let item = decoder.next(); item; item = decoder.next()) out.push(outcome(item));
  };
  for (const chunk of chunks) {
    decoder.push(chunk);
    drain();
  }
  decoder.end();
  drain();
  return out;
}

async function decodeStream(source: Readable, maxFrameBytes?: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for await (const item of readNdjson(source, { maxFrameBytes })) out.push(outcome(item));
  return out;
}

/** Splits `buf` at random points, often inside multi-byte UTF-8 sequences; counts those splits. */
function randomChunks(buf: Buffer, rnd: () => number): { chunks: Buffer[]; midChar: number } {
  const chunks: Buffer[] = [];
  let midChar = 0;
  let at = 0;
  while (at < buf.length) {
    const size = rnd() < 0.3 ? 1 : 1 + Math.floor(rnd() * 40);
    const end = Math.min(buf.length, at + size);
    chunks.push(buf.subarray(at, end));
    if (end < buf.length && (buf[end]! & 0xc0) === 0x80) midChar++;
    at = end;
  }
  return { chunks, midChar };
}

const ALPHABET = ['a', 'Z', ' ', 'é', '€', '𝄞', '中', '"', '\\', '\n', '\u2028', '{'];

function randomValue(rnd: () => number): unknown {
  const text = Array.from({ length: Math.floor(rnd() * 30) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('');
  return { id: String(Math.floor(rnd() * 1000)), messages: [{ role: 'user', content: text }], n: rnd() < 0.5 ? null : rnd() };
}

t.test('property: any chunking decodes to the same frames as the whole input', async (t) => {
  let midCharSplits = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = prng(seed);
    const values = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => randomValue(rnd));
    const lines = values.map((v) => JSON.stringify(v));
    let text = lines.map((l) => l + (rnd() < 0.3 ? '\r\n' : '\n')).join('');
    if (rnd() < 0.3) text = text.replace(/\r?\n$/, ''); // final line without newline
    const input = Buffer.from(text, 'utf8');
    const expected = values.map((frame) => ({ frame }));

    t.same(decodeSync([input]), expected, `seed ${seed}: whole input`);
    const { chunks, midChar } = randomChunks(input, rnd);
    midCharSplits += midChar;
    t.same(decodeSync(chunks), expected, `seed ${seed}: ${chunks.length} random chunks (sync)`);
    t.same(await decodeStream(Readable.from(chunks)), expected, `seed ${seed}: random chunks (stream)`);
  }
  t.ok(midCharSplits > 100, `splits inside multi-byte characters were exercised (${midCharSplits})`);
});

t.test('property: with bad lines mixed in, chunking still gives the same outcome (seeded)', async (t) => {
  const bad = [Buffer.from('\n'), Buffer.from('{"a":\n'), Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d, 0x0a]), Buffer.from('x'.repeat(90) + '\n')];
  for (let seed = 1000; seed < 1200; seed++) {
    const rnd = prng(seed);
    const parts: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      parts.push(rnd() < 0.25 ? bad[Math.floor(rnd() * bad.length)]! : Buffer.from(JSON.stringify(randomValue(rnd)) + '\n'));
    }
    const input = Buffer.concat(parts);
    const whole = decodeSync([input], 80);
    const { chunks } = randomChunks(input, rnd);
    t.same(decodeSync(chunks, 80), whole, `seed ${seed}: sync`);
    t.same(await decodeStream(Readable.from(chunks), 80), whole, `seed ${seed}: stream`);
    const errors = whole.filter((o) => 'error' in o).length;
    t.ok(errors <= 1 && (errors === 0 || 'error' in whole[whole.length - 1]!), `seed ${seed}: an error is the last item`);
  }
});

t.test('exactly 64 MiB is accepted, 64 MiB + 1 byte is refused', async (t) => {
  const body = Buffer.alloc(MAX_FRAME_BYTES, 0x61);
  body.write('{"p":"', 0, 'latin1');
  body.write('"}', MAX_FRAME_BYTES - 2, 'latin1');
  const MiB = 1024 * 1024;
  const pieces = Array.from({ length: MAX_FRAME_BYTES / MiB }, (_, i) => body.subarray(i * MiB, (i + 1) * MiB));

  // One leading space makes 67,108,865 bytes that would be valid JSON if the cap let it through.
  const refused = new NdjsonDecoder();
  let item: NdjsonItem | undefined;
  for (const piece of [Buffer.from(' '), ...pieces]) {
    refused.push(piece);
    item = refused.next();
    t.ok(refused.pendingBytes <= MAX_FRAME_BYTES, 'the buffer never exceeds the cap');
    if (item) break;
  }
  t.match(item, { kind: 'error', error: { code: 'frame_too_large', message: 'frame exceeds 67108864 byte cap' } });
  t.equal(refused.pendingBytes, 0, 'released after refusing');
  t.ok(refused.stopped);

  const accepted = await decodeStreamItems(Readable.from([...pieces, Buffer.from('\n')]));
  t.equal(accepted.length, 1);
  const frame = accepted[0]!;
  t.equal(frame.kind, 'frame');
  if (frame.kind === 'frame') {
    t.equal(frame.bytes, 67_108_864);
    t.equal((frame.value as { p: string }).p.length, MAX_FRAME_BYTES - 8);
  }

  const overStream = await decodeStreamItems(Readable.from([Buffer.from(' '), ...pieces, Buffer.from('\n')]));
  t.same(
    overStream.map((i) => (i.kind === 'error' ? i.error.code : i.kind)),
    ['frame_too_large'],
  );
});

async function decodeStreamItems(source: Readable): Promise<NdjsonItem[]> {
  const out: NdjsonItem[] = [];
  for await (const item of readNdjson(source)) out.push(item);
  return out;
}

t.test('a never-ending line is cut at the cap without the buffer growing past it', async (t) => {
  const MiB = 1024 * 1024;
  const chunk = Buffer.alloc(MiB, 0x61);
  const decoder = new NdjsonDecoder();
  let maxPending = 0;
  let cutAt = -1;
  for (let i = 0; i < 200; i++) {
    decoder.push(chunk);
    const item = decoder.next();
    maxPending = Math.max(maxPending, decoder.pendingBytes);
    if (item) {
      t.match(item, { kind: 'error', error: { code: 'frame_too_large' } });
      cutAt = i;
      break;
    }
  }
  t.equal(maxPending, MAX_FRAME_BYTES, 'held exactly the cap at most');
  t.equal(cutAt, 64, 'refused on the chunk that would cross 64 MiB');
  decoder.push(chunk);
  t.equal(decoder.next(), undefined, 'stopped: later input is ignored');

  // The same through a stream that never ends: the reader stops pulling once it has refused.
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += chunk.length;
      this.push(chunk);
    },
  });
  const items = await decodeStreamItems(endless);
  t.match(items, [{ kind: 'error', error: { code: 'frame_too_large' } }]);
  t.ok(produced <= MAX_FRAME_BYTES + 4 * MiB, `stopped reading after ${produced} bytes`);
  t.notOk(endless.destroyed, 'the reader leaves the stream to its owner (who writes the error frame)');
  endless.destroy();
});

t.test('a final line without newline at EOF is accepted; zero bytes at EOF is a clean end', async (t) => {
  t.same(decodeSync([Buffer.from('{"a":1}\n{"b":2}')]), [{ frame: { a: 1 } }, { frame: { b: 2 } }]);
  t.same(decodeSync([Buffer.from('{"a":1}\n')]), [{ frame: { a: 1 } }]);
  t.same(decodeSync([]), []);
  t.same(await decodeStream(Readable.from([Buffer.from('{"a":1}\r\n{"b"'), Buffer.from(':2}')])), [{ frame: { a: 1 } }, { frame: { b: 2 } }]);
});

t.test('CRLF is tolerated', async (t) => {
  t.same(decodeSync([Buffer.from('{"a":1}\r\n{"b":2}\r\n')]), [{ frame: { a: 1 } }, { frame: { b: 2 } }]);
});

t.test('invalid UTF-8 is a decode error, and nothing after it is read', async (t) => {
  const cases: Array<[string, number[]]> = [
    ['stray 0xff', [0xff]],
    ['truncated sequence', [0xe2, 0x82]],
    ['overlong encoding', [0xc0, 0xaf]],
    ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ];
  for (const [name, bytes] of cases) {
    const input = Buffer.concat([Buffer.from('{"s":"'), Buffer.from(bytes), Buffer.from('"}\n{"ok":true}\n')]);
    t.same(decodeSync([input]), [{ error: 'invalid_request: decode: invalid UTF-8' }], name);
  }
  t.same(decodeSync([Buffer.from('\uFEFF{"a":1}\n')]).length, 1);
  t.match(decodeSync([Buffer.from('\uFEFF{"a":1}\n')])[0], { error: /^invalid_request: decode: invalid JSON/ }, 'a BOM is not JSON');
});

t.test('an empty line is a decode error', async (t) => {
  t.same(decodeSync([Buffer.from('{"a":1}\n\n{"b":2}\n')]), [{ frame: { a: 1 } }, { error: 'invalid_request: decode: empty line' }]);
  t.same(decodeSync([Buffer.from('\r\n')]), [{ error: 'invalid_request: decode: empty line' }]);
});

t.test('bad JSON is a decode error that does not echo the input', async (t) => {
  const [only, ...rest] = decodeSync([Buffer.from('{"secret-token-value" 1}\n{"a":1}\n')]);
  t.same(rest, []);
  t.match(only, { error: /^invalid_request: decode: invalid JSON/ });
  t.notMatch(JSON.stringify(only), /secret/);
  t.match(decodeSync([Buffer.from('{"a":1,}\n')])[0], { error: 'invalid_request: decode: invalid JSON at position 7' });
});

t.test('backpressure: the reader does not pull far ahead of a consumer that is busy', async (t) => {
  const lines = 5_000;
  let produced = 0;
  let pushedBytes = 0;
  const source = new Readable({
    highWaterMark: 1024,
    read() {
      if (produced === lines) {
        this.push(null);
        return;
      }
      const line = Buffer.from(`{"n":${produced++}}\n`);
      pushedBytes += line.length;
      this.push(line);
    },
  });
  const it = readNdjson(source);
  const first = await it.next();
  t.match(first.value, { kind: 'frame', value: { n: 0 } });
  for (let i = 0; i < 50; i++) await tick(); // the consumer is "handling" frame 0
  t.ok(pushedBytes < 4 * 1024, `read ahead only ${pushedBytes} bytes while the consumer was busy`);
  const rest: unknown[] = [];
  for await (const item of it) rest.push(item.kind === 'frame' ? (item.value as { n: number }).n : item.error.code);
  t.same(rest, range(1, lines - 1), 'then every other frame, in order');
});

t.test('a stream error surfaces as socket_error; a stream cut mid-line yields no partial frame', async (t) => {
  const erroring = new Readable({ read() {} });
  erroring.on('error', () => undefined); // the owner's listener, as a socket owner has
  erroring.push('{"a":1}\n{"b"');
  const seen: NdjsonItem[] = [];
  const run = (async () => {
    for await (const item of readNdjson(erroring)) {
      seen.push(item);
      erroring.destroy(new Error('ECONNRESET'));
    }
  })();
  await t.rejects(run, { code: 'socket_error', message: 'read failed: ECONNRESET' });
  t.equal(seen.length, 1);

  const cut = new Readable({ read() {} });
  cut.push('{"a":1}\n{"b":2}');
  setImmediate(() => cut.destroy());
  t.same(await decodeStream(cut), [{ frame: { a: 1 } }]);
});

t.test('decoder misuse and options', async (t) => {
  const d = new NdjsonDecoder();
  d.push(Buffer.from('{"a":1}\n{"b":2}\n'));
  t.throws(() => d.push(Buffer.from('{}')), { code: 'internal' }, 'push before draining');
  t.throws(() => new NdjsonDecoder({ maxFrameBytes: 0 }), { code: 'internal' });
  t.same(decodeSync([new Uint8Array(Buffer.from('{"u8":true}\n'))]), [{ frame: { u8: true } }], 'plain Uint8Array chunks');
  t.same(decodeSync([Buffer.from('{"a":"12"}\n')], 10), [{ frame: { a: '12' } }], 'a 10-byte line fits a 10-byte cap');
  t.same(decodeSync([Buffer.from('{"a":"123"}\n')], 10), [{ error: 'frame_too_large: frame exceeds 10 byte cap' }]);
});
