// One log line per request on the Unix sockets too: an infer.sock request that completes, one
// whose client disconnects mid-generation (cancellation on disconnect), a decode error, and an
// admin.sock subscription. Lines are captured from the daemon's real pino logger.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { Daemon } from '../../src/daemon.js';
import { testConfig } from '../helpers/daemon.js';
import { LineClient, LONG, hi, line, until } from '../ipc/fixtures/unix-client.js';

/** A daemon whose pino logger writes its JSON lines into `lines`. */
async function daemonWithCapturedLog(): Promise<{ lines: Array<Record<string, unknown>>; daemon: Daemon }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, daemon: await Daemon.create(await testConfig(), { log: pino({ level: 'info' }, sink) }) };
}

t.test('infer.sock and admin.sock requests each get one log line', async (t) => {
  const { lines, daemon } = await daemonWithCapturedLog();
  t.teardown(() => daemon.shutdown());
  await daemon.listen();
  await daemon.start();
  const requests = () => lines.filter((l) => l['msg'] === 'request');
  const { infer, admin } = daemon.sockets!.endpoints;

  const ok = await LineClient.connect(infer);
  ok.write(line({ id: 'logged', messages: hi, max_tokens: 5, seed: 1 }));
  await ok.untilTerminal();
  await until(() => requests().some((l) => l['id'] === 'logged'), 'the line of the finished request');
  t.match(requests().find((l) => l['id'] === 'logged'), { transport: 'infer.sock', req_id: /^sock-\d+$/, outcome: /^(end|length)$/, prompt_tokens: Number, completion_tokens: Number, duration_ms: Number });

  const gone = await LineClient.connect(infer);
  gone.write(line({ id: 'gone', ...LONG, stream: false }));
  await until(() => daemon.gate.admission.stats().active === 1, 'generation runs');
  gone.destroy();
  await until(() => requests().some((l) => l['id'] === 'gone'), 'the line of the cancelled request');
  t.match(requests().find((l) => l['id'] === 'gone'), { transport: 'infer.sock', outcome: 'client_closed' }, 'cancellation on disconnect is logged');

  const bad = await LineClient.connect(infer);
  bad.write('{"__proto__":1}\n');
  await bad.untilTerminal();
  await until(() => requests().some((l) => l['outcome'] === 'invalid_request'), 'the line of the decode error');

  const sub = await LineClient.connect(admin);
  await sub.nextLine();
  sub.destroy();
  await until(() => requests().some((l) => l['transport'] === 'admin.sock'), 'the line of the admin subscription');
  t.match(requests().find((l) => l['transport'] === 'admin.sock'), { outcome: 'client_closed', req_id: /^admin-\d+$/ });

  t.equal(requests().filter((l) => l['id'] === 'logged').length, 1, 'exactly one line per request');
  t.equal(requests().filter((l) => l['id'] === 'gone').length, 1, 'exactly one line per cancelled request');
  t.notMatch(JSON.stringify(lines), /root ::=/, 'no request content in the log');
  [ok, bad].forEach((c) => c.destroy());
});

t.test('HTTP: a 503 readiness probe while loading is logged at info, a failed request at warn', async (t) => {
  const { lines, daemon } = await daemonWithCapturedLog();
  t.teardown(() => daemon.shutdown());
  await daemon.listen(); // not started: no model yet
  const base = `http://127.0.0.1:${daemon.port}`;
  t.equal((await fetch(`${base}/readyz`)).status, 503);
  const infer = await fetch(`${base}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: hi, max_tokens: 1, stream: false }) });
  t.equal(infer.status, 503);
  await infer.text();
  const lineOf = (path: string) => lines.find((l) => l['msg'] === 'request' && l['path'] === path);
  await until(() => lineOf('/readyz') !== undefined && lineOf('/infer') !== undefined, 'both request lines');
  t.match(lineOf('/readyz'), { level: 30, status: 503 }, 'the probe: info');
  t.match(lineOf('/infer'), { level: 40, status: 503 }, 'a request refused for want of a model: warn');
});
