// Binding hygiene of the Unix-socket shim (contract §1.7, §3.14–3.15; reliability-anchors
// "Socket file permissions and stale sockets", "the single-instance lock"): modes, symlink
// refusal, stale and live sockets, and the lock. UnixSockets on its own; no model is loaded,
// except where a whole daemon in a child process is the point.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { pino } from 'pino';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { InferdConfig } from '../../src/config/schema.js';
import type { InferenceGate } from '../../src/inference/gate.js';
import { Daemon } from '../../src/daemon.js';
import { UnixSockets } from '../../src/ipc/unix-sockets.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { StatusBus } from '../../src/status/bus.js';
import { testConfig } from '../helpers/daemon.js';
import { LineClient, connectOutcome, until } from './fixtures/unix-client.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const silent = { info() {}, warn() {}, error() {} };

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'inferd-ipc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type SocketConfig = Partial<Pick<InferdConfig, 'runtime_dir' | 'admin_addr' | 'infer_addr' | 'write_timeout_ms'>>;

function shim(t: Test, config: SocketConfig, env: Record<string, string> = {}, bus = new StatusBus()): UnixSockets {
  const sockets = new UnixSockets({
    config: { write_timeout_ms: 1000, ...config },
    bus,
    gate: {} as InferenceGate, // no request is sent in these tests
    metrics: new Metrics(),
    log: silent,
    env,
  });
  t.teardown(() => sockets.close(100));
  return sockets;
}

const mode = (path: string) => lstatSync(path).mode & 0o777;

