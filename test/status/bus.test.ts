import t from 'tap';
import { setImmediate as tick } from 'node:timers/promises';
import { StatusBus, type StatusRecord, type Subscription } from '../../src/status/bus.js';
import { renderStatusFrame, type StatusEvent } from '../../src/status/events.js';

const caps: StatusEvent = {
  status: 'capabilities',
  backend: 'demo',
  wire_version: 1,
  v2: false,
  vision: false,
  audio: false,
  tools: false,
  thinking: false,
  embed: false,
  accelerator: 'cpu',
  gpu_layers: 0,
};
const download = (n: number): StatusEvent => ({
  status: 'loading_model',
  phase: 'download',
  downloaded_bytes: n,
  total_bytes: null,
  source_url: 'https://example.invalid/m.gguf',
});
const bringUp: StatusEvent[] = [
  { status: 'loading_model', phase: 'checking_local', path: '/m/x.gguf' },
  download(0),
  download(1024),
  { status: 'loading_model', phase: 'verify', path: '/m/x.gguf' },
  { status: 'loading_model', phase: 'mmap', path: '/m/x.gguf' },
  { status: 'loading_model', phase: 'kv_cache', n_ctx: 2048 },
  caps,
  { status: 'ready' },
];

const ids = (records: readonly StatusRecord[]): number[] => records.map((r) => r.id);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function collect(sub: Subscription): Promise<StatusRecord[]> {
  const out: StatusRecord[] = [];
  for await (const r of sub) out.push(r);
  return out;
}

t.test('a subscriber from t=0 sees every event in order, with consecutive ids', async (t) => {
  const bus = new StatusBus();
  const sub = bus.subscribe();
  for (const e of bringUp) bus.publish(e);
  bus.publish({ status: 'draining' });
  bus.close();
  const got = await collect(sub);
  t.same(ids(got), range(1, bringUp.length + 2));
  t.same(
    got.map((r) => r.event),
    [{ status: 'starting' }, ...bringUp, { status: 'draining' }],
  );
  t.same(
    got.map((r) => r.frame),
    got.map((r) => renderStatusFrame(r.event)),
    'frames are the rendered events',
  );
  t.equal(JSON.parse(got[0]!.frame).id, 'admin');
  t.equal(sub.closeReason, 'closed');
});

t.test('a late subscriber gets capabilities, then the snapshot, then live events', async (t) => {
  const bus = new StatusBus();
  for (const e of bringUp) bus.publish(e);
  const capsId = bus.capabilities!.id;
  const readyId = bus.snapshot.id;
  t.equal(bus.snapshot.event.status, 'ready');
  const sub = bus.subscribe();
  t.same(ids(sub.takeAll()), [capsId, readyId]);
  bus.publish({ status: 'draining' });
  t.same(
    sub.takeAll().map((r) => r.event.status),
    ['draining'],
  );
});

t.test('capabilities never overwrite the lifecycle snapshot', async (t) => {
  const bus = new StatusBus();
  bus.publish({ status: 'ready' });
  bus.publish(caps);
  t.equal(bus.snapshot.event.status, 'ready');
  t.equal(bus.capabilities?.event.status, 'capabilities');
  const first = bus.subscribe().takeAll();
  t.same(
    first.map((r) => r.event.status),
    ['capabilities', 'ready'],
  );
});

t.test('before anything happened, a subscriber gets the starting snapshot (id 1) only', async (t) => {
  const bus = new StatusBus();
  const first = bus.subscribe().takeAll();
  t.same(ids(first), [1]);
  t.same(first[0]!.event, { status: 'starting' });
});

t.test('Last-Event-ID replays exactly the missed records', async (t) => {
  const bus = new StatusBus();
  for (let i = 0; i < 20; i++) bus.publish(download(i));
  const sub = bus.subscribe({ lastEventId: 12 });
  t.same(ids(sub.takeAll()), range(13, 21));
  bus.publish({ status: 'ready' });
  t.same(ids(sub.takeAll()), [22]);

  const upToDate = bus.subscribe({ lastEventId: bus.lastEventId });
  t.same(upToDate.takeAll(), [], 'nothing missed, nothing replayed');
  bus.publish({ status: 'draining' });
  t.same(ids(upToDate.takeAll()), [23]);

  const fromZero = bus.subscribe({ lastEventId: 0 });
  t.same(ids(fromZero.takeAll()), range(1, 23), 'id 0 means everything, while the ring holds it');
});

