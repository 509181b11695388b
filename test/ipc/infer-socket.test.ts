// infer.sock speaks protocol v1 (contract §1.1–1.6) against a real daemon, the real engine and
// the tiny demo model, over real Unix sockets.
import t from 'tap';
import type { DoneFrame, ErrorFrame, TokenFrame, V1Frame } from '../../src/protocol/v1.js';
import { MAX_FRAME_BYTES } from '../../src/protocol/ndjson.js';
import { startDaemon } from '../helpers/daemon.js';
import { LineClient, LONG, hi, line, terminals } from './fixtures/unix-client.js';

t.test('infer.sock', async (t) => {
  const { daemon } = await startDaemon(t, { parallel: 2, queue_depth: 4 });
  const path = daemon.sockets!.endpoints.infer;
  const open = async () => {
    const client = await LineClient.connect(path);
    t.teardown(() => client.destroy());
    return client;
  };

  t.test('streams token frames ending in exactly one done frame', async (t) => {
    const client = await open();
    client.write(line({ id: 'a', messages: hi, max_tokens: 40, seed: 1 }));
    const frames = await client.untilTerminal();
    const tokens = frames.filter((f): f is TokenFrame => f.type === 'token');
    t.equal(terminals(frames).length, 1, 'one terminal frame');
    const done = frames.at(-1) as DoneFrame;
    t.equal(done.type, 'done');
    t.ok(tokens.length > 0, 'token frames came first');
    t.equal(tokens.map((f) => f.content).join(''), done.content, 'tokens add up to done.content');
    t.ok(frames.every((f) => f.id === 'a'), 'every frame echoes the id');
    t.equal(done.backend, 'llamacpp');
    t.same(Object.keys(done), ['type', 'id', 'content', 'usage', 'stop_reason', 'backend'], 'type first, then the v1 field order');
    // The connection stays open for the next request.
    client.write(line({ messages: hi, max_tokens: 2, stream: false }));
    const next = await client.untilTerminal();
    t.same(next.map((f) => f.type), ['done'], 'stream:false: no token frames, one done');
    t.equal(next[0]!.id, '', 'a request without id is answered with id ""');
  });

  t.test('the same text as POST /infer for the same seed', async (t) => {
    const body = { id: 's', messages: hi, max_tokens: 30, seed: 42 };
    const client = await open();
    client.write(line(body));
    const viaSocket = (await client.untilTerminal()).at(-1) as DoneFrame;
    const res = await fetch(`http://127.0.0.1:${daemon.port}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const viaHttp = JSON.parse((await res.text()).trim().split('\n').at(-1)!) as DoneFrame;
    t.same(viaSocket, viaHttp, 'identical done frames');
  });

  t.test('a final line without \\n before EOF is accepted', async (t) => {
    const client = await open();
    client.write(JSON.stringify({ id: 'eof', messages: hi, max_tokens: 3 }));
    client.socket.end();
    const frames = await client.untilTerminal();
    t.equal(frames.at(-1)!.type, 'done');
    t.equal(frames.at(-1)!.id, 'eof');
    t.same(await client.rest(), [], 'then EOF');
  });

  t.test('a half-closed client (EOF right after the request) gets the whole answer', async (t) => {
    const client = await open();
    client.write(line({ id: 'h1', messages: hi, max_tokens: 20, seed: 2 }) + line({ id: 'h2', messages: hi, max_tokens: 5, seed: 3 }));
    client.socket.end(); // like `nc -N` or socat after stdin EOF
    const first = await client.untilTerminal();
    const second = await client.untilTerminal();
    t.equal(first.at(-1)!.type, 'done');
    t.equal(second.at(-1)!.type, 'done');
    t.equal(second.at(-1)!.id, 'h2');
    t.same(await client.rest(), [], 'then EOF');
    t.equal(client.error, undefined, 'no socket error');
  });

  t.test('requests on one connection run one after another', async (t) => {
    const client = await open();
    // Sent together; with two free slots they could only interleave if the connection multiplexed.
    client.write(line({ id: 'first', ...LONG, max_tokens: 30 }) + line({ id: 'second', ...LONG, max_tokens: 30 }));
    const frames = [...(await client.untilTerminal()), ...(await client.untilTerminal())];
    const ids = frames.map((f) => f.id);
    t.equal(ids.lastIndexOf('first') < ids.indexOf('second'), true, 'every frame of the first before any of the second');
    t.same(terminals(frames).map((f) => [f.type, f.id]), [['done', 'first'], ['done', 'second']]);
  });

  t.test('a resolve (validation) error is an error frame with the id; the connection stays open', async (t) => {
    const client = await open();
    const cases: Array<[unknown, RegExp]> = [
      [{ id: 'v1', messages: [] }, /^invalid request: messages must not be empty$/],
      [{ id: 'v2', messages: hi, image_token_budget: 100 }, /^invalid request: image_token_budget 100 not in \[70, 140, 280, 560, 1120\]$/],
      [{ id: 'v3', messages: hi, grammar: 'x'.repeat(65537) }, /grammar is larger than 65536 bytes/],
    ];
    for (const [request, message] of cases) {
      client.write(line(request));
      const frames = await client.untilTerminal();
      t.equal(frames.length, 1);
      const error = frames[0] as ErrorFrame;
      t.match(error, { type: 'error', id: (request as { id: string }).id, code: 'invalid_request' });
      t.match(error.message, message);
    }
    client.write(line({ id: 'after', messages: hi, max_tokens: 2 }));
    t.equal((await client.untilTerminal()).at(-1)!.type, 'done', 'still usable');
  });

  t.test('a decode error is an error frame with id "" and then the connection closes', async (t) => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['malformed JSON', '{"id":"x","messages":[\n', /^decode: invalid JSON/],
      ['missing messages', '{"id":"x"}\n', /^invalid request: missing field messages/],
      ['bad role', line({ id: 'x', messages: [{ role: 'robot', content: 'hi' }] }), /^invalid request: .*role/],
      ['content array', line({ id: 'x', messages: [{ role: 'user', content: [] }] }), /^invalid request: .*content/],
      ['not an object', '[1,2]\n', /^invalid request:/],
      ['empty line', '\n', /^decode: empty line/],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]), /^decode: invalid UTF-8/],
    ];
    for (const [name, bytes, message] of cases) {
      const client = await open();
      client.write(bytes);
      client.write(line({ id: 'never', messages: hi, max_tokens: 1 })); // must not be answered
      const rest = await client.rest();
      t.equal(rest.length, 1, `${name}: exactly one frame, then EOF`);
      const error = JSON.parse(rest[0]!) as ErrorFrame;
      t.match(error, { type: 'error', id: '', code: 'invalid_request' }, `${name}: invalid_request with id ""`);
      t.match(error.message, message, `${name}: message`);
    }
  });

  t.test('unknown fields are ignored', async (t) => {
    const client = await open();
    client.write(line({ id: 'u', messages: hi, max_tokens: 1, model: 'x', backend: 'y', extra: { a: 1 } }));
    t.equal((await client.untilTerminal()).at(-1)!.type, 'done');
  });

  t.test(`a frame of exactly ${MAX_FRAME_BYTES} bytes is accepted`, async (t) => {
    const client = await open();
    const head = '{"id":"big","messages":[],"pad":"';
    const tail = '"}';
    const frame = head + 'x'.repeat(MAX_FRAME_BYTES - head.length - tail.length) + tail;
    t.equal(Buffer.byteLength(frame), 67_108_864);
    client.write(`${frame}\n`);
    const frames = await client.untilTerminal();
    t.match(frames, [{ type: 'error', id: 'big', code: 'invalid_request', message: 'invalid request: messages must not be empty' }], 'read and resolved (not frame_too_large)');
    client.write(line({ id: 'next', messages: hi, max_tokens: 2 }));
    t.equal((await client.untilTerminal()).at(-1)!.type, 'done', 'the connection stays open');
  });

  t.test(`a frame of ${MAX_FRAME_BYTES + 1} bytes is frame_too_large, then the connection closes`, async (t) => {
    const client = await open();
    const frame = Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20); // no newline among them
    t.equal(frame.length, 67_108_865);
    client.write(frame);
    client.write('\n');
    const rest = await client.rest();
    t.same(rest.map((l) => JSON.parse(l) as V1Frame), [{ type: 'error', id: '', code: 'frame_too_large', message: 'frame exceeds 67108864 byte cap' }]);
    t.ok(client.ended, 'closed after the error frame');
  });
});
