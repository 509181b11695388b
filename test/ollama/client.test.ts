// The official `ollama` client pointed at inferd: only `host` differs from a script written for
// Ollama. One daemon serves every subtest; its model comes from the store (downloaded at start
// from a local HTTPS server), so pull, list and delete see a real store.
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { ggufLikePayload, sha256Hex, startHttpsServer } from '../helpers/https-server.js';
import { slotsFree } from '../openai/fixtures/openai-client.js';

const hello = [{ role: 'user', content: 'How does inferd load a model?' }];

t.test('the official ollama client against inferd', async (t) => {
  const demo = await readFile(await demoModelPath('tiny'));
  const other = ggufLikePayload(3 * 1024 * 1024 + 17, 7);
  // A real GGUF other than the loaded one, for a pull by URL without a digest (it must pass the GGUF check).
  const unpinned = await readFile(await demoModelPath('default'));
  const notGguf = Buffer.from('<!doctype html><title>Sign in</title><p>This is a login page, not a model.</p>\n'.repeat(2000));
  const server = await startHttpsServer({
    '/demo.gguf': { kind: 'file', body: demo },
    // Paced, so the client sees several progress lines.
    '/other.gguf': { kind: 'file', body: other, throttle: { chunkBytes: 512 * 1024, delayMs: 20 } },
    '/Unpinned-Q4.gguf': { kind: 'file', body: unpinned, throttle: { chunkBytes: 1024 * 1024, delayMs: 10 } },
    '/login-page.gguf': { kind: 'file', body: notGguf },
  });
  t.teardown(() => server.close());
  const dir = await mkdtemp(join(tmpdir(), 'inferd-ollama-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const demoSha = sha256Hex(demo);
  const model = { name: 'demo', sha256: demoSha, source_url: server.url('/demo.gguf') };
  const { url, daemon, config } = await startDaemon(t, { model, ca_file: await server.writeCaFile(dir), pull_allow_private: true, parallel: 1, queue_depth: 0 });
  const ollama = new Ollama({ host: url });
  const served = (await ollama.ps()).models[0]!.name;

  t.test('version, ps, show and list', async (t) => {
    t.match((await ollama.version()).version, /^\d+\.\d+\.\d+/);
    const ps = await ollama.ps();
    t.equal(ps.models.length, 1, 'one running model');
    t.equal(ps.models[0]!.digest, demoSha, 'ps names the store blob');
    t.ok(ps.models[0]!.size > 0);
    const show = await ollama.show({ model: served });
    t.ok(show.capabilities.includes('completion'));
    t.ok(show.capabilities.includes('embedding'));
    t.notOk(show.capabilities.includes('tools'), 'the demo ChatML template has no function calling');
    t.equal(show.details.format, 'gguf');
    const list = await ollama.list();
    t.same(list.models.map((m) => m.digest), [demoSha], 'the store holds the loaded model only');
    t.equal(list.models[0]!.name, served, 'listed under the name the API serves it as');
  });

  t.test('chat, not streamed', async (t) => {
    const answer = await ollama.chat({ model: served, messages: hello, options: { num_predict: 8, temperature: 0 } });
    t.equal(answer.message.role, 'assistant');
    t.ok(answer.message.content.length > 0, 'some text');
    t.equal(answer.done, true);
    t.equal(answer.done_reason, 'length', 'num_predict ended it');
    t.equal(answer.eval_count, 8);
    t.ok(answer.prompt_eval_count > 0);
    for (const field of ['total_duration', 'prompt_eval_duration', 'eval_duration'] as const) t.ok(answer[field] > 0, `${field} in ns`);
    t.ok(answer.total_duration >= answer.prompt_eval_duration + answer.eval_duration, 'total covers both phases');
  });

  t.test('chat, streamed: pieces of text, then done with the counts', async (t) => {
    const parts = [];
    for await (const part of await ollama.chat({ model: served, messages: hello, stream: true, options: { num_predict: 6, seed: 3 } })) parts.push(part);
    const last = parts.at(-1)!;
    t.ok(parts.length >= 2, 'several lines');
    t.ok(parts.slice(0, -1).every((p) => p.done === false && p.message.content !== ''), 'text lines are not done');
    t.equal(last.done, true);
    t.equal(last.done_reason, 'length');
    t.equal(last.eval_count, 6);
    const streamed = parts.map((p) => p.message.content).join('');
    const whole = await ollama.chat({ model: served, messages: hello, options: { num_predict: 6, seed: 3 } });
    t.equal(streamed, whole.message.content, 'same seed: the stream joins to the same text');
  });

  t.test('chat with format json is JSON', async (t) => {
    const answer = await ollama.chat({ model: served, messages: hello, format: 'json', options: { num_predict: 200, temperature: 0.7, seed: 1 } });
    if (answer.done_reason === 'stop') t.type(JSON.parse(answer.message.content), 'object');
    else t.match(answer.message.content, /^\s*\{/, 'cut by num_predict, but JSON from the first character');
  });

  t.test('generate, streamed and not', async (t) => {
    // Greedy: a sampled reply may pick the end token before num_predict, and these check the count.
    const answer = await ollama.generate({ model: served, prompt: 'The daemon', options: { num_predict: 5, temperature: 0, stop: ['zzz'] } });
    t.ok((answer.response ?? '').length > 0);
    t.equal(answer.done, true);
    t.equal(answer.eval_count, 5);
    const raw = await ollama.generate({ model: served, prompt: 'The daemon', raw: true, options: { num_predict: 3, temperature: 0 } });
    t.equal(raw.eval_count, 3, 'raw prompts work too');
    let text = '';
    let last;
    for await (const part of await ollama.generate({ model: served, prompt: 'The daemon', stream: true, options: { num_predict: 5, temperature: 0 } })) {
      text += part.response;
      last = part;
    }
    t.ok(text.length > 0);
    t.equal(last?.done, true);
    t.equal(last?.eval_count, 5);
    const load = await ollama.generate({ model: served, prompt: '' });
    t.equal(load.done_reason, 'load', 'an empty prompt only "loads" the model');
  });

  t.test('embed and the legacy embeddings', async (t) => {
    const embed = await ollama.embed({ model: served, input: ['first text', 'second text'] });
    t.equal(embed.embeddings.length, 2);
    const norm = Math.hypot(...embed.embeddings[0]!);
    t.ok(Math.abs(norm - 1) < 1e-6, 'unit length, as Ollama returns them');
    t.ok(embed.prompt_eval_count > 0);
    const legacy = await ollama.embeddings({ model: served, prompt: 'first text' });
    t.equal(legacy.embedding.length, embed.embeddings[0]!.length);
    const scaled = Math.hypot(...legacy.embedding);
    const worst = Math.max(...legacy.embedding.map((x, i) => Math.abs(x / scaled - embed.embeddings[0]![i]!)));
    t.ok(worst < 1e-4, `the same vector before normalisation (max difference ${worst})`);
  });

  t.test('pull a URL with progress, verify it by name, delete it', async (t) => {
    const sha = sha256Hex(other);
    const lines = [];
    const stream = await ollama.pull({ model: `${server.url('/other.gguf')}#sha256=${sha}`, stream: true });
    for await (const line of stream) lines.push(line);
    const statuses = lines.map((l) => l.status);
    t.equal(statuses[0], 'pulling manifest');
    const progress = lines.filter((l) => l.status === `pulling ${sha.slice(0, 12)}`);
    t.ok(progress.length >= 3, `several progress lines (${progress.length})`);
    t.ok(progress.every((l) => l.digest === `sha256:${sha}` && l.total === other.length), 'digest and total on each');
    t.ok(progress.every((l, i) => i === 0 || l.completed >= progress[i - 1]!.completed), 'completed grows');
    t.equal(progress.at(-1)!.completed, other.length, 'to the whole file');
    t.same(statuses.slice(-2), ['verifying sha256 digest', 'success']);
    t.ok((await ollama.list()).models.some((m) => m.name === 'other' && m.digest === sha && m.size === other.length), 'listed');

    const again = await ollama.pull({ model: 'other', stream: true });
    const verify = [];
    for await (const line of again) verify.push(line.status);
    t.same(verify, ['pulling manifest', 'verifying sha256 digest', 'success'], 'a pull by name re-hashes the copy');
    t.equal(server.log.filter((e) => e.path === '/other.gguf').length, 1, 'without downloading it again');

    await ollama.delete({ model: 'other' });
    t.notOk((await ollama.list()).models.some((m) => m.name === 'other'), 'gone from the list');
    const loaded = await ollama.delete({ model: 'demo' }).catch((e: unknown) => e);
    t.match(loaded, { name: 'ResponseError', status_code: 409 }, 'the loaded model is not deleted');
  });

  t.test('pull a URL without sha256: hashed on arrival, GGUF-checked, the digest recorded', async (t) => {
    const sha = sha256Hex(unpinned);
    const lines = [];
    for await (const line of await ollama.pull({ model: server.url('/Unpinned-Q4.gguf'), stream: true })) lines.push(line);
    const statuses = lines.map((l) => l.status);
    t.equal(statuses[0], 'pulling manifest');
    const progress = lines.filter((l) => l.status === 'pulling unpinned-q4');
    t.ok(progress.length >= 3, `several progress lines (${progress.length})`);
    t.ok(progress.every((l) => l.total === unpinned.length), 'total on each');
    t.ok(progress.every((l, i) => i === 0 || l.completed >= progress[i - 1]!.completed), 'completed grows');
    t.equal(progress.at(-1)!.completed, unpinned.length, 'to the whole file');
    t.same(statuses.slice(-2), ['verifying sha256 digest', 'success']);
    t.equal(lines.at(-1)!.digest, `sha256:${sha}`, 'success names the computed digest');

    const entry = (await ollama.list()).models.find((m) => m.name === 'unpinned-q4');
    t.equal(entry?.digest, sha, 'the store entry records the sha256 of the served file');
    t.equal(entry?.size, unpinned.length);
    const manifest = JSON.parse(await readFile(join(config.models_home, 'manifests', 'unpinned-q4.json'), 'utf8')) as { blob: string };
    t.equal(manifest.blob, `sha256:${sha}`, 'the manifest names it');
    const blob = await readFile(join(config.models_home, 'blobs', 'sha256', sha.slice(0, 2), sha, 'data'));
    t.equal(sha256Hex(blob), sha, 'and the blob on disk has that digest');
    t.notOk((await readdir(join(config.models_home, 'blobs', 'sha256'))).some((e) => e.startsWith('.pull-')), 'no partial is left');

    const again = [];
    for await (const line of await ollama.pull({ model: 'unpinned-q4', stream: true })) again.push(line.status);
    t.same(again, ['pulling manifest', 'verifying sha256 digest', 'success'], 'a pull by name checks the recorded digest');
    t.equal(server.log.filter((e) => e.path === '/Unpinned-Q4.gguf').length, 1, 'without downloading it again');
    await ollama.delete({ model: 'unpinned-q4' });
  });

  t.test('a URL without sha256 that is not a GGUF: an error, nothing enters the store', async (t) => {
    const before = await readdir(join(config.models_home, 'blobs', 'sha256'));
    const streamed = await (async () => {
      for await (const _line of await ollama.pull({ model: server.url('/login-page.gguf'), stream: true }));
    })().catch((e: unknown) => e);
    t.match(streamed, { message: /https:\/\/127\.0\.0\.1:\d+\/login-page\.gguf is not a valid GGUF model: it does not start with the GGUF magic bytes.*quarantined/ }, 'the stream ends with the error');
    const whole = await ollama.pull({ model: server.url('/login-page.gguf'), stream: false }).catch((e: unknown) => e);
    t.match(whole, { name: 'ResponseError', status_code: 422, error: /not a valid GGUF model/ }, 'not streamed: model_invalid before any line');
    t.notOk((await ollama.list()).models.some((m) => m.name === 'login-page'), 'not listed');
    t.same(await readdir(join(config.models_home, 'blobs', 'sha256')), before, 'no blob and no partial');
    await t.rejects(readFile(join(config.models_home, 'manifests', 'login-page.json')), { code: 'ENOENT' }, 'no manifest');
    const quarantined = await readdir(join(config.models_home, 'locks', 'quarantine'));
    const refused = quarantined.filter((f) => f.includes(`refused-${sha256Hex(notGguf).slice(0, 12)}`));
    t.equal(refused.length, 2, 'both downloads were quarantined');
    t.same(await readFile(join(config.models_home, 'locks', 'quarantine', refused[0]!)), notGguf, 'with the bytes that arrived');
  });

  t.test('aborting a stream frees the slot', async (t) => {
    const cancelled = async () =>
      Number((await daemon.metrics.render()).match(/inferd_requests_total\{route="ollama_chat",outcome="cancelled"\} (\d+)/)?.[1] ?? '0');
    const before = await cancelled();
    const stream = await ollama.chat({ model: served, messages: hello, stream: true, options: { temperature: 0, num_predict: 4000 } });
    let parts = 0;
    const ended = (async () => {
      for await (const _part of stream) if (++parts === 3) stream.abort();
    })().catch((e: unknown) => e);
    t.match(await ended, { name: 'AbortError' }, 'the client reports its abort');
    t.ok(parts >= 3, 'it was generating when aborted');
    await slotsFree(daemon);
    for (let poll = 0; poll < 500 && (await cancelled()) !== before + 1; poll++) await new Promise((resolve) => setTimeout(resolve, 10));
    t.equal(await cancelled(), before + 1, 'the cancellation is counted');
    const next = await ollama.generate({ model: served, prompt: 'The daemon', options: { num_predict: 2, temperature: 0 } });
    t.equal(next.eval_count, 2, 'the next request is served with queue_depth 0');
  });
});
