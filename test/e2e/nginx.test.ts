// inferd behind a real nginx, in three configurations on three ports of ONE nginx: nginx's
// defaults (HTTP/1.0 upstream, proxy_buffering on), the README's snippet, and the README's
// `/llm/` prefix. Through each: tokens stream one by one, the admin SSE stream resumes with
// Last-Event-ID, the daemon logs the real client address (trust_proxy), and keys are required.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { requireExecutable } from '../helpers/e2e.js';
import { ADMIN_KEY, capturedLog } from '../guard/helpers.js';

const nginx = requireExecutable('nginx');
/** The client connects from this loopback address, so it differs from nginx's own (127.0.0.1). */
const CLIENT_ADDRESS = '127.0.0.2';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The README's "Behind a reverse proxy" snippet, with the daemon's port. */
function readmeSnippet(kind: 'root' | 'prefix', daemonPort: number): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Behind a reverse proxy'));
  const blocks = [...section.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => (kind === 'root' ? b.startsWith('location / ') : b.startsWith('location /llm/ ')));
  if (!block) throw new Error(`README has no ${kind} nginx snippet`);
  return block.replaceAll('127.0.0.1:47321', `127.0.0.1:${daemonPort}`);
}

interface Arrival {
  at: number;
  text: string;
}

/** Sends a request from CLIENT_ADDRESS and records when each chunk of the answer arrives. */
function timedRequest(url: string, method: string, headers: Record<string, string>, body?: string, stopWhen?: (text: string) => boolean) {
  const target = new URL(url);
  return new Promise<{ status: number; headers: Record<string, unknown>; sent: number; chunks: Arrival[]; text: string }>((resolve, reject) => {
    const sent = performance.now();
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, localAddress: CLIENT_ADDRESS, headers },
      (res) => {
        const chunks: Arrival[] = [];
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          chunks.push({ at: performance.now(), text: chunk });
          text += chunk;
          if (stopWhen?.(text)) {
            res.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, sent, chunks, text });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, sent, chunks, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test('through nginx', { skip: nginx.skip }, async (t) => {
  const captured = capturedLog();
  const { daemon } = await startDaemon(t, { api_keys: [{ key: ADMIN_KEY, scope: 'admin' }], trust_proxy: ['127.0.0.1'] }, { log: captured.log });
  const dir = mkdtempSync(join(tmpdir(), 'inferd-nginx-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [defaultsPort, snippetPort, prefixPort] = [await freePort(), await freePort(), await freePort()];
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # nginx defaults: HTTP/1.0 to the upstream, proxy_buffering on; only the client address added.
  server {
    listen 127.0.0.1:${defaultsPort};
    location / {
      proxy_pass http://127.0.0.1:${daemon.port};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
  server {
    listen 127.0.0.1:${snippetPort};
    ${readmeSnippet('root', daemon.port)}
  }
  server {
    listen 127.0.0.1:${prefixPort};
    ${readmeSnippet('prefix', daemon.port)}
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawn(nginx.path!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nginxErr = '';
  proc.stderr.on('data', (chunk: Buffer) => (nginxErr += chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await exited;
  });
  const configs = [
    { name: 'nginx defaults (proxy_buffering on)', base: `http://127.0.0.1:${defaultsPort}` },
    { name: 'README snippet', base: `http://127.0.0.1:${snippetPort}` },
    { name: '/llm/ prefix', base: `http://127.0.0.1:${prefixPort}/llm` },
  ];

  // Wait until nginx answers on all three ports.
  for (const { base } of configs) {
    for (let i = 0; ; i++) {
      const ok = await timedRequest(`${base}/healthz`, 'GET', {}).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 100 || proc.exitCode !== null) throw new Error(`nginx did not come up: ${nginxErr}${readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const json = { 'content-type': 'application/json' };
  const prompt = { messages: [{ role: 'user', content: 'Tell me about the admin status stream.' }] };
  for (const { name, base } of configs) {
    t.test(name, async (t) => {
      t.test('keys are required through the proxy', async (t) => {
        t.equal((await timedRequest(`${base}/v1/models`, 'GET', {})).status, 401);
        t.equal((await timedRequest(`${base}/v1/models`, 'GET', auth)).status, 200);
        t.equal((await timedRequest(`${base}/healthz`, 'GET', {})).status, 200);
      });

      /** Tokens arrive spread over the generation, not bunched at the end. */
      const checkIncremental = (t: Test, res: { sent: number; chunks: Arrival[] }, frames: number) => {
        t.ok(frames >= 50, `a long generation (${frames} frames)`);
        const first = res.chunks[0]!.at;
        const last = res.chunks.at(-1)!.at;
        t.ok(res.chunks.length >= 10, `the answer came in ${res.chunks.length} pieces`);
        t.ok(last - first >= 0.2 * (last - res.sent), `first piece at ${(first - res.sent).toFixed(0)} ms, last at ${(last - res.sent).toFixed(0)} ms: spread over the generation`);
      };

      t.test('/infer streams token by token', async (t) => {
        const res = await timedRequest(`${base}/infer`, 'POST', { ...auth, ...json }, JSON.stringify({ ...prompt, max_tokens: 200, seed: 1 }));
        t.equal(res.status, 200);
        const frames = res.text.trim().split('\n').map((line) => JSON.parse(line) as { type: string });
        t.equal(frames.at(-1)?.type, 'done');
        checkIncremental(t, res, frames.length);
      });

      t.test('/v1/chat/completions streams token by token', async (t) => {
        const res = await timedRequest(`${base}/v1/chat/completions`, 'POST', { ...auth, ...json }, JSON.stringify({ ...prompt, max_tokens: 200, seed: 1, stream: true }));
        t.equal(res.status, 200);
        t.match(res.text, /data: \[DONE\]\n\n$/);
        checkIncremental(t, res, res.text.split('\n\n').length);
      });

      t.test('/admin/status SSE resumes with Last-Event-ID', async (t) => {
        const read = async (lastEventId?: string) => {
          const res = await timedRequest(`${base}/admin/status`, 'GET', { ...auth, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, undefined, (text) =>
            text.includes('"status":"ready"'),
          );
          t.equal(res.status, 200);
          return [...res.text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { status: string }).status);
        };
        t.same(await read(), ['capabilities', 'ready'], 'a fresh connection: capabilities and the snapshot');
        const boot = daemon.lifecycle.bus.bootId;
        t.same(await read(`${boot}.2`), ['loading_model', 'loading_model', 'capabilities', 'ready'], 'a reconnect gets the events after its id');
      });

      t.test('the daemon logs the client address, not the proxy', async (t) => {
        // The request line logs the path without its query: mark the request by what came after.
        const before = captured.text().length;
        await timedRequest(`${base}/healthz`, 'GET', {});
        await new Promise((resolve) => setTimeout(resolve, 50));
        const line = captured
          .text()
          .slice(before)
          .split('\n')
          .find((l) => l.includes('"path":"/healthz"'));
        t.ok(line, 'the request was logged');
        t.match(JSON.parse(line ?? '{}'), { client: CLIENT_ADDRESS });
      });
    });
  }
});

