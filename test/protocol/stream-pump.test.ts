import t from 'tap';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { InferdError } from '../../src/errors.js';
import { StreamPump } from '../../src/protocol/stream-pump.js';
import { fillUntilBlocked, socketPair } from '../helpers/socket-pair.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

async function settledAfterTicks(p: Promise<unknown>, ticks = 20): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < ticks; i++) await tick();
  return settled;
}

t.test('backpressure: a write waits for drain until the peer reads, and nothing is lost', async (t) => {
  const { server, client } = await socketPair(t);
  const pump = new StreamPump(server);
  const { written, pending } = fillUntilBlocked(pump, CHUNK);
  t.ok(pump.blocked, 'the kernel and stream buffers are full');
  t.equal(await settledAfterTicks(pending), false, 'the write stays pending while nobody reads');
  t.ok(server.writableLength <= written, 'sanity');

  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  await pending;
  t.notOk(pump.blocked, 'drained once the peer read');
  const tail = Buffer.from('end\n');
  await pump.end(tail);
  await once(client, 'end');
  t.equal(received, written + tail.length, 'every byte arrived');
  t.notOk(pump.gone, 'a normal end is not a lost peer');
});

t.test('write timeout cancels a reader that never reads (F-17) and ends its stream', async (t) => {
  const { server, client } = await socketPair(t);
  const pump = new StreamPump(server, { writeTimeoutMs: 50 });
  const { pending } = fillUntilBlocked(pump, CHUNK);
  const err = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof InferdError, 'rejects with an InferdError');
  t.match(err, { code: 'socket_error', detail: { reason: 'write_timeout' } });
  t.ok(pump.signal.aborted, 'the abort signal fired');
  t.equal(pump.signal.reason, err);
  t.ok(server.writableEnded, 'the stream was ended: the end queues behind the unread bytes');
  await t.rejects(pump.write(CHUNK), { code: 'socket_error' }, 'later writes fail fast');
  // A reader that resumes within the grace period sees a clean end, not a reset.
  let ended = false;
  client.on('end', () => (ended = true));
  client.resume();
  await once(client, 'close');
  t.ok(ended, 'the reader got a clean EOF');
});

t.test('write timeout also bounds end() flushing to a stalled reader', async (t) => {
  const { server } = await socketPair(t);
  const pump = new StreamPump(server, { writeTimeoutMs: 50 });
  fillUntilBlocked(pump, CHUNK).pending.catch(() => undefined);
  await t.rejects(pump.end(), { code: 'socket_error', detail: { reason: 'write_timeout' } });
  // Nobody ever reads: after one more timeout period the connection is dropped.
  if (!server.destroyed) await once(server, 'close');
  t.ok(server.destroyed);
});

t.test('no timeout: a slow reader is waited for, however long', async (t) => {
  const { server, client } = await socketPair(t);
  const pump = new StreamPump(server, { writeTimeoutMs: 0 });
  const { pending } = fillUntilBlocked(pump, CHUNK);
  t.equal(await settledAfterTicks(pending, 50), false);
  t.notOk(pump.gone);
  client.resume();
  await pending;
});

t.test('peer disconnect on a socket fires the abort signal and fails writes', async (t) => {
  const { server, client } = await socketPair(t);
  server.resume(); // the owner keeps reading, which is how a close is noticed while idle
  const pump = new StreamPump(server);
  await pump.write('hello\n');
  client.resume(); // read it, so the close below is a FIN, not a reset
  await once(client, 'data');
  client.destroy();
  await once(pump.signal, 'abort');
  t.match(pump.signal.reason, { code: 'socket_error', detail: { reason: 'closed' } });
  t.ok(pump.gone);
  await t.rejects(pump.write('more\n'), { code: 'socket_error' });
  await t.rejects(pump.end(), { code: 'socket_error' });
});

t.test('a peer that half-closes (FIN) on a socket without allowHalfOpen counts as gone', async (t) => {
  const { server, client } = await socketPair(t);
  server.resume();
  const pump = new StreamPump(server);
  client.end();
  await once(pump.signal, 'abort');
  t.match(pump.signal.reason, { code: 'socket_error', detail: { reason: 'closed' } });
});

t.test('a reset connection (peer closes with unread data) fires the signal as an error', async (t) => {
  const { server, client } = await socketPair(t);
  server.resume();
  const pump = new StreamPump(server);
  await pump.write('unread\n');
  client.destroy();
  await once(pump.signal, 'abort');
  t.match(pump.signal.reason, { code: 'socket_error', detail: { reason: /^(error|closed)$/ } });
});

t.test('peer disconnect while blocked on drain rejects the pending write', async (t) => {
  const { server, client } = await socketPair(t);
  const pump = new StreamPump(server);
  const { pending } = fillUntilBlocked(pump, CHUNK);
  client.destroy();
  await t.rejects(pending, { code: 'socket_error' });
  t.ok(pump.signal.aborted);
});

t.test('HTTP: the client aborting a streaming response fires the signal', async (t) => {
  let serverPump: StreamPump | undefined;
  const gone = new Promise<unknown>((resolve) => {
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      serverPump = new StreamPump(res, { writeTimeoutMs: 5_000 });
      serverPump.signal.addEventListener('abort', () => resolve(serverPump!.signal.reason));
      void serverPump.write('{"first":true}\n');
    });
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      const req = http.get({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.once('data', () => req.destroy());
      });
      req.on('error', () => undefined);
    });
    t.teardown(() => srv.close());
  });
  t.match(await gone, { code: 'socket_error', detail: { reason: 'closed' } });
  t.ok(serverPump?.gone);
});

t.test('HTTP: a response that ends normally does not fire the signal', async (t) => {
  let serverPump: StreamPump | undefined;
  const srv = http.createServer(async (req, res) => {
    res.writeHead(200);
    serverPump = new StreamPump(res);
    await serverPump.write('a\n');
    await serverPump.end('b\n');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.teardown(() => srv.close());
  const { port } = srv.address() as AddressInfo;
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', path: '/' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  t.equal(body, 'a\nb\n');
  await tick();
  t.notOk(serverPump?.gone);
});

t.test('a pump over an already destroyed stream is gone from the start', async (t) => {
  const { server } = await socketPair(t);
  server.destroy();
  const pump = new StreamPump(server);
  t.ok(pump.gone);
  await t.rejects(pump.write('x'), { code: 'socket_error' });
  t.throws(() => new StreamPump(server, { writeTimeoutMs: -1 }), { code: 'internal' });
});
