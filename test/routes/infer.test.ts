// POST /infer against a real daemon and the real engine with the tiny demo model.
import { EventSource } from 'eventsource';
import t from 'tap';
import { request } from 'undici';
import type { DoneFrame, ErrorFrame, V1Frame } from '../../src/protocol/v1.js';
import { startDaemon } from '../helpers/daemon.js';
import { inferNdjson, postJson } from '../helpers/http.js';

const hello = [{ role: 'user', content: 'How does inferd load a model?' }];

function split(frames: V1Frame[]) {
  const tokens = frames.filter((f) => f.type === 'token');
  const terminal = frames.filter((f) => f.type !== 'token');
  return { tokens, terminal, done: terminal[0] as DoneFrame };
}

t.test('POST /infer', async (t) => {
  const { url, daemon } = await startDaemon(t, { parallel: 1, queue_depth: 4 });

  t.test('streams token frames as NDJSON that add up to done.content', async (t) => {
    const res = await inferNdjson(url, { id: 'a', messages: hello, seed: 1, max_tokens: 200 });
    t.equal(res.status, 200);
    t.match(res.contentType, /^application\/x-ndjson/);
    const { tokens, terminal, done } = split(res.frames);
    t.equal(terminal.length, 1, 'exactly one terminal frame');
    t.equal(res.frames.at(-1), done, 'the terminal frame is last');
    t.equal(done.type, 'done');
    t.ok(tokens.length > 0, 'some tokens were streamed');
    t.equal(tokens.map((f) => f.content).join(''), done.content, 'token contents concatenate to done.content');
    t.ok(res.frames.every((f) => f.id === 'a'), 'every frame echoes the id');
    t.equal(done.backend, 'llamacpp');
    t.ok(['end', 'length'].includes(done.stop_reason));
  });

  t.test('usage agrees with the frames', async (t) => {
    const res = await inferNdjson(url, { id: 'u', messages: hello, seed: 7, max_tokens: 64 });
    const { tokens, done } = split(res.frames);
    t.equal(done.usage.completion_tokens, tokens.length, 'one token frame per generated token (ASCII model)');
    const engine = daemon.lifecycle.engine!;
    t.equal(done.usage.prompt_tokens, engine.countPromptTokens({ kind: 'chat', messages: hello as never }), 'prompt tokens of the rendered chat');
    t.ok(done.usage.prompt_tokens > 10);
  });

  t.test('max_tokens ends with stop_reason length', async (t) => {
    const res = await inferNdjson(url, { id: 'l', messages: hello, max_tokens: 5, grammar: 'root ::= [a-z ]+' });
    const { tokens, done } = split(res.frames);
    t.equal(done.stop_reason, 'length');
    t.equal(done.usage.completion_tokens, 5);
    t.equal(tokens.length, 5);
  });

  t.test('max_tokens 0 generates nothing', async (t) => {
    const res = await inferNdjson(url, { id: 'z', messages: hello, max_tokens: 0 });
    t.same(res.frames.map((f) => f.type), ['done']);
    t.equal((res.frames[0] as DoneFrame).stop_reason, 'length');
  });

  t.test('a digits-only grammar gives digits only', async (t) => {
    const res = await inferNdjson(url, { id: 'g', messages: hello, max_tokens: 24, grammar: 'root ::= [0-9]+', seed: 3 });
    const { done } = split(res.frames);
    t.match(done.content, /^[0-9]+$/);
  });

  t.test('a bad grammar is a 400 before any frame', async (t) => {
    const res = await postJson<ErrorFrame>(`${url}/infer`, { id: 'bad', messages: hello, grammar: 'root ::= [0-9' });
    t.equal(res.status, 400);
    t.equal(res.body.code, 'invalid_request');
    t.equal(res.body.id, 'bad');
    t.match(res.body.message, /grammar/);
  });

  t.test('the same seed gives the same text', async (t) => {
    const body = { messages: hello, seed: 1234, temperature: 0.9, max_tokens: 80 };
    const first = split((await inferNdjson(url, body)).frames).done;
    const second = split((await inferNdjson(url, body)).frames).done;
    t.equal(second.content, first.content);
    t.ok(first.content.length > 0);
  });

  t.test('without a seed, replies differ (even within the same second)', async (t) => {
    const body = { messages: hello, temperature: 1, max_tokens: 40, stream: false };
    const texts = await Promise.all([1, 2, 3].map(() => postJson<DoneFrame>(`${url}/infer`, body).then((r) => r.body.content)));
    t.ok(new Set(texts).size > 1, `three unseeded replies are not all the same: ${JSON.stringify(texts)}`);
  });

  t.test('stream:false answers one JSON done frame', async (t) => {
    const res = await postJson<DoneFrame>(`${url}/infer`, { id: 's', messages: hello, stream: false, max_tokens: 30, seed: 5 });
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], /^application\/json/);
    t.equal(res.body.type, 'done');
    t.equal(res.body.id, 's');
    t.ok(res.body.usage.completion_tokens > 0);
    const streamed = split((await inferNdjson(url, { id: 's', messages: hello, max_tokens: 30, seed: 5 })).frames).done;
    t.equal(res.body.content, streamed.content, 'same text as the streamed answer');
  });

  t.test('SSE, read by the eventsource client', async (t) => {
    const frames: V1Frame[] = [];
    await new Promise<void>((resolve, reject) => {
      const es = new EventSource(`${url}/infer`, {
        fetch: (input, init) =>
          fetch(input, {
            ...init,
            method: 'POST',
            headers: { ...init?.headers, 'content-type': 'application/json' },
            body: JSON.stringify({ id: 'sse', messages: hello, seed: 1, max_tokens: 60 }),
          }),
      });
      es.onmessage = (event) => {
        const frame = JSON.parse(event.data) as V1Frame;
        frames.push(frame);
        if (frame.type !== 'token') {
          es.close();
          resolve();
        }
      };
      es.onerror = (event) => {
        es.close();
        reject(new Error(`EventSource error: ${event.message ?? 'unknown'}`));
      };
    });
    const { tokens, terminal, done } = split(frames);
    t.equal(terminal.length, 1);
    t.equal(done.type, 'done');
    t.equal(tokens.map((f) => f.content).join(''), done.content);
    const ndjson = split((await inferNdjson(url, { id: 'sse', messages: hello, seed: 1, max_tokens: 60 })).frames).done;
    t.equal(done.content, ndjson.content, 'SSE and NDJSON carry the same generation');
  });

  t.test('SSE framing and headers', async (t) => {
    const res = await request(`${url}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ id: 'h', messages: hello, max_tokens: 3 }),
    });
    t.match(res.headers['content-type'], /^text\/event-stream/);
    t.equal(res.headers['x-accel-buffering'], 'no');
    t.equal(res.headers['cache-control'], 'no-cache');
    const text = await res.body.text();
    const events = text.split('\n\n').filter(Boolean);
    t.ok(events.every((e) => /^data: \{.*\}$/.test(e)), 'every event is one data line of JSON');
  });

  t.test('a form-encoded curl -d body is refused: only JSON bodies are read (a form is what any site can post)', async (t) => {
    const res = await request(`${url}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ messages: hello, max_tokens: 2, stream: false }),
    });
    t.equal(res.statusCode, 415);
    t.match(await res.body.json(), { type: 'error', code: 'unsupported_media_type' });
  });
});
