// One validation for every transport and API family: the same bad bytes get the same coded
// answer over infer.sock, POST /infer and POST /v1/chat/completions. The table has two axes:
// ROWS (bad inputs, as the exact bytes sent) and TARGETS (a transport or API family and how to
// read the code and message back). A new family (/api/* for Ollama, say) is one more TARGETS
// row: its URL and where its error body keeps the message.
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { startDaemon } from '../helpers/daemon.js';

interface Answer {
  code: string;
  message: string;
}

interface Row {
  name: string;
  /** The request body, byte for byte; every target sends exactly these bytes. */
  bytes: Buffer;
  message: RegExp;
  /** Decoder-level rows must give the identical message everywhere, not just a matching one. */
  identical: boolean;
}

const hi = '[{"role":"user","content":"hi"}]';
const row = (name: string, text: string | Buffer, message: RegExp, identical = false): Row => ({
  name,
  bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
  message,
  identical,
});

const ROWS: Row[] = [
  row('invalid UTF-8', Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]), /^decode: invalid UTF-8$/, true),
  row('lone surrogate', '{"messages":[{"role":"user","content":"a\\ud800b"}]}', /^decode: lone surrogate in a string$/, true),
  row('lone low surrogate in a key', `{"messages":${hi},"\\udc00":1}`, /^decode: lone surrogate in a key$/, true),
  row('__proto__ key', `{"__proto__":{"admin":true},"messages":${hi}}`, /^decode: forbidden key "__proto__"$/, true),
  row('constructor key, nested', '{"messages":[{"role":"user","content":"hi","constructor":{"prototype":1}}]}', /^decode: forbidden key "(constructor|prototype)"$/, true),
  row('deep nesting', `{"messages":${hi},"x":${'['.repeat(200)}${']'.repeat(200)}}`, /^decode: JSON nested deeper than 64 levels$/, true),
  row('not JSON', '{"messages":', /^decode: invalid JSON/, true),
  row('wrong type: messages', '{"messages":"hi"}', /^invalid request: messages must be array$/),
  row('wrong type: content', '{"messages":[{"role":"user","content":42}]}', /^invalid request: messages\.0/),
  row('out of range: max_tokens', `{"messages":${hi},"max_tokens":-1}`, /^invalid request: max_tokens must be >= 0$/),
  row('out of range: max_tokens over u32', `{"messages":${hi},"max_tokens":4294967296}`, /^invalid request: max_tokens must be <= 4294967295$/),
  row('unknown role', '{"messages":[{"role":"robot","content":"hi"}]}', /^invalid request: messages\.0/),
  row('empty messages', '{"messages":[]}', /^invalid request: messages must not be empty$/),
  row('huge array', `{"messages":[${Array(10_001).fill('{"role":"user","content":"x"}').join(',')}]}`, /^invalid request: messages must have at most 10000 items$/),
  row('not an object', '[1,2]', /^invalid request: body must be object$/),
];

interface Target {
  name: string;
  send(bytes: Buffer): Promise<Answer>;
}

async function httpAnswer(url: string, bytes: Buffer, read: (body: never) => Answer): Promise<Answer> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
  const body = (await res.body.json()) as never;
  const answer = read(body);
  if (res.statusCode !== 400) throw new Error(`HTTP ${res.statusCode} for ${answer.code}: ${answer.message}`);
  return answer;
}

function socketAnswer(path: string, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl === -1) return;
      const frame = JSON.parse(text.slice(0, nl)) as { type: string; code: string; message: string };
      socket.destroy();
      if (frame.type !== 'error') reject(new Error(`expected an error frame, got ${frame.type}`));
      else resolve({ code: frame.code, message: frame.message });
    });
    socket.on('error', reject);
    socket.write(Buffer.concat([bytes, Buffer.from('\n')]));
  });
}

t.test('the same bad input gets the same coded answer on every transport and API family', async (t) => {
  const { daemon, url } = await startDaemon(t);
  const inferSock = daemon.sockets!.endpoints.infer;
  const TARGETS: Target[] = [
    { name: 'infer.sock', send: (bytes) => socketAnswer(inferSock, bytes) },
    { name: 'POST /infer', send: (bytes) => httpAnswer(`${url}/infer`, bytes, (b: { code: string; message: string }) => ({ code: b.code, message: b.message })) },
    {
      name: 'POST /v1/chat/completions',
      send: (bytes) => httpAnswer(`${url}/v1/chat/completions`, bytes, (b: { error: { code: string; message: string } }) => ({ code: b.error.code, message: b.error.message })),
    },
  ];
  for (const r of ROWS) {
    const answers: Array<[string, Answer]> = [];
    for (const target of TARGETS) answers.push([target.name, await target.send(r.bytes)]);
    for (const [name, answer] of answers) {
      t.equal(answer.code, 'invalid_request', `${r.name} via ${name}: invalid_request`);
      t.match(answer.message, r.message, `${r.name} via ${name}: ${answer.message}`);
    }
    // The v1 family must agree word for word across transports; decoder rows across families too.
    const [socket, infer] = answers;
    t.equal(infer![1].message, socket![1].message, `${r.name}: POST /infer and infer.sock say the same`);
    if (r.identical) t.same(new Set(answers.map(([, a]) => a.message)).size, 1, `${r.name}: one message everywhere`);
  }
  // Nothing above reached the engine, and the daemon is still serving.
  const ok = await request(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: JSON.parse(hi), max_tokens: 2, stream: false }) });
  t.equal(ok.statusCode, 200, 'still serving');
  await ok.body.dump();
});
