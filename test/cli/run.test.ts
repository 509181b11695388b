// `inferd run` as a child process against a real daemon: one-shot, piped turns that keep the
// conversation, the API key header, and Ctrl-C in a real terminal (a pseudo-terminal from
// util-linux `script`) stopping the reply but not the program.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import t from 'tap';
import type { RequestRecord } from '../../src/metrics/metrics.js';
import { CLI } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { requireExecutable } from '../helpers/e2e.js';

const exec = promisify(execFile);
const env = { ...process.env, INFERD_CONFIG: '', INFERD_API_KEY: '' };

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(5)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
}

t.test('inferd run against one daemon', async (t) => {
  const { daemon, url } = await startDaemon(t);
  const records: RequestRecord[] = [];
  daemon.metrics.addRequestListener({ finished: (record) => records.push(record) });

  t.test('a prompt argument: one streamed reply, then exit 0', async (t) => {
    const before = records.length;
    const { stdout } = await exec(process.execPath, [CLI, 'run', 'hello there', '--url', url, '--max-tokens', '8', '--seed', '1'], { env });
    t.ok(stdout.trim().length > 0, 'the reply is printed');
    t.equal(records.length, before + 1, 'one request');
    t.match(records.at(-1), { route: 'infer', outcome: 'length', completionTokens: 8 });
  });

  // Known bug: with piped stdin no turn is sent yet (the readline loop ends at once); see the report.
  t.test('piped stdin: one turn per line, the conversation is kept', { todo: 'piped stdin sends no turn yet' }, async (t) => {
    const before = records.length;
    const child = spawn(process.execPath, [CLI, 'run', '--url', url, '--max-tokens', '6', '--seed', '2'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stdin.end('hello\nand then?\n');
    const [code] = (await once(child, 'exit')) as [number];
    t.equal(code, 0);
    t.equal(stdout.split('\n').filter(Boolean).length, 2, 'two replies, one line each');
    const [first, second] = records.slice(before);
    t.ok(first && second, 'two requests');
    // The second request carries the first question and answer, so its prompt is longer.
    t.ok(second!.promptTokens > first!.promptTokens + 6, `second prompt (${second!.promptTokens} tokens) holds the first turn (${first!.promptTokens} + 6)`);
  });

  t.test('the API key goes out as a bearer token; an error answer exits 1', async (t) => {
    let authorization: string | undefined;
    const server = createServer((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', id: '', code: 'unauthorized', message: 'missing or wrong API key' }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.teardown(() => server.close());
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fromEnv = await exec(process.execPath, [CLI, 'run', 'hi', '--url', target], { env: { ...env, INFERD_API_KEY: 'k-env' } }).catch((e: { code: number; stderr: string }) => e);
    t.equal(authorization, 'Bearer k-env', 'INFERD_API_KEY');
    t.match(fromEnv, { code: 1, stderr: /unauthorized: missing or wrong API key/ });
    await exec(process.execPath, [CLI, 'run', 'hi', '--url', target, '--api-key', 'k-flag'], { env: { ...env, INFERD_API_KEY: 'k-env' } }).catch(() => undefined);
    t.equal(authorization, 'Bearer k-flag', '--api-key wins');
    const nobody = await exec(process.execPath, [CLI, 'run', 'hi', '--url', 'http://127.0.0.1:1'], { env }).catch((e: { code: number; stderr: string }) => e);
    t.match(nobody, { code: 2, stderr: /no inferd answers at http:\/\/127\.0\.0\.1:1/ });
  });

  const script = requireExecutable('script', 'apt-get install -y util-linux');
  t.test('in a terminal, Ctrl-C stops the reply, the chat goes on, Ctrl-C at an empty prompt leaves', { skip: script.skip }, async (t) => {
    const admission = daemon.gate.admission;
    const before = records.length;
    // Digits only, up to 2000 tokens: a reply long enough to interrupt.
    const command = [process.execPath, CLI, 'run', '--url', url, '--max-tokens', '2000', '--grammar', "'root ::= [0-9]+'"].join(' ');
    const child = spawn(script.path!, ['-qfec', command, '/dev/null'], { env: { ...env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await until(() => screen.includes('>>> '), 'the prompt shows');
    child.stdin.write('count for me\r');
    await until(() => admission.active === 1 && /\d{20}/.test(screen), 'the reply streams');
    child.stdin.write('\x03');
    await until(() => records.length === before + 1, 'the request ends');
    t.equal(records.at(-1)!.outcome, 'cancelled', 'the reply was stopped, not finished');
    await until(() => screen.includes('(stopped)'), 'the chat says so');
    t.equal(child.exitCode, null, 'the program is still running');

    const shown = screen.length;
    child.stdin.write('and again\r');
    await until(() => records.length === before + 2, 'the second reply ends');
    t.match(records.at(-1), { outcome: 'length', completionTokens: 2000 }, 'a full second reply');
    await until(() => screen.slice(shown).includes('>>> '), 'the prompt is back');
    child.stdin.write('\x03'); // at an empty prompt: leave
    const [code] = await exited;
    // Known issue: under `script` the exit code after Ctrl-C at the empty prompt was 1, not 0.
    t.equal(code, 0, 'exit 0', { todo: 'exit code after Ctrl-C at an empty prompt under script(1) is 1; not yet understood' });
  });
});
