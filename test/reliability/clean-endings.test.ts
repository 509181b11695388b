// Every stream ends well-formed when the daemon stops: curl exits 0 (no "transfer closed with
// outstanding read data", exit 18) and undici reads every body to its end (no UND_ERR_SOCKET),
// for /infer, /v1/chat/completions, /api/chat and /admin/status, across a SIGTERM of a real child daemon.
// The admin stream carries `draining` before its end. The same run checks the per-request log
// line: one JSON line per request with transport, ids, outcome, status, duration and client.
import { spawn } from 'node:child_process';
import t from 'tap';
import { request } from 'undici';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { requireExecutable } from '../helpers/e2e.js';

const LONG = { messages: [{ role: 'user', content: 'hi' }], grammar: 'root ::= [0-9]+', max_tokens: 4000 };
// /v1 and /api ignore `grammar`; a schema that needs hundreds of tokens keeps their streams busy
// until the drain deadline cuts them (the demo model would otherwise end on its own first).
const MANY = { type: 'array', items: { type: 'integer' }, minItems: 600 };
const CHAT_LONG = { model: 'x', stream: true, messages: LONG.messages, max_tokens: 4000, response_format: { type: 'json_schema', json_schema: { name: 'n', schema: MANY } } };
const OLLAMA_LONG = { model: 'x', stream: true, messages: LONG.messages, format: MANY, options: { num_predict: 4000 } };
/** A cut stream must not look finished: an error event last, never `finish_reason:"stop"` + `[DONE]`. */
const CHAT_CUT = /data: \{"error":\{[^\n]*"code":"backend_unavailable"[^\n]*\}\s*$/;

interface CurlRun {
  code: Promise<number>;
  output(): string;
  started: Promise<void>;
}

function curl(args: string[]): CurlRun {
  const child = spawn(curlBin.path ?? 'curl', ['-sS', '-N', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let started!: () => void;
  const startedP = new Promise<void>((resolve) => (started = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    started();
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return { code: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))), output: () => out, started: startedP };
}

const curlBin = requireExecutable('curl');

t.test('streams end cleanly across SIGTERM, and each request gets one log line', { skip: curlBin.skip }, async (t) => {
  // Five streams at once (2 /infer, 2 /v1, 1 /api): each needs a slot, or one would wait in the
  // queue until the others end and SIGTERM would come too late to cut anything.
  const d = await spawnDaemon(t, ['--parallel', '5', '--drain-timeout-ms', '300', '--log-format', 'json']);
  // Wait for ready, so inference is admitted.
  for (;;) {
    const res = await request(`${d.url}/readyz`);
    await res.body.dump();
    if (res.statusCode === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const post = (path: string, body: object) => ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body), `${d.url}${path}`];
  const curls = {
    infer: curl(post('/infer', { id: 'curl-infer', ...LONG })),
    chat: curl(post('/v1/chat/completions', CHAT_LONG)),
    ollama: curl(post('/api/chat', OLLAMA_LONG)),
    status: curl(['-H', 'accept: text/event-stream', `${d.url}/admin/status`]),
  };
  const undiciBody = async (path: string, init: Parameters<typeof request>[1]) => {
    const res = await request(`${d.url}${path}`, init);
    const chunks: Buffer[] = [];
    const first = new Promise<void>((resolve) => res.body.once('data', () => resolve()));
    const whole = (async () => {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    })();
    whole.catch(() => undefined);
    await first;
    return { whole };
  };
  const json = { method: 'POST' as const, headers: { 'content-type': 'application/json' } };
  const bodies = {
    infer: undiciBody('/infer', { ...json, body: JSON.stringify({ id: 'undici-infer', ...LONG }) }),
    chat: undiciBody('/v1/chat/completions', { ...json, body: JSON.stringify(CHAT_LONG) }),
    status: undiciBody('/admin/status', {}),
  };
  const started = await Promise.all([bodies.infer, bodies.chat, bodies.status]);
  await Promise.all([curls.infer.started, curls.chat.started, curls.ollama.started, curls.status.started]);
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0, 'the daemon exits 0');

  for (const [name, run] of Object.entries(curls)) t.equal(await run.code, 0, `curl ${name}: exit 0 (${run.output().slice(-120)})`);
  t.match(curls.infer.output().trim().split('\n').at(-1), /"type":"done".*"stop_reason":"cancelled"|"type":"error"/, 'curl /infer: a terminal frame last');
  t.match(curls.status.output(), /"status":"draining"/, 'curl /admin/status: draining came before the end');
  // The drain cut is visible in every family: /infer says stop_reason "cancelled" (above), /v1
  // ends with an OpenAI error event and no [DONE] (the SDKs raise APIError on it), /api ends with
  // Ollama's {"error"} line and no done:true.
  t.match(curls.chat.output(), CHAT_CUT, 'curl /v1/chat/completions: an error event last');
  t.notMatch(curls.chat.output(), /"finish_reason":"stop"|\[DONE\]/, 'curl /v1/chat/completions: no "stop", no [DONE]');
  const ollamaLast = curls.ollama.output().trim().split('\n').at(-1) ?? '';
  t.match(ollamaLast, /^\{"error":"[^"]*drain/, 'curl /api/chat: an error line last');
  t.notMatch(curls.ollama.output(), /"done":true/, 'curl /api/chat: no done:true');

  const names = ['infer', 'chat', 'status'];
  for (const [i, { whole }] of started.entries()) {
    const name = names[i];
    const text = await whole.catch((err: Error & { code?: string }) => `FAILED ${err.code ?? ''} ${err.message}`);
    t.notMatch(text, /^FAILED/, `undici ${name}: the body ended cleanly (${text.slice(0, 80)})`);
  }
  t.match(await started[2]!.whole, /"status":"draining"/, 'undici /admin/status: draining');
  t.match(await started[1]!.whole, CHAT_CUT, 'undici /v1/chat/completions: an error event last');

  // The log: one `request` line per HTTP request, with the fields operators need.
  const lines = d
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['msg'] === 'request');
  const infer = lines.filter((l) => l['path'] === '/infer');
  t.equal(infer.length, 2, 'one line per /infer request');
  for (const l of infer) {
    t.match(l, { transport: 'http', method: 'POST', status: 200, client: '127.0.0.1', req_id: String, duration_ms: Number }, 'request line fields');
    t.ok(['curl-infer', 'undici-infer'].includes(l['id'] as string), 'the client id is logged');
  }
  t.equal(lines.filter((l) => l['path'] === '/admin/status').length, 2, 'one line per admin subscription');
  t.equal(lines.filter((l) => l['path'] === '/v1/chat/completions').length, 2, 'one line per chat request');
  t.notMatch(d.stderr(), /root ::= \[0-9\]\+/, 'no request body in the log');
});
