// Property-based checks with fast-check: fixed seed (reproducible in CI), a case budget that
// keeps the file fast, and on failure fast-check's report with the shrunk counterexample
// (fc.assert throws it; tap prints it). Override the seed with FUZZ_SEED to explore further.
import fc from 'fast-check';
import { createParser } from 'eventsource-parser';
import t from 'tap';
import { request } from 'undici';
import { InferdError } from '../../src/errors.js';
import { classify } from '../../src/http/error-handler.js';
import { ChatCompletionRequestSchema } from '../../src/openai/chat-schemas.js';
import { CompletionRequestSchema } from '../../src/openai/completion-schemas.js';
import { NdjsonDecoder, type NdjsonItem } from '../../src/protocol/ndjson-reader.js';
import { sseMessage } from '../../src/protocol/sse.js';
import { decodeV1Request, resolveV1Request } from '../../src/protocol/v1.js';
import { validatorFor } from '../../src/protocol/validate.js';
import { startDaemon } from '../helpers/daemon.js';

const seed = Number(process.env['FUZZ_SEED'] ?? 20261205);
const params = (numRuns: number) => ({ seed, numRuns, verbose: 1 as const });

type Outcome = { frame: unknown } | { error: string };
const outcome = (item: NdjsonItem): Outcome => (item.kind === 'frame' ? { frame: item.value } : { error: `${item.error.code}: ${item.error.message}` });

/** Feeds `bytes` cut at `cuts`; asserts the limits after every step. */
function decodeChunks(bytes: Uint8Array, cuts: number[], max: number): Outcome[] {
  const decoder = new NdjsonDecoder({ maxFrameBytes: max });
  const out: Outcome[] = [];
  const drain = () => {
    for (let item = decoder.next(); item; item = decoder.next()) {
      if (item.kind === 'frame' && item.bytes > max) throw new Error(`frame of ${item.bytes} bytes passed a ${max} cap`);
      out.push(outcome(item));
    }
    if (decoder.pendingBytes > max) throw new Error(`holds ${decoder.pendingBytes} bytes, cap ${max}`);
  };
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, bytes.length]) {
    decoder.push(bytes.subarray(at, p));
    drain();
    at = p;
  }
  decoder.end();
  drain();
  return out;
}

t.test('NDJSON reader: any chunking of a valid stream gives the same frames', async (t) => {
  const lines = fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(lines, fc.array(fc.nat(), { maxLength: 12 }), (values, cuts) => {
      const bytes = Buffer.from(values.map((v) => `${JSON.stringify(v)}\n`).join(''), 'utf8');
      const whole = decodeChunks(bytes, [], 1 << 20);
      const split = decodeChunks(bytes, cuts, 1 << 20);
      if (JSON.stringify(whole) !== JSON.stringify(split)) throw new Error(`chunking changed the frames: ${JSON.stringify(split)}`);
    }),
    params(300),
  );
  t.pass('300 streams, split at random points');
});

t.test('NDJSON reader: arbitrary bytes never throw and the caps hold', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 1, max: 64 }), (bytes, cuts, max) => {
      const out = decodeChunks(bytes, cuts, max);
      // After an error nothing more comes out: the connection closes.
      const firstError = out.findIndex((o) => 'error' in o);
      if (firstError !== -1 && firstError !== out.length - 1) throw new Error('items after an error');
      for (const o of out) if ('error' in o && !/^(invalid_request|frame_too_large): /.test(o.error)) throw new Error(`uncoded error ${o.error}`);
    }),
    params(500),
  );
  t.pass('500 byte strings');
});

/** Either a valid request or an InferdError with a 4xx status; anything else fails. */
function validOr4xx(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof InferdError) || err.status >= 500) throw err;
  }
}

// Values shaped like requests hit the deep branches; plain JSON values the shallow ones.
const message = fc.record({ role: fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'tool', 'robot'), fc.jsonValue()), content: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] });
const requestLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.jsonValue()),
    model: fc.string(),
    messages: fc.oneof(fc.array(message, { maxLength: 3 }), fc.jsonValue()),
    prompt: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.jsonValue()),
    max_tokens: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
    temperature: fc.oneof(fc.double(), fc.jsonValue()),
    stream: fc.oneof(fc.boolean(), fc.jsonValue()),
    grammar: fc.string(),
    stop: fc.oneof(fc.string(), fc.array(fc.string()), fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const anyRequest = fc.oneof(fc.jsonValue(), requestLike);

t.test('v1 and OpenAI validators: any JSON value is valid or a coded 4xx', async (t) => {
  fc.assert(
    fc.property(anyRequest, (value) => {
      validOr4xx(() => resolveV1Request(decodeV1Request(structuredClone(value))));
      for (const schema of [ChatCompletionRequestSchema, CompletionRequestSchema]) {
        const result = validatorFor(schema)(structuredClone(value));
        if (!result.ok) {
          const err = classify(Object.assign(new Error('validation'), { validation: result.issues }), 1 << 20);
          if (err.code !== 'invalid_request') throw new Error(`validation became ${err.code}`);
        }
      }
    }),
    params(1000),
  );
  t.pass('1000 values through the real validators');
});

t.test('through a real HTTP app: any JSON body is answered below 500', async (t) => {
  const { url } = await startDaemon(t, { parallel: 1, queue_depth: 4 });
  const paths = ['/infer', '/v1/chat/completions', '/v1/completions'];
  await fc.assert(
    fc.asyncProperty(anyRequest, fc.constantFrom(...paths), async (value, path) => {
      // Cap generation, should a value happen to be a valid request.
      const body = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value, max_tokens: 2 } : value;
      const res = await request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.body.text();
      if (res.statusCode >= 500) throw new Error(`${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }),
    params(60),
  );
  t.pass('60 bodies over HTTP');
});

t.test('SSE encoder: any non-empty string round-trips through eventsource-parser', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (data, cuts) => {
      const wire = sseMessage(data, 7);
      const events: Array<{ data: string; id: string | undefined }> = [];
      const parser = createParser({ onEvent: (event) => events.push({ data: event.data, id: event.id }) });
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      let at = 0;
      for (const p of [...points, wire.length]) {
        parser.feed(wire.slice(at, p));
        at = p;
      }
      // SSE has no escape for line breaks: CR, LF and CRLF all come back as LF (our frames are
      // JSON text, which never contains one raw).
      const expected = data.replace(/\r\n|\r/g, '\n');
      if (events.length !== 1 || events[0]!.data !== expected || events[0]!.id !== '7') {
        throw new Error(`round trip gave ${JSON.stringify(events)}`);
      }
    }),
    params(1000),
  );
  t.pass('1000 strings');
});
