// The playground: streams a reply from POST infer (NDJSON frames through a ReadableStream
// reader), or from v1/chat/completions (SSE chunks) when a JSON schema constrains the output.
import { authHeaders } from './streams.js';
import { ms } from './format.js';

const $ = (id) => document.getElementById(id);

export function setupPlayground({ announce, onNeedKey }) {
  const form = $('play-form');
  const send = $('send');
  const stop = $('stop');
  const reply = $('reply');
  const stats = $('play-stats');
  let controller = null;

  stop.addEventListener('click', () => controller?.abort());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (controller) return;
    const prompt = $('prompt').value.trim();
    if (!prompt) return;
    const maxTokens = Number($('max-tokens').value) || 128;
    const temperature = Math.max(0, Number($('temperature').value) || 0);
    const schemaText = $('schema').value.trim();
    let schema = null;
    if (schemaText) {
      try { schema = JSON.parse(schemaText); } catch {
        stats.textContent = 'The JSON schema is not valid JSON.';
        return;
      }
    }
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    reply.textContent = '';
    stats.textContent = 'Waiting for the first token…';
    const run = { started: performance.now(), first: 0, pieces: 0, ended: 0 };
    const onText = (text) => {
      if (!run.first) run.first = performance.now();
      run.pieces += 1;
      reply.append(text);
    };
    let outcome;
    try {
      outcome = schema
        ? await streamChat({ prompt, maxTokens, temperature }, schema, controller.signal, onText)
        : await streamInfer({ prompt, maxTokens, temperature }, controller.signal, onText);
    } catch (err) {
      outcome = controller.signal.aborted ? { stopped: true } : { error: err instanceof HttpError ? err.message : 'The connection to the daemon failed.' };
      if (err instanceof HttpError && err.status === 401) onNeedKey(err.message);
    }
    run.ended = performance.now();
    controller = null;
    send.disabled = false;
    stop.disabled = true;
    const parts = [];
    if (run.first) parts.push(`TTFT ${ms(run.first - run.started)}`);
    const tokens = outcome.tokens ?? run.pieces;
    const genSeconds = run.first ? (run.ended - run.first) / 1000 : 0;
    if (tokens && genSeconds > 0) parts.push(`${(tokens / genSeconds).toFixed(1)} tokens/s`);
    if (outcome.tokens != null) parts.push(`${outcome.tokens} tokens`);
    if (outcome.stopped) parts.push('stopped');
    else if (outcome.reason) parts.push(`ended: ${outcome.reason}`);
    if (outcome.error) {
      const line = document.createElement('span');
      line.className = 'err';
      line.textContent = `\n${outcome.error}`;
      reply.append(line);
    }
    stats.textContent = parts.join(' · ');
    announce(outcome.stopped ? 'Reply stopped' : outcome.error ? 'Reply failed' : 'Reply finished');
  });
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function post(path, body, accept, signal) {
  const res = await fetch(path, {
    method: 'POST',
    headers: authHeaders({ 'content-type': 'application/json', accept }),
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const err = await res.json();
      message = err.message ?? err.error?.message ?? message;
    } catch { /* not JSON: keep the status */ }
    throw new HttpError(res.status, message);
  }
  return res;
}

/** Calls `onLine` for each complete line of the body. */
async function readLines(res, onLine) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() && onLine(line) === false) return;
    }
  }
  if (buffer.trim()) onLine(buffer);
}

async function streamInfer({ prompt, maxTokens, temperature }, signal, onText) {
  const id = `dash-${Date.now().toString(36)}`;
  const res = await post('infer', { id, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature, stream: true }, 'application/x-ndjson', signal);
  let outcome = { error: 'The reply ended without a final frame.' };
  await readLines(res, (line) => {
    const frame = JSON.parse(line);
    if (frame.type === 'token') onText(frame.content);
    else if (frame.type === 'done') outcome = { reason: frame.stop_reason, tokens: frame.usage?.completion_tokens };
    else if (frame.type === 'error') outcome = { error: frame.message };
  });
  return outcome;
}

async function streamChat({ prompt, maxTokens, temperature }, schema, signal, onText) {
  const body = {
    model: 'default',
    messages: [{ role: 'user', content: prompt }],
    max_tokens: maxTokens,
    temperature,
    stream: true,
    stream_options: { include_usage: true },
    response_format: { type: 'json_schema', json_schema: { name: 'playground', schema } },
  };
  const res = await post('v1/chat/completions', body, 'text/event-stream', signal);
  let outcome = { error: 'The reply ended without a final chunk.' };
  let reason = null;
  let tokens;
  await readLines(res, (line) => {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (data === '[DONE]') { outcome = { reason: reason ?? 'stop', tokens }; return false; }
    const chunk = JSON.parse(data);
    if (chunk.error) { outcome = { error: chunk.error.message }; return false; }
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) onText(choice.delta.content);
    if (choice?.finish_reason) reason = choice.finish_reason;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  });
  return outcome;
}