t.test('Last-Event-ID falls back to capabilities + snapshot when replay is impossible', async (t) => {
  const bus = new StatusBus({ replaySize: 8 });
  bus.publish(caps);
  for (let i = 0; i < 20; i++) bus.publish(download(i));
  const fallback = [bus.capabilities!.id, bus.snapshot.id];

  t.same(ids(bus.subscribe({ lastEventId: 3 }).takeAll()), fallback, 'ring no longer holds id 4');
  t.same(ids(bus.subscribe({ lastEventId: bus.lastEventId - 8 }).takeAll()), range(bus.lastEventId - 7, bus.lastEventId), 'exactly the ring');
  t.same(ids(bus.subscribe({ lastEventId: bus.lastEventId - 9 }).takeAll()), fallback, 'one past the ring');
  t.same(ids(bus.subscribe({ lastEventId: 1_000 }).takeAll()), fallback, 'an id from an earlier daemon process');
  t.same(ids(bus.subscribe({ lastEventId: -1 }).takeAll()), fallback, 'nonsense id');
  t.same(ids(bus.subscribe({ lastEventId: 1.5 }).takeAll()), fallback, 'non-integer id');
  t.same(ids(bus.subscribe({ lastEventId: bus.lastEventId - 5, queueLimit: 4 }).takeAll()), fallback, 'more missed than the queue may hold');
});

t.test('two subscribers see identical sequences and share the frame strings', async (t) => {
  const bus = new StatusBus();
  const a = bus.subscribe();
  bus.publish(bringUp[0]!);
  const b = bus.subscribe();
  for (const e of bringUp.slice(1)) bus.publish(e);
  const ra = a.takeAll().slice(1); // a also saw checking_local live; b got it as its snapshot
  const rb = b.takeAll();
  t.same(ids(ra), ids(rb));
  t.ok(
    ra.every((r, i) => r === rb[i]),
    'the very same record objects',
  );
});

t.test('no gap and no duplicate when subscribing in the middle of a publish burst', async (t) => {
  const bus = new StatusBus({ queueLimit: 100_000 });
  const subs: Array<{ sub: Subscription; at: number }> = [];
  for (let i = 0; i < 2_000; i++) {
    bus.publish(i % 97 === 0 ? caps : download(i));
    if (i % 13 === 0) subs.push({ sub: bus.subscribe(), at: bus.lastEventId });
    if (i % 29 === 0) subs.push({ sub: bus.subscribe({ lastEventId: Math.max(0, bus.lastEventId - 5) }), at: bus.lastEventId });
  }
  const last = bus.lastEventId;
  for (const { sub, at } of subs) {
    const got = sub.takeAll();
    const live = got.filter((r) => r.id > at);
    const initial = got.filter((r) => r.id <= at);
    t.ok(initial.length > 0, `subscriber at ${at} got initial records`);
    t.same(ids(live), range(at + 1, last), `subscriber at ${at}: live ids are exactly ${at + 1}..${last}`);
    t.equal(got.length, initial.length + live.length);
  }
});

t.test('re-entrant publish and subscribe from a listener during fan-out keep order', async (t) => {
  const bus = new StatusBus();
  const watcher = bus.subscribe({ queueLimit: 10_000 });
  const tiny = bus.subscribe({ queueLimit: 1 }); // lags on its first live record
  let inner: Subscription | undefined;
  let innerAt = 0;
  tiny.signal.addEventListener('abort', () => {
    // Runs synchronously inside the fan-out of the record that made `tiny` lag.
    bus.publish({ status: 'loading_model', phase: 'mmap', path: '/reentrant' });
    inner = bus.subscribe({ queueLimit: 10_000 });
    innerAt = bus.lastEventId;
  });
  const late = bus.subscribe({ queueLimit: 10_000 }); // registered after `tiny`
  bus.publish(download(1)); // id 2: tiny lags
  bus.publish(download(2)); // id 4
  t.equal(tiny.closeReason, 'lagged');
  t.same(ids(watcher.takeAll()), [1, 2, 3, 4]);
  t.same(ids(late.takeAll()), [1, 2, 3, 4], 'a subscriber visited after the listener still sees 2 before 3');
  t.equal(innerAt, 3);
  t.same(ids(inner!.takeAll()), [3, 4], 'the inner subscriber: snapshot 3, then 4, without duplicates');
});

