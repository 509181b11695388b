// infer.sock and HTTP share one admission gate; disconnects and stalled readers give their slot
// back; connections do not leak. Real daemon, real engine, real sockets.
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame, ErrorFrame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { postJson } from '../helpers/http.js';
import { LineClient, LONG, hi, line, until } from './fixtures/unix-client.js';

t.test('one daemon with one slot and no queue (parallel 1, queue_depth 0)', async (t) => {
  const { daemon, url } = await startDaemon(t, { parallel: 1, queue_depth: 0 });
  const path = daemon.sockets!.endpoints.infer;
  const admission = daemon.gate.admission;

  t.test('an HTTP request holds the slot: infer.sock gets queue_full and stays open', async (t) => {
    const ac = new AbortController();
    const busy = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LONG), signal: ac.signal });
    const reader = busy.body[Symbol.asyncIterator]();
    await reader.next(); // the first token is out: the slot is held
    t.equal(admission.active, 1);
    const client = await LineClient.connect(path);
    t.teardown(() => client.destroy());
    client.write(line({ id: 'q', messages: hi, max_tokens: 1 }));
    t.same(await client.untilTerminal(), [{ type: 'error', id: 'q', code: 'queue_full', message: 'queue full' }]);
    ac.abort();
    await reader.return?.().catch(() => undefined);
    await until(() => admission.active === 0, 'the HTTP slot is released');
    client.write(line({ id: 'again', messages: hi, max_tokens: 2 }));
    t.equal((await client.untilTerminal()).at(-1)!.type, 'done', 'the same connection is served once the slot is free');
  });

  t.test('an infer.sock request holds the slot: HTTP gets 429 queue_full', async (t) => {
    const client = await LineClient.connect(path);
    t.teardown(() => client.destroy());
    client.write(line({ id: 'hold', ...LONG }));
    t.equal((await client.nextFrame())!.type, 'token', 'generating');
    t.equal(admission.active, 1);
    const refused = await postJson<ErrorFrame>(`${url}/infer`, { id: 'h', messages: hi, max_tokens: 1 });
    t.equal(refused.status, 429);
    t.match(refused.body, { type: 'error', id: 'h', code: 'queue_full' });
    const other = await LineClient.connect(path);
    t.teardown(() => other.destroy());
    other.write(line({ id: 'o', messages: hi, max_tokens: 1 }));
    t.match(await other.untilTerminal(), [{ type: 'error', id: 'o', code: 'queue_full' }], 'a second socket client too');
    client.destroy();
    await until(() => admission.active === 0, 'the socket slot is released');
    t.ok(admission.stats().rejectedTotal >= 3, 'every refusal was counted by the one gate');
  });

  t.test('a disconnect cancels generation and frees the slot, 20 times in a row', async (t) => {
    for (let i = 0; i < 20; i++) {
      const gone = await LineClient.connect(path);
      gone.write(line({ id: `c${i}`, ...LONG }));
      t.equal((await gone.nextFrame())!.type, 'token');
      gone.destroy(); // mid-stream
      await until(() => admission.active === 0, 'the slot is released');
      const next = await LineClient.connect(path);
      next.write(line({ id: `n${i}`, messages: hi, max_tokens: 3, seed: i }));
      const frames = await next.untilTerminal();
      next.destroy();
      t.equal(frames.at(-1)!.type, 'done', `request ${i} after a disconnect completes (no queue_full: the slot was free)`);
    }
    t.ok((await daemon.metrics.render()).includes('route="infer_sock",outcome="cancelled"'), 'the disconnects were counted as cancelled');
  });

  t.test('200 connect/close cycles leave no connections, slots or handles behind', async (t) => {
    const sockets = daemon.sockets!;
    const { infer, admin } = sockets.endpoints;
    const pipes = () => process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap').length;
    const before = pipes();
    for (let i = 0; i < 200; i++) {
      const a = await LineClient.connect(infer);
      if (i % 3 === 1) a.write(line({ id: `p${i}`, messages: hi, max_tokens: 50 })); // some close mid-request
      if (i % 3 === 2) a.write('{"id":"half'); // some close mid-frame
      a.destroy();
      const b = await LineClient.connect(admin);
      if (i % 2 === 0) await b.nextLine(); // some after reading, some at once
      b.destroy();
    }
    await until(() => sockets.stats().inferConnections === 0 && sockets.stats().adminConnections === 0, 'every connection is gone');
    await until(() => daemon.gate.admission.inFlight === 0, 'no request is left holding a slot');
    await until(() => pipes() <= before, 'no Unix-socket handles are left open');
    t.equal(daemon.lifecycle.bus.stats().subscribers, 0, 'no admin subscription is left');
    const client = await LineClient.connect(infer);
    t.teardown(() => client.destroy());
    client.write(line({ id: 'after', messages: hi, max_tokens: 2 }));
    t.equal(((await client.untilTerminal()).at(-1) as DoneFrame).type, 'done', 'still serving');
  });
});

t.test('a reader that stops reading is dropped after write_timeout_ms and its slot freed (F-17)', async (t) => {
  const { daemon } = await startDaemon(t, { parallel: 1, queue_depth: 0, write_timeout_ms: 200 });
  const path = daemon.sockets!.endpoints.infer;
  const admission = daemon.gate.admission;
  const stalled = await LineClient.connect(path);
  t.teardown(() => stalled.destroy());
  stalled.socket.pause(); // reads nothing from here on
  // A long id makes every token frame ~4 KiB, so the socket buffers fill quickly.
  stalled.write(line({ id: 'x'.repeat(4000), ...LONG }));
  await until(() => admission.active === 1, 'the stalled request holds the slot');
  await until(() => admission.active === 0, 'the write timeout released the slot');
  t.equal(daemon.sockets!.stats().inferConnections, 0, 'the stalled connection was dropped');
  const next = await LineClient.connect(path);
  t.teardown(() => next.destroy());
  next.write(line({ id: 'next', messages: hi, max_tokens: 2 }));
  t.equal((await next.untilTerminal()).at(-1)!.type, 'done', 'another client gets the slot');
  stalled.socket.resume();
  const rest = await stalled.rest();
  t.ok(rest.length > 0, 'the stalled client still finds the frames that were buffered');
  t.ok(
    rest.every((l) => (JSON.parse(l) as { type: string }).type === 'token'),
    'and no terminal frame: EOF is the signal',
  );
  t.ok((await daemon.metrics.render()).includes('route="infer_sock",outcome="cancelled"'), 'counted as cancelled');
});
