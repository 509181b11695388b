// `inferd status` with two --url values against two real daemons: one plain line per row change
// on a non-TTY, a reload shows up on its row, SIGINT ends it with exit 0.
import { spawn } from 'node:child_process';
import t from 'tap';
import { request } from 'undici';
import { CLI } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';

t.test('status follows two daemons, one row each', async (t) => {
  const [a, b] = await Promise.all([startDaemon(t), startDaemon(t)]);
  const child = spawn(process.execPath, [CLI, 'status', '--url', a.url, '--url', b.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => (re.test(out) ? resolve() : undefined);
      child.stdout.on('data', (c: Buffer) => ((out += c.toString('utf8')), check()));
      check();
    });
  const row = (url: string, rest: string) => new RegExp(`^${url.replace(/[.]/g, '\\.')}\\s+${rest}`, 'm');
  await waitFor(row(a.url, 'ready\\s+inferd-demo-tiny\\s+slots 0/1\\s+queue 0/10'));
  await waitFor(row(b.url, 'ready\\s+inferd-demo-tiny\\s+slots 0/1\\s+queue 0/10'));
  t.pass('both daemons show ready with model, slots and queue');
  t.equal((await request(`${b.url}/admin/reload`, { method: 'POST' })).statusCode, 200);
  await waitFor(row(b.url, 'restarting'));
  t.pass('the reload shows on the second row');
  t.notMatch(out, /\x1b\[/, 'no terminal control codes on a non-TTY');
  child.kill('SIGINT');
  t.equal(await exited, 0, 'SIGINT ends the fleet view with exit 0');
});