t.test('a subscriber that never reads is cut off as lagged; a fast one gets everything', async (t) => {
  const bus = new StatusBus({ queueLimit: 64 });
  const slow = bus.subscribe();
  const fast = bus.subscribe();
  const received = collect(fast);
  t.equal(bus.stats().subscribers, 2);
  for (let batch = 0; batch < 50; batch++) {
    for (let i = 0; i < 20; i++) bus.publish(download(batch * 20 + i));
    await tick(); // let the fast consumer drain between bursts
  }
  t.equal(slow.closeReason, 'lagged');
  t.equal(slow.pending, 0, 'a lagged queue is released at once');
  t.equal(await slow.closed, 'lagged');
  t.ok(slow.signal.aborted);
  t.same(await collect(slow), [], 'its iterator ends');
  t.same(bus.stats(), { subscribers: 1, laggedDisconnects: 1, published: 1001, replayHeld: 256 });
  bus.close();
  t.same(ids(await received), range(1, 1001));
  t.equal(fast.closeReason, 'closed');
});

t.test('memory stays bounded: 100k events with a subscriber that never reads', async (t) => {
  const bus = new StatusBus();
  const dead = bus.subscribe();
  let maxPending = 0;
  for (let i = 0; i < 100_000; i++) {
    bus.publish(download(i));
    maxPending = Math.max(maxPending, dead.pending);
  }
  t.equal(maxPending, 256, 'the queue filled to its limit and no further');
  t.equal(dead.pending, 0);
  t.equal(dead.closeReason, 'lagged');
  t.same(bus.stats(), { subscribers: 0, laggedDisconnects: 1, published: 100_001, replayHeld: 256 });
  // Each later subscriber is bounded the same way.
  const another = bus.subscribe({ queueLimit: 10 });
  for (let i = 0; i < 1_000; i++) bus.publish(download(i));
  t.equal(another.closeReason, 'lagged');
  t.equal(bus.stats().laggedDisconnects, 2);
});

t.test('500 concurrent subscribers all receive ready', async (t) => {
  const bus = new StatusBus();
  const waits = Array.from({ length: 500 }, async () => {
    for await (const r of bus.subscribe()) if (r.event.status === 'ready') return r.id;
    return -1;
  });
  t.equal(bus.stats().subscribers, 500);
  for (const e of bringUp) {
    bus.publish(e);
    await tick();
  }
  const got = await Promise.all(waits);
  t.ok(
    got.every((id) => id === bus.snapshot.id),
    'every subscriber saw the same ready record',
  );
  t.equal(bus.stats().subscribers, 0, 'breaking out of for-await unsubscribed them all');
});

t.test('close() delivers what is queued, then ends; later subscribers get the snapshot and end', async (t) => {
  const bus = new StatusBus();
  const sub = bus.subscribe();
  bus.publish({ status: 'ready' });
  bus.publish({ status: 'draining' });
  bus.close();
  t.equal(sub.closeReason, 'closed');
  t.equal(sub.pending, 3);
  t.same(
    (await collect(sub)).map((r) => r.event.status),
    ['starting', 'ready', 'draining'],
  );
  t.ok(sub.done);

  const late = bus.subscribe();
  t.equal(late.closeReason, 'closed');
  t.same(
    (await collect(late)).map((r) => r.event.status),
    ['draining'],
  );
  t.equal(bus.stats().subscribers, 0);
  const after = bus.publish({ status: 'failed', message: 'x' });
  t.equal(bus.snapshot, after, 'the snapshot still moves after close');
});

