// The fleet recipe, end to end: three real daemons (child processes, demo model, 1 thread each)
// behind one real haproxy running the shipped deploy/haproxy/haproxy.cfg, with a client keeping
// three streams in flight through a rolling reload and then a rolling restart. Every request must
// end with its `done` frame: the balancer's health checks and retries hide both rolls entirely.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import type { V1Frame } from '../../src/protocol/v1.js';
import { isStatus, openAdminStream, type AdminStream } from '../helpers/admin.js';
import { spawnDaemon, type ChildDaemon } from '../helpers/child-daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { requireExecutable } from '../helpers/e2e.js';
import { freePort, startHaproxy } from '../helpers/haproxy.js';

const haproxy = requireExecutable('haproxy');
const TOKENS = 200;
// rise 2 × fastinter 250 ms in the shipped config, with margin: the time haproxy needs to put a
// ready daemon back into rotation. A rolling procedure waits for it before taking the next one.
const BACK_IN_ROTATION_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  status: number;
  frames: V1Frame[];
  error?: string;
}

async function streamOnce(base: string, n: number): Promise<Outcome> {
  try {
    const res = await request(`${base}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ id: `r${n}`, messages: [{ role: 'user', content: 'count' }], grammar: 'root ::= [0-9]+', max_tokens: TOKENS }),
    });
    const text = await res.body.text();
    const frames = text.trim() === '' ? [] : text.trim().split('\n').map((line) => JSON.parse(line) as V1Frame);
    return { status: res.statusCode, frames };
  } catch (err) {
    return { status: 0, frames: [], error: (err as Error).message };
  }
}

t.test('rolling reload and rolling restart behind haproxy fail no request', { skip: haproxy.skip }, async (t) => {
  const model = await demoModelPath('tiny');
  const dir = mkdtempSync(join(tmpdir(), 'inferd-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ports = [await freePort(), await freePort(), await freePort()];
  const start = (port: number) => spawnDaemon(t, ['--model', model, '--threads', '1', '--port', String(port)]);
  const daemons: ChildDaemon[] = await Promise.all(ports.map(start));
  const admins: AdminStream[] = [];
  for (const d of daemons) {
    const admin = await openAdminStream(d.url, 'ndjson');
    await admin.until(isStatus('ready'));
    admins.push(admin);
  }
  t.teardown(() => admins.forEach((a) => a.close()));
  const proxy = await startHaproxy(haproxy.path!, dir, ports);
  t.teardown(() => proxy.stop());

  // Three clients, each starting its next stream as soon as the last one ends.
  const outcomes: Outcome[] = [];
  let rolling = true;
  let counter = 0;
  const inFlightAtDrain: number[] = [];
  const clients = [0, 1, 2].map(async () => {
    while (rolling) outcomes.push(await streamOnce(proxy.url, counter++));
  });
  const midStream = async () => {
    // Take a daemon out only while streams are running through the fleet.
    const before = outcomes.length;
    while (outcomes.length === before) await sleep(20);
  };

  // Rolling reload: each daemon in turn; POST /admin/reload answers once it is ready again.
  for (const [i, d] of daemons.entries()) {
    await midStream();
    const from = admins[i]!.frames.length;
    const res = await request(`${d.url}/admin/reload`, { method: 'POST' });
    t.equal(res.statusCode, 200, `daemon ${i + 1} reloaded`);
    t.match(await res.body.json(), { status: 'ready' });
    await admins[i]!.until(isStatus('ready'), from);
    const seen = admins[i]!.frames.slice(from).map((f) => JSON.parse(f) as { status: string; phase?: string; in_flight?: number });
    t.match(seen[0], { status: 'restarting', phase: 'drain' }, `daemon ${i + 1}: restarting{drain} comes first`);
    inFlightAtDrain.push(seen[0]?.in_flight ?? -1);
    t.same([...new Set(seen.map((f) => f.status))], ['restarting', 'capabilities', 'ready'], `daemon ${i + 1}: restarting… then capabilities, ready`);
    await sleep(BACK_IN_ROTATION_MS);
  }

  // Rolling restart: SIGTERM, wait for the exit, start a new process on the same port.
  for (const [i, d] of daemons.entries()) {
    await midStream();
    const from = admins[i]!.frames.length;
    d.child.kill('SIGTERM');
    t.equal(await d.exited, 0, `daemon ${i + 1} drained and exited 0`);
    await admins[i]!.ended;
    const seen = admins[i]!.frames.slice(from).map((f) => (JSON.parse(f) as { status: string }).status);
    t.same(seen, ['draining'], `daemon ${i + 1}: draining, then the stream ends`);
    daemons[i] = await start(ports[i]!);
    admins[i] = await openAdminStream(daemons[i]!.url, 'ndjson');
    await admins[i]!.until(isStatus('ready'));
    await sleep(BACK_IN_ROTATION_MS);
  }

  rolling = false;
  await Promise.all(clients);
  const bad = outcomes.filter((o) => {
    const last = o.frames.at(-1);
    return o.status !== 200 || last?.type !== 'done' || last.stop_reason !== 'length' || last.usage.completion_tokens !== TOKENS || o.frames.some((f) => f.type === 'error');
  });
  t.ok(outcomes.length >= 12, `the client kept streaming through both rolls (${outcomes.length} requests)`);
  t.same(
    bad.map((o) => ({ status: o.status, error: o.error, last: o.frames.at(-1) })),
    [],
    'every request ended with its done frame after all its tokens: 0 failed, 0 truncated, 0 errors',
  );
  t.comment(`requests: ${outcomes.length}; in flight on each daemon when its reload began: ${inFlightAtDrain.join(', ')}`);
  if (bad.length > 0) t.comment(proxy.output());
});
