import t from 'tap';
import { Admission } from '../../src/admission/admission.js';
import { isInferdError } from '../../src/errors.js';

t.test('slots then queue then queue_full at once', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 1 });
  const first = await gate.acquire();
  const second = gate.acquire();
  t.equal(gate.active, 1);
  t.equal(gate.queued, 1);
  const third = await gate.acquire().catch((err: unknown) => err);
  t.ok(isInferdError(third) && third.code === 'queue_full', 'third request is refused with queue_full');
  t.equal(gate.stats().rejectedTotal, 1);
  first.release();
  const secondPermit = await second;
  t.equal(gate.active, 1, 'the freed slot went to the queued request');
  t.equal(gate.queued, 0);
  secondPermit.release();
  t.equal(gate.active, 0);
});

t.test('parallel=1, queue_depth=0 admits exactly one', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 0 });
  const held = await gate.acquire();
  const refused = await gate.acquire().catch((err: unknown) => err);
  t.ok(isInferdError(refused) && refused.code === 'queue_full' && refused.status === 429);
  held.release();
  (await gate.acquire()).release();
});

t.test('a cancelled queued request leaves the queue', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 2 });
  const held = await gate.acquire();
  const ac = new AbortController();
  const queued = gate.acquire(ac.signal);
  const other = gate.acquire();
  t.equal(gate.queued, 2);
  ac.abort(new Error('client left'));
  await t.rejects(queued, /client left/);
  t.equal(gate.queued, 1, 'only the other request waits');
  t.equal(gate.stats().cancelledWhileQueuedTotal, 1);
  held.release();
  (await other).release();
  t.equal(gate.inFlight, 0);
});

t.test('release is idempotent and serves the queue in order', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 3 });
  const order: number[] = [];
  const held = await gate.acquire();
  const waiters = [1, 2, 3].map((n) => gate.acquire().then((p) => { order.push(n); p.release(); }));
  held.release();
  held.release();
  await Promise.all(waiters);
  t.same(order, [1, 2, 3]);
  t.equal(gate.active, 0, 'a double release does not free a slot twice');
});

t.test('whenIdle and rejectQueued', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 1 });
  await gate.whenIdle();
  const held = await gate.acquire();
  const queued = gate.acquire();
  let idle = false;
  const idlePromise = gate.whenIdle().then(() => { idle = true; });
  gate.rejectQueued(new (await import('../../src/errors.js')).InferdError('backend_unavailable', 'shutting down'));
  await t.rejects(queued, /shutting down/);
  t.equal(idle, false, 'still one active');
  held.release();
  await idlePromise;
  t.equal(idle, true);
});

t.test('an already aborted signal never takes a slot', async (t) => {
  const gate = new Admission({ slots: 1, queueDepth: 0 });
  await t.rejects(gate.acquire(AbortSignal.abort(new Error('gone'))), /gone/);
  t.equal(gate.active, 0);
});
