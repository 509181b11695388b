/// <reference lib="dom" />
// The daemon from a page on another origin, in a real headless Chromium: a tiny page server on
// its own port is the "dashboard" origin listed in cors_origins, a second one on yet another
// port is a foreign site. From the allowed page, EventSource on /admin/status and a streaming
// fetch of /infer work (and, with keys, the stream-ticket flow); from the foreign page they
// fail, and a cross-site simple POST to /admin/reload changes nothing on the daemon.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { chromiumExecutable, launchBrowser } from '../helpers/browser.js';
import { startDaemon } from '../helpers/daemon.js';

const ADMIN_KEY = 'cross-origin-admin-key-0123456789';

/** A plain page server: every path answers the same empty HTML page. */
async function pageServer(t: Test): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>page</title></head><body>page</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface StreamResult {
  statuses: string[];
  error: boolean;
  messages: number;
}

/** In the page: opens an EventSource and collects statuses until `ready`, an error, or a timeout. */
function eventSourceIn(page: Page, url: string): Promise<StreamResult> {
  return page.evaluate(
    (url) =>
      new Promise<StreamResult>((resolve) => {
        const statuses: string[] = [];
        let messages = 0;
        const es = new EventSource(url);
        const end = (error: boolean) => {
          es.close();
          resolve({ statuses, error, messages });
        };
        es.onmessage = (event) => {
          messages++;
          const frame = JSON.parse(event.data as string) as { status?: string };
          if (frame.status) statuses.push(frame.status);
          if (frame.status === 'ready') end(false);
        };
        es.onerror = () => end(true);
        setTimeout(() => end(true), 10_000);
      }),
    url,
  );
}

interface FetchResult {
  ok: boolean;
  error?: string;
  status?: number;
  chunks: number;
  tokens: number;
  done: boolean;
}

/** In the page: POST /infer with fetch, reading the body through a ReadableStream reader. */
function streamInferIn(page: Page, url: string, headers: Record<string, string> = {}): Promise<FetchResult> {
  return page.evaluate(
    async ({ url, headers }) => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ id: 'x', messages: [{ role: 'user', content: 'Tell me about the admin socket' }], max_tokens: 64, seed: 7, temperature: 0 }),
        });
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        let chunks = 0;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          chunks++;
          text += decoder.decode(value, { stream: true });
        }
        const frames = text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as { type: string });
        return { ok: true, status: res.status, chunks, tokens: frames.filter((f) => f.type === 'token').length, done: frames.at(-1)?.type === 'done' };
      } catch (err) {
        return { ok: false, error: String(err), chunks: 0, tokens: 0, done: false };
      }
    },
    { url, headers },
  );
}