/** A socket file whose owner process was killed: what a crash leaves behind. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

t.test('modes: runtime dir 0700, admin.sock 0600, infer.sock 0660; files removed on close', async (t) => {
  const dir = join(await tempDir(t), 'a', 'run');
  const sockets = shim(t, { runtime_dir: dir });
  await sockets.open();
  const { admin, infer, lock } = sockets.endpoints;
  t.equal(mode(dir), 0o700, 'the runtime dir is created 0700');
  t.ok(lstatSync(admin).isSocket());
  t.equal(mode(admin), 0o600);
  t.match(JSON.parse(readFileSync(lock, 'utf8')), { pid: process.pid, hostname: hostname(), purpose: 'inferd daemon' }, 'the lock names its holder');
  t.notOk(existsSync(infer), 'infer.sock waits for ready');
  await sockets.openInfer();
  t.ok(lstatSync(infer).isSocket());
  t.equal(mode(infer), 0o660);
  t.equal(await connectOutcome(infer), 'connected');
  sockets.closeInfer();
  t.notOk(existsSync(infer), 'closeInfer removes it at once');
  await sockets.openInfer();
  t.equal(await connectOutcome(infer), 'connected', 'and it can come back');
  await sockets.close();
  t.notOk(existsSync(admin));
  t.notOk(existsSync(infer));
  t.notOk(existsSync(lock), 'the lock is released');
  t.ok(existsSync(dir), 'the runtime dir stays');
});

t.test('the default runtime dir is tightened to 0700 and must be a real directory of ours', async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'inferd');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const sockets = shim(t, {}, { XDG_RUNTIME_DIR: base });
  t.equal(sockets.endpoints.runtimeDir, dir);
  await sockets.open();
  t.equal(mode(dir), 0o700, 'tightened');
  await sockets.close();

  const other = await tempDir(t);
  const planted = join(other, 'xdg');
  mkdirSync(planted);
  const target = join(other, 'elsewhere');
  mkdirSync(target);
  symlinkSync(target, join(planted, 'inferd'));
  await t.rejects(shim(t, {}, { XDG_RUNTIME_DIR: planted }).open(), { code: 'socket_error', message: /is a symlink \(refused\)/ });
  t.notOk(existsSync(join(target, 'admin.sock')), 'nothing was created through the symlink');
  t.notOk(existsSync(join(target, 'inferd.lock')));
});

t.test('a default runtime dir owned by another user is refused', { skip: process.geteuid?.() === 0 ? false : 'needs root to chown' }, async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'inferd');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, 12345, 12345);
  await t.rejects(shim(t, {}, { XDG_RUNTIME_DIR: base }).open(), { code: 'socket_error', message: /belongs to uid 12345/ });
});

t.test('symlinks are refused, never followed or removed', async (t) => {
  for (const leaf of ['admin.sock', 'infer.sock', 'inferd.lock']) {
    const dir = await tempDir(t);
    const target = join(dir, 'precious');
    writeFileSync(target, 'keep me');
    const link = join(dir, leaf);
    symlinkSync(target, link);
    const sockets = shim(t, { runtime_dir: dir });
    await t.rejects(sockets.open(), { message: new RegExp(`${link.replace(/\./g, '\\.')} is a symlink \\(refused\\)`) }, `${leaf}: refused`);
    t.equal(readlinkSync(link), target, `${leaf}: the symlink is left alone`);
    t.equal(readFileSync(target, 'utf8'), 'keep me', `${leaf}: its target is untouched`);
    if (leaf !== 'inferd.lock') {
      t.notOk(existsSync(join(dir, 'inferd.lock')), `${leaf}: the lock was released again`);
      t.notOk(existsSync(join(dir, 'admin.sock')) && leaf !== 'admin.sock', `${leaf}: nothing was bound`);
    }
  }
});

t.test('a symlinked lock is refused even when it points at a stale-looking lock', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
  const target = join(dir, 'planted.json');
  const stale = JSON.stringify({ pid, hostname: hostname(), created_at: new Date().toISOString() });
  writeFileSync(target, stale);
  symlinkSync(target, join(dir, 'inferd.lock'));
  await t.rejects(shim(t, { runtime_dir: dir }).open(), { code: 'lock_held', message: /inferd\.lock is a symlink \(refused\)/ });
  t.equal(readlinkSync(join(dir, 'inferd.lock')), target, 'not taken over');
  t.equal(readFileSync(target, 'utf8'), stale, 'the target is untouched');
});

t.test('a file that is not a socket is refused, not replaced', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'admin.sock'), 'not a socket');
  await t.rejects(shim(t, { runtime_dir: dir }).open(), { code: 'socket_error', message: /exists and is not a socket/ });
  t.equal(readFileSync(join(dir, 'admin.sock'), 'utf8'), 'not a socket');
});

t.test('a stale socket left by a crash is replaced', async (t) => {
  const dir = await tempDir(t);
  await staleSocket(join(dir, 'admin.sock'));
  await staleSocket(join(dir, 'infer.sock'));
  t.equal(await connectOutcome(join(dir, 'admin.sock')), 'ECONNREFUSED', 'stale: nobody answers');
  const sockets = shim(t, { runtime_dir: dir });
  await sockets.open();
  t.notOk(existsSync(join(dir, 'infer.sock')), 'a stale infer.sock is removed at start (absent until ready)');
  const client = await LineClient.connect(join(dir, 'admin.sock'));
  t.teardown(() => client.destroy());
  t.equal(await client.nextLine(), '{"id":"admin","type":"status","status":"starting"}', 'the new admin.sock answers');
});

t.test("a live socket of another process is never unlinked", async (t) => {
  const dir = await tempDir(t);
  const other = net.createServer((s) => {
    s.on('error', () => {}); // our probe connects and leaves at once
    s.end('other\n');
  });
  // Somewhere else (its own runtime dir), but pointed at our admin path by an override.
  const path = join(dir, 'shared.sock');
  await new Promise<void>((resolve) => other.listen(path, resolve));
  t.teardown(() => other.close());
  await t.rejects(shim(t, { runtime_dir: join(dir, 'run'), admin_addr: path }).open(), { code: 'socket_error', message: /another process is serving on/ });
  await t.rejects(shim(t, { runtime_dir: join(dir, 'run2'), infer_addr: path }).open(), { code: 'socket_error', message: /another process is serving on/ });
  const client = await LineClient.connect(path);
  t.equal(await client.nextLine(), 'other', 'the other socket still works');
  client.destroy();
});

t.test('overridden socket paths: parents created, the lock stays in the runtime dir', async (t) => {
  const dir = await tempDir(t);
  const sockets = shim(t, { runtime_dir: join(dir, 'run'), admin_addr: join(dir, 'x', 'adm.sock'), infer_addr: join(dir, 'y', 'gen.sock') });
  await sockets.open();
  await sockets.openInfer();
  t.equal(mode(join(dir, 'x', 'adm.sock')), 0o600);
  t.equal(mode(join(dir, 'y', 'gen.sock')), 0o660);
  t.equal(mode(join(dir, 'y')), 0o700, 'a missing parent is created 0700');
  t.ok(existsSync(join(dir, 'run', 'inferd.lock')));
  await t.rejects(shim(t, { runtime_dir: join(dir, 'r3'), admin_addr: join(dir, 'same.sock'), infer_addr: join(dir, 'same.sock') }).open(), {
    code: 'socket_error',
    message: /cannot share one path/,
  });
  await t.rejects(shim(t, { runtime_dir: join(dir, 'r4'), admin_addr: join(dir, 'z'.repeat(120), 'a.sock') }).open(), {
    code: 'socket_error',
    message: /socket path is too long/,
  });
});

t.test('the single-instance lock', async (t) => {
  const dir = await tempDir(t);
  const first = shim(t, { runtime_dir: dir });
  await first.open();
  const lockPath = join(dir, 'inferd.lock');

  t.test('a second instance in this process is refused, naming the path and the holder', async (t) => {
    await t.rejects(shim(t, { runtime_dir: dir }).open(), { code: 'lock_held', message: `another inferd daemon holds the lock ${lockPath} (pid ${process.pid} on ${hostname()}` } as never);
    t.equal(await connectOutcome(join(dir, 'admin.sock')), 'connected', "the first instance's admin.sock is untouched");
  });

  t.test('a second daemon process exits non-zero with a message naming the lock', { skip: existsSync(CLI) ? false : 'run `npm run build` first' }, async (t) => {
    const home = await tempDir(t);
    const child = spawn(process.execPath, [CLI, 'serve', '--runtime-dir', dir, '--port', '0', '--log-level', 'silent'], {
      env: { PATH: process.env.PATH, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.equal(code, 1, 'exit code 1');
    t.match(stderr, `inferd: another inferd daemon holds the lock ${lockPath} (pid ${process.pid}`);
    t.equal(await connectOutcome(join(dir, 'admin.sock')), 'connected', "the first instance's admin.sock still answers");
    t.match(JSON.parse(readFileSync(lockPath, 'utf8')), { pid: process.pid }, 'and it still holds the lock');
  });

  t.test('a lock left by a dead process is taken over', async (t) => {
    const other = await tempDir(t);
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    writeFileSync(join(other, 'inferd.lock'), JSON.stringify({ pid, hostname: hostname(), created_at: new Date().toISOString() }));
    const sockets = shim(t, { runtime_dir: other });
    await sockets.open();
    t.match(JSON.parse(readFileSync(join(other, 'inferd.lock'), 'utf8')), { pid: process.pid });
  });
});

t.test('close never hangs on an admin reader that stopped reading (write_timeout_ms 0)', async (t) => {
  const dir = await tempDir(t);
  const bus = new StatusBus();
  const sockets = shim(t, { runtime_dir: dir, write_timeout_ms: 0 }, {}, bus);
  await sockets.open();
  const stalled = await LineClient.connect(join(dir, 'admin.sock'));
  t.teardown(() => stalled.destroy());
  stalled.socket.pause();
  await until(() => sockets.stats().adminConnections === 1, 'connected');
  for (let i = 0; i < 400; i++) {
    bus.publish({ status: 'loading_model', phase: 'download', downloaded_bytes: i, total_bytes: null, source_url: 'https://x.invalid/' + 'm'.repeat(20_000) });
    await new Promise((resolve) => setImmediate(resolve));
  }
  bus.publish({ status: 'draining' });
  bus.close();
  await sockets.close(100); // resolves: the stalled connection is dropped after the grace period
  t.equal(sockets.stats().adminConnections, 0);
  t.same(readdirSync(dir), []);
});

t.test('a daemon whose HTTP port is taken releases the lock and admin.sock again', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const config = await testConfig({ port });
  const daemon = await Daemon.create(config, { log: pino({ level: 'silent' }) });
  await t.rejects(daemon.listen(), { code: 'EADDRINUSE' });
  await daemon.shutdown();
  t.same(readdirSync(config.runtime_dir!), [], 'no socket or lock is left behind');
});