t.test('close() of a subscription unsubscribes and drops its queue', async (t) => {
  const bus = new StatusBus();
  const sub = bus.subscribe();
  bus.publish({ status: 'ready' });
  sub.close();
  sub.close();
  t.equal(sub.closeReason, 'unsubscribed');
  t.equal(sub.pending, 0);
  t.equal(bus.stats().subscribers, 0);
  bus.publish({ status: 'draining' });
  t.equal(sub.pending, 0);
  t.same(await sub.next(), { done: true, value: undefined });
});

t.test('subscribe({ signal }) unsubscribes on abort', async (t) => {
  const bus = new StatusBus();
  const ac = new AbortController();
  const sub = bus.subscribe({ signal: ac.signal });
  t.equal(bus.stats().subscribers, 1);
  ac.abort();
  t.equal(sub.closeReason, 'unsubscribed');
  t.equal(bus.stats().subscribers, 0);
  const pre = bus.subscribe({ signal: AbortSignal.abort() });
  t.equal(pre.closeReason, 'unsubscribed');
  t.equal(bus.stats().subscribers, 0);
});

t.test('wait() resolves on data, on end, and false on timeout', async (t) => {
  const bus = new StatusBus();
  const sub = bus.subscribe();
  t.equal(await sub.wait(), true, 'initial snapshot is waiting');
  sub.takeAll();
  t.equal(await sub.wait(1), false, 'idle: times out');
  const pending = sub.wait();
  bus.publish({ status: 'ready' });
  t.equal(await pending, true);
  t.equal(sub.shift()?.event.status, 'ready');
  t.equal(sub.shift(), undefined);
  const ending = sub.wait(60_000);
  bus.close();
  t.equal(await ending, true, 'ending wakes the waiter (and clears its timer)');
});

t.test('waitFor / waitForStatus', async (t) => {
  const bus = new StatusBus();
  t.equal((await bus.waitForStatus('starting')).id, 1, 'already true: resolves with the snapshot');

  const ready = bus.waitForStatus(['ready', 'failed']);
  const capsSeen = bus.waitFor((e) => e.status === 'capabilities');
  // A burst much larger than any queue: waitFor checks synchronously, so it cannot miss.
  for (let i = 0; i < 1_000; i++) bus.publish(download(i));
  for (const e of bringUp) bus.publish(e);
  for (let i = 0; i < 1_000; i++) bus.publish({ status: 'draining' });
  t.equal((await ready).event.status, 'ready');
  t.equal((await capsSeen).id, bus.capabilities!.id);

  const ac = new AbortController();
  const aborted = bus.waitForStatus('restarting', ac.signal);
  ac.abort(new Error('gave up'));
  await t.rejects(aborted, { message: 'gave up' });

  const throwing = bus.waitFor(() => {
    throw new Error('predicate bug');
  });
  await t.rejects(throwing, { message: 'predicate bug' });

  const never = bus.waitForStatus('restarting');
  bus.close();
  await t.rejects(never, { code: 'backend_unavailable', message: 'status bus closed' });
  await t.rejects(bus.waitForStatus('restarting'), { code: 'backend_unavailable' });
});

t.test('published records are frozen copies', async (t) => {
  const bus = new StatusBus();
  const event = { status: 'loading_model', phase: 'kv_cache', n_ctx: 512 } as StatusEvent;
  const record = bus.publish(event);
  (event as { n_ctx: number }).n_ctx = 1;
  t.equal((record.event as { n_ctx: number }).n_ctx, 512);
  t.ok(Object.isFrozen(record) && Object.isFrozen(record.event));
  t.equal(record.frame, '{"id":"admin","type":"status","status":"loading_model","phase":"kv_cache","n_ctx":512}');
});

t.test('options are validated', async (t) => {
  t.throws(() => new StatusBus({ replaySize: 0 }), { code: 'internal' });
  t.throws(() => new StatusBus().subscribe({ queueLimit: 1.5 }), { code: 'internal' });
});
