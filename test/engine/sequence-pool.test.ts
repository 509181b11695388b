// The pool of context sequences: the best prompt-cache match first, else the lowest-numbered
// free sequence, so busy sequences stay adjacent (one llama.cpp micro-batch per decode round).
import t from 'tap';
import { InferdError } from '../../src/errors.js';
import { SequencePool } from '../../src/engine/sequence-pool.js';

t.test('lowest free first, given back into place', async (t) => {
  const pool = new SequencePool(['s0', 's1', 's2', 's3']);
  const flat = () => 0;
  t.equal(await pool.take(undefined, flat), 's0');
  t.equal(await pool.take(undefined, flat), 's1');
  t.equal(await pool.take(undefined, flat), 's2');
  pool.give('s1');
  pool.give('s0');
  t.equal(await pool.take(undefined, flat), 's0', 'ties go to the lowest');
  t.equal(await pool.take(undefined, flat), 's1');
  t.equal(await pool.take(), 's3', 'without a score too');
});

t.test('a better cache match wins over order', async (t) => {
  const pool = new SequencePool(['s0', 's1', 's2']);
  t.equal(await pool.take(undefined, (s) => (s === 's2' ? 10 : 0)), 's2');
});

t.test('waiters are served in order; an aborted waiter leaves; close refuses', async (t) => {
  const pool = new SequencePool(['only']);
  const held = await pool.take();
  const controller = new AbortController();
  const first = pool.take(controller.signal);
  const second = pool.take();
  controller.abort(new Error('gone'));
  await t.rejects(first, { message: 'gone' });
  pool.give(held);
  t.equal(await second, 'only');
  pool.close(new InferdError('backend_unavailable', 'unloaded'));
  await t.rejects(pool.take(), { code: 'backend_unavailable' });
});
