// The soak's clients: the mix of requests it keeps running against one daemon, and how each
// checks that its stream ended with a terminal frame. bench/soak.ts drives them.
import { connect } from 'node:net';
import { request } from 'undici';

export interface SoakCounts {
  ok: number;
  refused: number;
  cut: number;
  missingTerminal: number;
  errors: number;
}

export interface SoakTarget {
  url: string;
  /** infer.sock; absent while the daemon reloads. */
  socketPath: string;
  counts: SoakCounts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messages = [{ role: 'user', content: 'tell me about the admin stream' }];
const json = { 'content-type': 'application/json' };
const v1Terminal = (last: string) => /^(data: )?\{"type":"(done|error)"/.test(last);
const openAiTerminal = (last: string) => last === 'data: [DONE]' || last.startsWith('data: {"error"');
const ollamaTerminal = (last: string) => /"done":true/.test(last) || last.startsWith('{"error"');

/** Streams one request; `mode` decides how the client reads. Checks the terminal frame. */
async function streamed(
  t: SoakTarget,
  path: string,
  body: object,
  terminal: (last: string) => boolean,
  mode: 'normal' | 'slow' | 'cut',
  accept?: string,
): Promise<void> {
  const ac = new AbortController();
  const res = await request(`${t.url}${path}`, { method: 'POST', headers: { ...json, ...(accept ? { accept } : {}) }, body: JSON.stringify(body), signal: ac.signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    t.counts.refused++;
    return;
  }
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (mode === 'cut' && text.length > 40) {
        ac.abort();
        t.counts.cut++;
        return;
      }
      if (mode === 'slow') await sleep(20);
    }
  } catch (err) {
    if (mode === 'cut') return;
    throw err;
  }
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  if (terminal(lines.at(-1) ?? '')) t.counts.ok++;
  else t.counts.missingTerminal++;
}

async function socketRequest(t: SoakTarget, cut: boolean): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = connect(t.socketPath);
    let text = '';
    socket.on('error', () => {
      t.counts.refused++; // infer.sock is absent while reloading
      resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (cut && text.length > 40) {
        t.counts.cut++;
        socket.destroy();
        resolve();
        return;
      }
      const last = text.endsWith('\n') ? text.trim().split('\n').at(-1)! : '';
      if (/"type":"(done|error)"/.test(last)) {
        t.counts.ok++;
        socket.destroy();
        resolve();
      }
    });
    socket.on('end', () => {
      if (!/"type":"(done|error)"/.test(text.trim().split('\n').at(-1) ?? '')) t.counts.missingTerminal++;
      resolve();
    });
    socket.write(`${JSON.stringify({ id: 'soak', messages, max_tokens: 64 })}\n`);
  });
}

async function plain(t: SoakTarget, path: string, body: object): Promise<void> {
  const res = await request(`${t.url}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  await res.body.dump();
  if (res.statusCode === 200) t.counts.ok++;
  else t.counts.refused++;
}

/** One round of the mix: every API, streaming and not, normal, slow and cut-off readers. */
export const soakJobs: ReadonlyArray<(t: SoakTarget) => Promise<void>> = [
  (t) => streamed(t, '/infer', { messages, max_tokens: 64 }, v1Terminal, 'normal'),
  (t) => streamed(t, '/infer', { messages, max_tokens: 64 }, v1Terminal, 'normal', 'text/event-stream'),
  (t) => streamed(t, '/infer', { messages, max_tokens: 64 }, v1Terminal, 'slow'),
  (t) => streamed(t, '/infer', { messages, max_tokens: 200 }, v1Terminal, 'cut'),
  (t) => streamed(t, '/v1/chat/completions', { model: 'x', messages, max_tokens: 64, stream: true }, openAiTerminal, 'normal'),
  (t) => streamed(t, '/v1/chat/completions', { model: 'x', messages, max_tokens: 200, stream: true }, openAiTerminal, 'cut'),
  (t) => streamed(t, '/v1/completions', { model: 'x', prompt: 'the daemon', max_tokens: 64, stream: true }, openAiTerminal, 'slow'),
  (t) => plain(t, '/infer', { messages, max_tokens: 32, stream: false }),
  (t) => plain(t, '/v1/chat/completions', { model: 'x', messages, max_tokens: 32 }),
  (t) => plain(t, '/v1/embeddings', { model: 'x', input: 'hello there' }),
  (t) => streamed(t, '/api/chat', { model: 'x', messages, options: { num_predict: 64 } }, ollamaTerminal, 'normal'),
  (t) => streamed(t, '/api/generate', { model: 'x', prompt: 'the daemon', options: { num_predict: 200 } }, ollamaTerminal, 'cut'),
  (t) => plain(t, '/api/generate', { model: 'x', prompt: 'the daemon', stream: false, options: { num_predict: 32 } }),
  (t) => plain(t, '/api/embed', { model: 'x', input: 'hello there' }),
  (t) => socketRequest(t, false),
  (t) => socketRequest(t, true),
];

/** Admin subscribers that come and go: each stays 0.5–3 s. */
export async function subscriberLoop(t: SoakTarget, until: () => boolean): Promise<void> {
  while (!until()) {
    const ac = new AbortController();
    const res = await request(`${t.url}/admin/status`, { headers: { accept: 'text/event-stream' }, signal: ac.signal }).catch(() => null);
    setTimeout(() => ac.abort(), 500 + Math.random() * 2500);
    if (res) await res.body.dump().catch(() => undefined);
  }
}