if (chromiumExecutable.skip) {
  t.plan(0, `cross-origin browser tests: ${chromiumExecutable.skip}`);
} else {
  let browser: Browser;
  t.before(async () => {
    browser = await launchBrowser();
  });
  t.teardown(() => browser?.close());

  async function openPage(t: Test, url: string): Promise<Page> {
    const page = await browser.newPage();
    t.teardown(() => page.close());
    await page.goto(`${url}/`);
    return page;
  }

  t.test('no keys: an allowed origin streams, a foreign one can neither read nor change anything', async (t) => {
    const allowed = await pageServer(t);
    const foreign = await pageServer(t);
    const { daemon, url } = await startDaemon(t, { cors_origins: [allowed] });
    const bus = daemon.lifecycle.bus;

    t.test('allowed origin: EventSource on /admin/status reaches ready', async (t) => {
      const page = await openPage(t, allowed);
      const result = await eventSourceIn(page, `${url}/admin/status`);
      t.equal(result.error, false, 'no error');
      t.equal(result.statuses.at(-1), 'ready', `statuses: ${result.statuses.join(' → ')}`);
    });

    t.test('allowed origin: fetch streams /infer token frames incrementally, then done', async (t) => {
      const page = await openPage(t, allowed);
      const result = await streamInferIn(page, `${url}/infer`);
      t.equal(result.ok, true, result.error ?? 'fetch resolved');
      t.equal(result.status, 200);
      t.ok(result.tokens >= 20, `${result.tokens} token frames`);
      t.ok(result.chunks >= 3, `read in ${result.chunks} chunks, not at once`);
      t.equal(result.done, true, 'ends with done');
    });

    t.test('foreign origin: EventSource errors without a message, fetch rejects', async (t) => {
      const page = await openPage(t, foreign);
      const es = await eventSourceIn(page, `${url}/admin/status`);
      t.equal(es.error, true, 'onerror');
      t.equal(es.messages, 0, 'no message read');
      const before = daemon.gate.admission.active;
      const fetched = await streamInferIn(page, `${url}/infer`);
      t.equal(fetched.ok, false);
      t.match(fetched.error, /TypeError/, 'fetch rejects with a TypeError');
      t.equal(daemon.gate.admission.active, before, 'no slot held');
    });

    t.test('foreign origin: a no-cors text/plain POST /admin/reload publishes nothing', async (t) => {
      const page = await openPage(t, foreign);
      const lastId = bus.lastEventId;
      const outcome = await page.evaluate(async (target) => {
        try {
          // An opaque answer: the page cannot see the status either way.
          const res = await fetch(target, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' });
          return res.type;
        } catch (err) {
          return String(err);
        }
      }, `${url}/admin/reload`);
      t.equal(outcome, 'opaque', 'the browser sent it (an opaque answer)');
      await new Promise((r) => setTimeout(r, 300));
      t.equal(bus.lastEventId, lastId, 'no frame published (no restarting)');
      t.equal(bus.snapshot.event.status, 'ready', 'still ready');
    });

    t.test('control: the same reload from the allowed origin, as JSON, does restart', async (t) => {
      const page = await openPage(t, allowed);
      const restarting = bus.waitFor((event) => event.status === 'restarting', AbortSignal.timeout(10_000));
      const status = await page.evaluate(async (target) => {
        const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        return res.status;
      }, `${url}/admin/reload`);
      t.equal(status, 200);
      await t.resolves(restarting, 'a restarting frame was published');
    });
  });

  t.test('with keys: the allowed page trades its key for a stream ticket and opens EventSource with it', async (t) => {
    const allowed = await pageServer(t);
    const foreign = await pageServer(t);
    const { url } = await startDaemon(t, { cors_origins: [allowed], api_keys: [{ key: ADMIN_KEY, scope: 'admin' }] });

    const ticketIn = (page: Page) =>
      page.evaluate(
        async ({ url, key }) => {
          try {
            const res = await fetch(`${url}/admin/stream-ticket`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
            return { status: res.status, ticket: ((await res.json()) as { ticket?: string }).ticket ?? '' };
          } catch (err) {
            return { status: 0, ticket: '', error: String(err) };
          }
        },
        { url, key: ADMIN_KEY },
      );

    t.test('allowed origin: no ticket fails, a ticket works once', async (t) => {
      const page = await openPage(t, allowed);
      const without = await eventSourceIn(page, `${url}/admin/status`);
      t.equal(without.error, true, 'without a ticket: onerror');
      t.equal(without.messages, 0);
      const { status, ticket } = await ticketIn(page);
      t.equal(status, 200, 'ticket issued across origins (preflight with authorization passed)');
      t.ok(ticket.length > 10);
      const withTicket = await eventSourceIn(page, `${url}/admin/status?ticket=${encodeURIComponent(ticket)}`);
      t.equal(withTicket.error, false);
      t.equal(withTicket.statuses.at(-1), 'ready', `statuses: ${withTicket.statuses.join(' → ')}`);
      const again = await eventSourceIn(page, `${url}/admin/status?ticket=${encodeURIComponent(ticket)}`);
      t.equal(again.error, true, 'a used ticket is refused');
      t.equal(again.messages, 0);
      const infer = await streamInferIn(page, `${url}/infer`, { authorization: `Bearer ${ADMIN_KEY}` });
      t.equal(infer.status, 200, infer.error ?? 'keyed streaming fetch');
      t.equal(infer.done, true);
    });

    t.test('foreign origin: even with the key, the browser lets it read nothing', async (t) => {
      const page = await openPage(t, foreign);
      const result = await ticketIn(page);
      t.equal(result.status, 0, 'the preflight fails, so the request is never sent');
      t.match(result.error, /TypeError/);
    });
  });
}
