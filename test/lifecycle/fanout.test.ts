// Admin fan-out under load: a reader that never reads is cut off while a fast one receives
// everything, memory stays bounded, and hundreds of subscribers all see `ready`.
import { connect } from 'node:net';
import t from 'tap';
import { Agent, request } from 'undici';
import { startDaemon } from '../helpers/daemon.js';
import { liveBytes } from '../helpers/gc.js';

t.test('a subscriber that never reads is cut off; a fast one gets every frame', async (t) => {
  const { url, daemon } = await startDaemon(t, { write_timeout_ms: 500 }, { start: false });
  const bus = daemon.lifecycle.bus;
  const { port } = new URL(url);

  // The stalled client: asks for the stream and does not read until the end of the test.
  const stalled = connect(Number(port), '127.0.0.1');
  stalled.pause();
  stalled.on('error', () => {}); // a reset from the server is one of the acceptable endings
  stalled.write('GET /admin/status HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/x-ndjson\r\n\r\n');

  // The fast client counts lines and keeps only the last one.
  const res = await request(`${url}/admin/status`);
  let lines = 0;
  let last = '';
  let pendingText = '';
  const reading = (async () => {
    for await (const chunk of res.body) {
      pendingText += (chunk as Buffer).toString('utf8');
      const parts = pendingText.split('\n');
      pendingText = parts.pop()!;
      lines += parts.length;
      if (parts.length) last = parts.at(-1)!;
    }
  })();
  while (bus.stats().subscribers < 2) await new Promise((r) => setTimeout(r, 10));
  while (lines < 1) await new Promise((r) => setTimeout(r, 10));

  const liveBefore = await liveBytes();
  const total = 100_000;
  const sourceUrl = `https://example.com/${'x'.repeat(2000)}`; // ~2 KB frames: 200 MB in all
  for (let n = 1; n <= total; n++) {
    bus.publish({ status: 'loading_model', phase: 'download', downloaded_bytes: n, total_bytes: total, source_url: sourceUrl });
    // Let the fast reader keep pace; it is never more than 100 frames behind.
    if (n % 100 === 0) while (lines < n + 1) await new Promise((r) => setImmediate(r));
  }
  // After a full collection, so that the fast reader's garbage does not count (RSS did, at random).
  const liveGrowth = (await liveBytes()) - liveBefore;

  t.equal(lines, total + 1, 'the fast subscriber received every frame');
  t.match(JSON.parse(last), { phase: 'download', downloaded_bytes: total });
  t.equal(bus.stats().laggedDisconnects, 1, 'exactly one subscriber was cut off for lagging');
  t.equal(bus.stats().subscribers, 1, 'only the fast subscriber is left');
  // Now read what the stalled client was sent: the server ended its stream long before the end.
  let stalledBytes = '';
  // The server ends the stream: a reset, a close, or a clean chunked end on a kept-alive socket.
  await new Promise<void>((resolve) => {
    stalled.on('data', (chunk: Buffer) => {
      stalledBytes += chunk.toString('latin1');
      if (stalledBytes.endsWith('\r\n0\r\n\r\n')) resolve();
    });
    stalled.once('close', () => resolve());
    stalled.resume();
  });
  stalled.destroy();
  const stalledFrames = stalledBytes.split('"phase":"download"').length - 1;
  t.ok(stalledFrames < total, `the stalled connection was closed by the server after ${stalledFrames} of ${total} frames`);
  // Had the stalled subscriber kept its frames, the 200 MB would still be held.
  t.ok(liveGrowth < 100 * 1024 * 1024, `live memory grew ${(liveGrowth / 1048576).toFixed(1)} MiB while 200 MB of frames went out: nothing piles up`);
  res.body.destroy();
  await reading.catch(() => {});
});

t.test('500 concurrent subscribers all receive ready', async (t) => {
  const { url, daemon } = await startDaemon(t, {}, { start: false });
  const agent = new Agent({ connections: 600 });
  t.teardown(() => agent.close());
  const subscribers = await Promise.all(
    Array.from({ length: 500 }, async () => {
      const res = await request(`${url}/admin/status`, { dispatcher: agent });
      let text = '';
      const done = (async () => {
        for await (const chunk of res.body) {
          text += (chunk as Buffer).toString('utf8');
          if (text.includes('"status":"ready"')) break;
        }
        return text;
      })();
      return { done }; // wrapped, or Promise.all would wait for `ready` before start()
    }),
  );
  // All 500 are connected before the model starts loading.
  while (daemon.lifecycle.bus.stats().subscribers < 500) await new Promise((r) => setTimeout(r, 20));
  await daemon.start();
  const texts = await Promise.all(subscribers.map((s) => s.done));
  t.equal(texts.filter((text) => text.includes('"status":"ready"')).length, 500, 'every subscriber got ready');
  t.ok(texts.every((text) => text === texts[0]), 'and every one saw the same bytes');
});
