// Shutdown as the process does it: SIGTERM drains (in-flight work finishes, new work gets 503,
// admin streams get `draining` then EOF, exit 0), the drain timeout cancels what is left, and a
// second signal exits at once.
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame, ErrorFrame, V1Frame } from '../../src/protocol/v1.js';
import { isStatus, openAdminStream } from '../helpers/admin.js';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { postJson } from '../helpers/http.js';

const LONG = (tokens: number) => ({ id: 'long', messages: [{ role: 'user', content: 'count' }], grammar: 'root ::= [0-9]+', max_tokens: tokens });

/** Starts a streaming request and resolves once its first frame has arrived. */
async function startStream(url: string, body: unknown) {
  const res = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let text = '';
  let firstFrame!: () => void;
  const first = new Promise<void>((resolve) => {
    firstFrame = resolve;
  });
  const frames = (async () => {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('\n')) firstFrame();
    }
    return text.trim().split('\n').map((line) => JSON.parse(line) as V1Frame);
  })();
  await first;
  return { frames }; // wrapped: returning the promise itself would wait for the whole stream
}

async function waitReady(url: string) {
  const admin = await openAdminStream(url, 'ndjson');
  await admin.until(isStatus('ready'));
  return admin;
}

t.test('SIGTERM: the in-flight stream finishes, new requests get 503, admin sees draining then EOF, exit 0', async (t) => {
  const model = await demoModelPath('tiny');
  const daemon = await spawnDaemon(t, ['--model', model, '--threads', '1', '--queue-depth', '0']);
  const admin = await waitReady(daemon.url);
  const stream = await startStream(daemon.url, LONG(3000));
  daemon.child.kill('SIGTERM');
  await admin.until(isStatus('draining'));
  const refused = await postJson<ErrorFrame>(`${daemon.url}/infer`, { id: 'late', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(refused.status, 503, 'a new request during the drain is refused');
  t.equal(refused.body.code, 'backend_unavailable');
  t.equal(refused.body.id, 'late');
  const frames = await stream.frames;
  const done = frames.at(-1) as DoneFrame;
  t.equal(done.type, 'done', 'the in-flight request ended with done');
  t.equal(done.stop_reason, 'length', 'and ran to completion');
  t.equal(done.usage.completion_tokens, 3000);
  await admin.ended;
  t.equal(JSON.parse(admin.frames.at(-1)!).status, 'draining', 'the admin stream ended right after draining');
  t.equal(await daemon.exited, 0, 'exit code 0');
});

t.test('the drain timeout cancels what is still running', async (t) => {
  const { url, daemon } = await startDaemon(t, { drain_timeout_ms: 300, n_ctx: 8192 });
  const stream = await startStream(url, LONG(8000));
  const stopped = daemon.shutdown();
  const done = (await stream.frames).at(-1) as DoneFrame;
  t.equal(done.type, 'done');
  t.equal(done.stop_reason, 'cancelled', 'past the drain timeout the generation is cancelled');
  t.ok(done.usage.completion_tokens < 8000);
  await stopped;
  t.equal(daemon.lifecycle.state, 'stopped');
});

t.test('a second signal exits at once', async (t) => {
  const model = await demoModelPath('tiny');
  const daemon = await spawnDaemon(t, ['--model', model, '--threads', '1', '--drain-timeout-ms', '600000']);
  const admin = await waitReady(daemon.url);
  const stream = await startStream(daemon.url, LONG(8000));
  const cut = stream.frames.catch(() => []); // the process dies under this stream
  daemon.child.kill('SIGTERM');
  await admin.until(isStatus('draining'));
  daemon.child.kill('SIGTERM');
  t.equal(await daemon.exited, 143, 'exit 143 without waiting for the 10-minute drain');
  t.match(daemon.stderr(), /SIGTERM again, exiting now/);
  await cut;
});

t.test('a bring-up failure publishes failed, ends the streams and exits non-zero with the message', async (t) => {
  const { url, daemon } = await startDaemon(t, { model: { path: '/nonexistent/model.gguf' } }, { start: false });
  const admin = await openAdminStream(url, 'ndjson');
  await t.rejects(daemon.start(), /does not exist/);
  await admin.until(isStatus('failed'));
  const failed = JSON.parse(admin.frames.at(-1)!);
  t.match(failed, { status: 'failed', message: /model file \/nonexistent\/model\.gguf does not exist/ });
  t.notOk(admin.frames.some((f) => JSON.parse(f).status === 'ready'), 'never ready');
  await daemon.shutdown();
  await admin.ended;
  t.equal(JSON.parse(admin.frames.at(-1)!).status, 'failed', 'the stream ends at failed: no draining after a failed bring-up');

  const child = await spawnDaemon(t, ['--model', '/nonexistent/model.gguf']);
  t.equal(await child.exited, 1, 'the process exits 1');
  t.match(child.stderr(), /inferd: model bring-up failed: model file \/nonexistent\/model\.gguf does not exist/);
});
