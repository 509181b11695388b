import t from 'tap';
import { MAX_FRAME_BYTES, ndjsonLine } from '../../src/protocol/ndjson.js';
import { SSE_HEADERS, SSE_PING, sseMessage, sseRetry } from '../../src/protocol/sse.js';
import { renderStatusFrame } from '../../src/status/events.js';

t.test('SSE message: data line, optional id line first, blank-line terminator', async (t) => {
  const frame = renderStatusFrame({ status: 'ready' });
  t.equal(sseMessage(frame), `data: ${frame}\n\n`);
  t.equal(sseMessage(frame, 7), `id: 7\ndata: ${frame}\n\n`);
  t.equal(sseMessage(frame, 0), `id: 0\ndata: ${frame}\n\n`);
  t.throws(() => sseMessage(frame, -1), { code: 'internal' });
  t.throws(() => sseMessage(frame, 1.5), { code: 'internal' });
});

t.test('SSE message: line breaks in data become several data lines', async (t) => {
  t.equal(sseMessage('a\nb\r\nc\rd'), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
  t.equal(sseMessage('x\n', 3), 'id: 3\ndata: x\ndata: \n\n');
  // JSON never needs the split: escaped newlines stay inside one data line.
  const json = JSON.stringify({ s: 'line1\nline2' });
  t.equal(sseMessage(json), `data: ${json}\n\n`);
});

t.test('SSE preamble, heartbeat and headers', async (t) => {
  t.equal(sseRetry(2000), 'retry: 2000\n\n');
  t.throws(() => sseRetry(-5), { code: 'internal' });
  t.equal(SSE_PING, ': ping\n\n');
  t.match(SSE_HEADERS, {
    'content-type': /^text\/event-stream/,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
});

t.test('NDJSON line: the frame plus one \\n; raw newlines refused', async (t) => {
  const frame = renderStatusFrame({ status: 'draining' });
  t.equal(ndjsonLine(frame), `${frame}\n`);
  t.throws(() => ndjsonLine('{"a":\n1}'), { code: 'internal' });
  t.throws(() => ndjsonLine('{"a":\r1}'), { code: 'internal' });
});

t.test('NDJSON writer cap: a frame of 64 MiB or more is refused (reference writer rule)', async (t) => {
  const justUnder = `"${'a'.repeat(MAX_FRAME_BYTES - 3)}"`; // 64 MiB - 1 bytes
  t.equal(ndjsonLine(justUnder).length, MAX_FRAME_BYTES);
  const atCap = `"${'a'.repeat(MAX_FRAME_BYTES - 2)}"`;
  t.throws(() => ndjsonLine(atCap), { code: 'frame_too_large' });
  // Multi-byte: fewer UTF-16 units than the cap, more bytes than it.
  const wide = `"${'€'.repeat(Math.ceil(MAX_FRAME_BYTES / 3))}"`;
  t.ok(wide.length < MAX_FRAME_BYTES);
  t.throws(() => ndjsonLine(wide), { code: 'frame_too_large' });
});
