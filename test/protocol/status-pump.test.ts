import t from 'tap';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { SSE_HEADERS } from '../../src/protocol/sse.js';
import { pumpStatus, type StatusPumpEnd, type StatusPumpOptions } from '../../src/protocol/status-pump.js';
import { StreamPump } from '../../src/protocol/stream-pump.js';
import { StatusBus } from '../../src/status/bus.js';
import type { StatusEvent } from '../../src/status/events.js';
import { socketPair } from '../helpers/socket-pair.js';

const download = (n: number, url = 'https://example.invalid/m.gguf'): StatusEvent => ({
  status: 'loading_model',
  phase: 'download',
  downloaded_bytes: n,
  total_bytes: null,
  source_url: url,
});

/** Reads `res` as text, letting the test wait for a substring to show up. */
function textReader(res: NodeJS.ReadableStream) {
  let text = '';
  let wake: (() => void) | undefined;
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    text += d;
    wake?.();
  });
  const ended = once(res, 'end').then(() => text);
  return {
    get text() {
      return text;
    },
    ended,
    async waitFor(fragment: string, from = 0): Promise<void> {
      while (!text.includes(fragment, from)) await new Promise<void>((r) => (wake = r));
    },
  };
}

async function serveStatus(t: { teardown(fn: () => unknown): void }, bus: StatusBus, options: StatusPumpOptions) {
  const results: Promise<StatusPumpEnd>[] = [];
  const srv = http.createServer((req, res) => {
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? Number(header) : undefined;
    res.writeHead(200, SSE_HEADERS);
    results.push(pumpStatus(bus.subscribe({ lastEventId }), new StreamPump(res, { writeTimeoutMs: 5_000 }), options));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.teardown(() => srv.close());
  const { port } = srv.address() as AddressInfo;
  const get = (headers: Record<string, string> = {}) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', path: '/admin/status', headers }, resolve).on('error', reject);
    });
  return { get, results };
}

/** SSE text → blocks split on the blank line. */
const sseBlocks = (text: string): string[] => text.split('\n\n').filter((b) => b.length > 0);

t.test('SSE over HTTP: retry preamble, id + data per frame, heartbeats, EOF when the bus closes', async (t) => {
  const bus = new StatusBus();
  const { get, results } = await serveStatus(t, bus, { format: 'sse', retryMs: 1500, heartbeatMs: 10 });
  const res = await get();
  t.match(res.headers, { 'content-type': /^text\/event-stream/, 'x-accel-buffering': 'no', 'cache-control': 'no-cache' });
  const reader = textReader(res);
  await reader.waitFor('"starting"');
  const ready = bus.publish({ status: 'ready' });
  await reader.waitFor('"ready"');
  const mark = reader.text.length;
  await reader.waitFor(': ping\n\n', mark); // idle → heartbeat comment
  const draining = bus.publish({ status: 'draining' });
  bus.close();
  const text = await reader.ended;
  t.equal(await results[0], 'closed');

  const blocks = sseBlocks(text).filter((b) => b !== ': ping');
  t.same(blocks, [
    'retry: 1500',
    `id: 1\ndata: ${bus.subscribe({ lastEventId: 0 }).takeAll()[0]!.frame}`,
    `id: ${ready.id}\ndata: ${ready.frame}`,
    `id: ${draining.id}\ndata: ${draining.frame}`,
  ]);
  t.ok(sseBlocks(text).includes(': ping'), 'at least one heartbeat was sent');
});

t.test('SSE over HTTP: Last-Event-ID resumes exactly after the last seen event', async (t) => {
  const bus = new StatusBus();
  for (let i = 0; i < 5; i++) bus.publish(download(i)); // ids 2..6
  const { get } = await serveStatus(t, bus, { format: 'sse' });
  const res = await get({ 'last-event-id': '3' });
  const reader = textReader(res);
  await reader.waitFor('id: 6\n');
  bus.close();
  const ids = sseBlocks(await reader.ended).map((b) => Number(/^id: (\d+)$/m.exec(b)?.[1]));
  t.same(ids, [4, 5, 6]);
});

t.test('NDJSON over a Unix socket: byte-identical frames, and a client that leaves is unsubscribed', async (t) => {
  const bus = new StatusBus();
  const { server, client } = await socketPair(t);
  server.resume(); // admin.sock ignores client writes, but reading is how a hang-up is noticed
  const result = pumpStatus(bus.subscribe(), new StreamPump(server), { format: 'ndjson', heartbeatMs: 5 });
  const records = [bus.snapshot, bus.publish(download(0)), bus.publish({ status: 'ready' })];
  const reader = textReader(client);
  await reader.waitFor('"ready"');
  t.equal(reader.text, records.map((r) => `${r.frame}\n`).join(''), 'exactly the frames, no heartbeat in NDJSON');
  t.equal(bus.stats().subscribers, 1);
  client.destroy();
  t.equal(await result, 'peer_gone');
  t.equal(bus.stats().subscribers, 0, 'no subscription leaks after a hang-up');
});

t.test('a stalled reader lags, is cut off, and gets EOF after what was in flight', async (t) => {
  const bus = new StatusBus();
  const { server, client } = await socketPair(t);
  server.resume();
  const sub = bus.subscribe({ queueLimit: 4 });
  const result = pumpStatus(sub, new StreamPump(server), { format: 'ndjson' });
  const big = 'https://example.invalid/' + 'x'.repeat(32 * 1024);
  let published = 1;
  // The client reads nothing: socket buffers fill, the pump waits for drain, the queue fills.
  for (let i = 0; i < 100_000 && sub.closeReason === undefined; i++) {
    bus.publish(download(i, big));
    published++;
    await tick();
  }
  t.equal(sub.closeReason, 'lagged');
  t.same(bus.stats(), { subscribers: 0, laggedDisconnects: 1, published, replayHeld: Math.min(published, 256) });
  // Keep publishing: nothing more may reach this client.
  for (let i = 0; i < 10; i++) bus.publish({ status: 'ready' });

  const reader = textReader(client);
  const text = await reader.ended;
  t.equal(await result, 'lagged');
  t.ok(text.endsWith('\n'), 'EOF falls on a frame boundary');
  const ids: number[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const frame = JSON.parse(line) as { status: string; downloaded_bytes?: number };
    t.equal(frame.status === 'ready', false, 'no frame published after the cut-off');
    ids.push(frame.downloaded_bytes ?? -1);
  }
  t.ok(ids.length > 1 && ids.length < published, `got ${ids.length} of ${published} frames, then EOF`);
  t.same(
    ids.slice(1),
    ids.slice(1).map((_, i) => i),
    'frames up to the cut-off arrived in order without gaps',
  );
});

t.test('pumpStatus on a pump whose peer is already gone returns at once and unsubscribes', async (t) => {
  const bus = new StatusBus();
  const { server } = await socketPair(t);
  server.destroy();
  const sub = bus.subscribe();
  t.equal(await pumpStatus(sub, new StreamPump(server), { format: 'sse' }), 'peer_gone');
  t.equal(sub.closeReason, 'unsubscribed');
  t.equal(bus.stats().subscribers, 0);
});
