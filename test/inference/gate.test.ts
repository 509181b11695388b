// A lease's signal follows the client and the daemon-wide cancel signal, and leaves nothing
// behind on the cancel signal, which lives as long as the daemon.
import { getEventListeners } from 'node:events';
import t from 'tap';
import { Admission } from '../../src/admission/admission.js';
import type { Engine } from '../../src/engine/engine.js';
import { InferdError } from '../../src/errors.js';
import { InferenceGate, type EngineHolder } from '../../src/inference/gate.js';
import { linkSignals } from '../../src/linked-signal.js';

function gateWith(cancel: AbortController): InferenceGate {
  const engine = {} as Engine; // never called: these tests only lease and release
  const holder: EngineHolder = { current: () => engine, cancelSignal: cancel.signal };
  return new InferenceGate(holder, new Admission({ slots: 4, queueDepth: 4 }));
}

/** What the signal keeps about signals made from it, by Node's AbortSignal.any (an internal set). */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === 'kDependantSignals');
  const set = key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

t.test('a lease aborts with the client or with the daemon-wide cancel', async (t) => {
  const cancel = new AbortController();
  const gate = gateWith(cancel);
  const client = new AbortController();
  const lease = await gate.lease(client.signal);
  client.abort(new Error('client gone'));
  t.ok(lease.signal.aborted, 'the client going away aborts the lease');
  t.equal((lease.signal.reason as Error).message, 'client gone', 'with the client signal reason');
  lease.release();

  const other = await gate.lease(new AbortController().signal);
  cancel.abort(new InferdError('backend_unavailable', 'the daemon stopped'));
  t.ok(other.signal.aborted, 'cancelling everything aborts a lease');
  t.equal((other.signal.reason as InferdError).code, 'backend_unavailable');
  other.release();
});

t.test('a released lease leaves nothing on the cancel signal', async (t) => {
  const cancel = new AbortController();
  const gate = gateWith(cancel);
  for (let i = 0; i < 1000; i++) {
    const client = new AbortController();
    const lease = await gate.lease(client.signal);
    lease.release();
    lease.release(); // extra calls are ignored
  }
  t.equal(getEventListeners(cancel.signal, 'abort').length, 0, 'no abort listener left');
  t.equal(dependants(cancel.signal), 0, 'no dependant signals recorded (AbortSignal.any left one per lease)');
  const held = await gate.lease(new AbortController().signal);
  t.equal(getEventListeners(cancel.signal, 'abort').length, 1, 'a held lease listens');
  held.release();
  t.equal(getEventListeners(cancel.signal, 'abort').length, 0, 'until it is released');
});

t.test('linkSignals', async (t) => {
  const a = new AbortController();
  const b = new AbortController();
  const link = linkSignals([a.signal, undefined, b.signal]);
  t.notOk(link.signal.aborted);
  b.abort('second');
  t.ok(link.signal.aborted);
  t.equal(link.signal.reason, 'second', 'the reason of the source that aborted');
  t.equal(getEventListeners(a.signal, 'abort').length, 0, 'an abort unlinks the other sources');

  const early = linkSignals([AbortSignal.abort('already'), a.signal]);
  t.ok(early.signal.aborted, 'an aborted source aborts the link at once');
  t.equal(early.signal.reason, 'already');
  t.equal(getEventListeners(a.signal, 'abort').length, 0, 'and nothing listens afterwards');

  const cut = linkSignals([a.signal]);
  cut.unlink();
  a.abort('late');
  t.notOk(cut.signal.aborted, 'after unlink a source no longer reaches the link');
});
