// admin.sock sessions over real Unix sockets, on a StatusBus of their own (no model needed):
// snapshot first, client writes ignored, a hang-up noticed, the 256-frame lag cut, EOF on close.
import t from 'tap';
import { serveAdminSession } from '../../src/ipc/admin-socket.js';
import { ndjsonStatusEncoder } from '../../src/protocol/status-pump.js';
import { DEFAULT_QUEUE_LIMIT, StatusBus } from '../../src/status/bus.js';
import type { StatusEvent } from '../../src/status/events.js';
import { socketPair } from '../helpers/socket-pair.js';
import { until } from './fixtures/unix-client.js';

const download = (n: number, pad = 0): StatusEvent => ({
  status: 'loading_model',
  phase: 'download',
  downloaded_bytes: n,
  total_bytes: null,
  source_url: `https://example.invalid/${'m'.repeat(pad)}.gguf`,
});

/** Everything the client end receives until EOF. */
async function readAll(client: import('node:net').Socket): Promise<string> {
  client.setEncoding('utf8');
  let text = '';
  client.on('data', (chunk: string) => (text += chunk));
  await new Promise<void>((resolve) => {
    client.once('close', () => resolve());
    client.once('end', () => resolve());
  });
  return text;
}

t.test('capabilities and snapshot first, then live frames; client writes are ignored', async (t) => {
  const bus = new StatusBus();
  const caps = bus.publish({ status: 'capabilities', backend: 'm', wire_version: 1, v2: false, vision: false, audio: false, tools: false, thinking: false, embed: false, accelerator: 'cpu', gpu_layers: 0 });
  bus.publish({ status: 'loading_model', phase: 'mmap', path: '/m.gguf' });
  const { server, client } = await socketPair(t);
  const session = serveAdminSession(server, { bus, writeTimeoutMs: 0 });
  client.write('{"please":"drain"}\nnot even json\n'); // must change nothing and get no answer
  bus.publish({ status: 'ready' });
  const all = readAll(client);
  bus.publish({ status: 'draining' });
  bus.close();
  t.equal(await session, 'closed', 'ends when the bus closes');
  const expected = [
    caps.frame,
    '{"id":"admin","type":"status","status":"loading_model","phase":"mmap","path":"/m.gguf"}',
    '{"id":"admin","type":"status","status":"ready"}',
    '{"id":"admin","type":"status","status":"draining"}',
  ];
  t.equal(await all, expected.join('\n') + '\n', 'exactly these NDJSON bytes, then EOF: no error frame for the client writes');
});

t.test('the bytes are the shared NDJSON status encoding (the one GET /admin/status uses)', async (t) => {
  const bus = new StatusBus();
  const records = [bus.publish(download(1)), bus.publish({ status: 'loading_model', phase: 'kv_cache', n_ctx: 128 })];
  const { server, client } = await socketPair(t);
  const session = serveAdminSession(server, { bus, writeTimeoutMs: 0 });
  const all = readAll(client);
  bus.close();
  await session;
  t.equal(await all, ndjsonStatusEncoder(records[1]!));
});

t.test('a client that hangs up is noticed without waiting for the next frame', async (t) => {
  const bus = new StatusBus();
  const { server, client } = await socketPair(t);
  const session = serveAdminSession(server, { bus, writeTimeoutMs: 0 });
  await until(() => bus.stats().subscribers === 1, 'subscribed');
  client.end(); // EOF from the client
  t.equal(await session, 'peer_gone');
  t.equal(bus.stats().subscribers, 0, 'the subscription is gone although nothing was published');
});

t.test(`a reader more than ${DEFAULT_QUEUE_LIMIT} frames behind is cut off (EOF, no error frame)`, async (t) => {
  const bus = new StatusBus();
  const slow = await socketPair(t);
  const fast = await socketPair(t);
  slow.client.pause(); // reads nothing until the end
  const slowSession = serveAdminSession(slow.server, { bus, writeTimeoutMs: 0 });
  const fastSession = serveAdminSession(fast.server, { bus, writeTimeoutMs: 0 });
  const fastText = readAll(fast.client);
  let published = 0;
  // One frame per turn of the event loop, so the session writes whatever it can between them;
  // the slow client's socket fills, and then its queue.
  while (bus.stats().laggedDisconnects === 0 && published < 100_000) {
    bus.publish(download(++published, 1000));
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(bus.stats().laggedDisconnects, 1, 'the slow subscriber was cut off');
  t.ok(published > DEFAULT_QUEUE_LIMIT, `after ${published} frames`);
  bus.publish({ status: 'ready' });
  // It still gets what was already written to its socket, then EOF.
  const slowText = await readAll(slow.client.resume());
  t.equal(await slowSession, 'lagged', 'the session ended as lagged');
  const slowLines = slowText.split('\n').filter(Boolean);
  t.ok(slowLines.length < published + 1, `the slow reader got ${slowLines.length} frames, not all ${published + 1}`);
  t.ok(slowLines.every((l) => JSON.parse(l).type === 'status'), 'only status frames: no error frame');
  t.notOk(slowLines.some((l) => JSON.parse(l).status === 'ready'), 'nothing published after the cut');
  t.ok(slowText.endsWith('\n'), 'it ends on a whole frame, then EOF');
  bus.close();
  await fastSession;
  const fastLines = (await fastText).split('\n').filter(Boolean);
  t.equal(fastLines.length, 1 + published + 1, 'a reader that keeps up gets every frame (starting, the downloads, ready)');
});

t.test('a write timeout drops an admin reader that never reads', async (t) => {
  const bus = new StatusBus();
  const { server, client } = await socketPair(t);
  client.pause();
  const session = serveAdminSession(server, { bus, writeTimeoutMs: 50 });
  let end: string | undefined;
  void session.then((e) => (end = e));
  for (let i = 1; end === undefined && i < 100_000; i++) {
    bus.publish(download(i, 20_000)); // big frames fill the socket before the queue lags
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.ok(end === 'peer_gone' || end === 'lagged', `the session ended (${end})`);
  t.equal(bus.stats().subscribers, 0);
});
