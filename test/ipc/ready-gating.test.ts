// Ready gating (contract §1.9, F-13) and the admin stream across a daemon's whole life:
// admin.sock answers from the start; infer.sock exists exactly while the daemon is ready (it is
// bound before `ready` is published, removed when `restarting` or `draining` begins); requests
// in flight finish; admin.sock carries the same bytes as GET /admin/status NDJSON throughout.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { LineClient, LONG, connectOutcome, hi, line } from './fixtures/unix-client.js';

/** Reads an NDJSON HTTP body line by line. */
async function httpLines(url: string) {
  const res = await request(url);
  const lines: string[] = [];
  let buffer = '';
  let wake: (() => void) | undefined;
  let ended = false;
  res.body.setEncoding('utf8');
  res.body.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    wake?.();
  });
  const finish = () => {
    ended = true;
    wake?.();
  };
  res.body.on('end', finish);
  res.body.on('error', finish);
  return {
    contentType: res.headers['content-type'],
    async next(): Promise<string | null> {
      for (;;) {
        const l = lines.shift();
        if (l !== undefined) return l;
        if (ended) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    destroy: () => res.body.destroy(),
  };
}

type LineSource = { next?: () => Promise<string | null>; nextLine?: () => Promise<string | null> };
const status = (l: string) => (JSON.parse(l) as { status: string }).status;

/** Lines up to and including the first whose status is `until`. */
async function readUntil(source: LineSource, until: string, onLine?: (line: string) => void): Promise<string[]> {
  const read = source.nextLine ? () => source.nextLine!() : () => source.next!();
  const out: string[] = [];
  for (;;) {
    const l = await read();
    if (l === null) throw new Error(`EOF before ${until}; got ${out.join(' | ')}`);
    out.push(l);
    onLine?.(l);
    if (status(l) === until) return out;
  }
}

t.test('a daemon from start to shutdown', async (t) => {
  const { daemon, url } = await startDaemon(t, {}, { start: false });
  const { admin, infer, lock, runtimeDir } = daemon.sockets!.endpoints;

  // Before the model: admin.sock answers, infer.sock does not exist.
  t.ok(lstatSync(admin).isSocket(), 'admin.sock is bound before any model work');
  t.equal(lstatSync(admin).mode & 0o777, 0o600, 'admin.sock is 0600');
  t.equal(lstatSync(runtimeDir).mode & 0o777, 0o700, 'the runtime dir is 0700');
  t.ok(existsSync(lock), 'inferd.lock is held');
  t.notOk(existsSync(infer), 'infer.sock is absent before ready');
  t.equal(await connectOutcome(infer), 'ENOENT', 'connecting to it fails with ENOENT ("not ready yet")');

  const viaSocket = await LineClient.connect(admin);
  t.teardown(() => viaSocket.destroy());
  const viaHttp = await httpLines(`${url}/admin/status`);
  t.teardown(() => viaHttp.destroy());
  t.match(viaHttp.contentType, /^application\/x-ndjson/);
  t.same(await viaSocket.nextLine(), '{"id":"admin","type":"status","status":"starting"}', 'admin.sock answers while nothing is loaded');
  t.equal(await viaHttp.next(), '{"id":"admin","type":"status","status":"starting"}');

  // Bring-up: infer.sock exists by the time anyone reads `ready`.
  let inferAtReady: boolean | undefined;
  const started = daemon.start();
  const socketUp = await readUntil(viaSocket, 'ready', (l) => {
    if (status(l) === 'ready') inferAtReady = existsSync(infer);
  });
  await started;
  t.equal(inferAtReady, true, 'infer.sock was bound before `ready` was published');
  t.ok(socketUp.some((l) => status(l) === 'loading_model'), 'the load phases went out on admin.sock');
  t.same(await readUntil(viaHttp, 'ready'), socketUp, 'the same bytes as GET /admin/status NDJSON');
  t.equal(lstatSync(infer).mode & 0o777, 0o660, 'infer.sock is 0660');
  t.equal(lstatSync(infer).isSocket(), true);

  t.test('a reload removes infer.sock; in-flight requests finish, idle connections close', async (t) => {
    const busy = await LineClient.connect(infer);
    t.teardown(() => busy.destroy());
    const idle = await LineClient.connect(infer);
    t.teardown(() => idle.destroy());
    busy.write(line({ id: 'busy', ...LONG, max_tokens: 1500 }));
    t.equal((await busy.nextFrame())!.type, 'token', 'generating when the reload begins');

    const reloaded = daemon.lifecycle.reload();
    t.notOk(existsSync(infer), 'infer.sock is gone as soon as the reload starts');
    t.equal(await connectOutcome(infer), 'ENOENT', 'new connections fail with ENOENT');
    t.same(await idle.rest(), [], 'an idle connection is closed without a frame');

    const frames = await busy.untilTerminal();
    const done = frames.at(-1) as DoneFrame;
    t.match(done, { type: 'done', id: 'busy', stop_reason: 'length' }, 'the in-flight request finished');
    t.equal(done.usage.completion_tokens, 1500, 'all of it');
    t.same(await busy.rest(), [], 'then its connection closes');

    const socketReload = await readUntil(viaSocket, 'ready');
    t.ok(socketReload.some((l) => status(l) === 'restarting'), 'admin.sock saw restarting');
    t.same(await readUntil(viaHttp, 'ready'), socketReload, 'and the same bytes as the HTTP stream');
    t.match(await reloaded, { ok: true });
    t.ok(lstatSync(infer).isSocket(), 'infer.sock is back after the reload');
    t.equal(lstatSync(infer).mode & 0o777, 0o660);
    const again = await LineClient.connect(infer);
    t.teardown(() => again.destroy());
    again.write(line({ id: 'again', messages: hi, max_tokens: 2 }));
    t.equal((await again.untilTerminal()).at(-1)!.type, 'done', 'and serves');
  });

  t.test('shutdown: infer.sock goes first, in-flight requests finish, admin gets draining then EOF', async (t) => {
    const busy = await LineClient.connect(infer);
    const idle = await LineClient.connect(infer);
    busy.write(line({ id: 'last', ...LONG, max_tokens: 800 }));
    t.equal((await busy.nextFrame())!.type, 'token');

    const stopped = daemon.shutdown();
    t.notOk(existsSync(infer), 'infer.sock is gone as soon as draining begins');
    t.same(await idle.rest(), [], 'an idle connection is closed');
    const frames = await busy.untilTerminal();
    t.match(frames.at(-1), { type: 'done', id: 'last', stop_reason: 'length' }, 'the in-flight request finished');
    t.same(await busy.rest(), [], 'then its connection closes');
    t.same(await viaSocket.rest(), ['{"id":"admin","type":"status","status":"draining"}'], 'admin.sock: draining, then EOF');
    await stopped;
    t.same(readdirSync(runtimeDir), [], 'sockets and lock are removed');
    t.equal(await connectOutcome(admin), 'ENOENT');
  });
});

t.test('a failed bring-up never binds infer.sock', async (t) => {
  const { daemon } = await startDaemon(t, { model: { path: '/nonexistent/model.gguf' } }, { start: false });
  const { admin, infer } = daemon.sockets!.endpoints;
  const watcher = await LineClient.connect(admin);
  t.teardown(() => watcher.destroy());
  await t.rejects(daemon.start());
  t.notOk(existsSync(infer), 'no infer.sock');
  const lines = await readUntil(watcher, 'failed');
  t.equal(status(lines.at(-1)!), 'failed', 'admin.sock reports the failure');
});
