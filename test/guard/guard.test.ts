// The edge guard on a real daemon: keys and scopes, Host (DNS rebinding), Origin (CSRF), CORS,
// JSON-only bodies, stream tickets, log redaction. Every refusal also shows that nothing
// happened: no generation was counted and no lifecycle event was published.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startDaemon } from '../helpers/daemon.js';
import { ADMIN_KEY, INFER_KEY, capturedLog, noHostRequest, raw } from './helpers.js';

const ALLOWED_ORIGIN = 'http://dash.example:8080';
const HELLO = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: false });
const JSON_TYPE = { 'content-type': 'application/json' };
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const infer = { 'x-api-key': INFER_KEY };

t.test('edge guard', async (t) => {
  const captured = capturedLog();
  const { url, daemon } = await startDaemon(
    t,
    {
      api_keys: [{ key: ADMIN_KEY, scope: 'admin' }, INFER_KEY],
      cors_origins: [ALLOWED_ORIGIN],
      allowed_hosts: ['inferd.lan', '*.corp.test'],
    },
    { log: captured.log },
  );
  const finished = async () => /inferd_requests_total\{[^\n]*/g.exec(await daemon.metrics.render())?.[0] ?? 'none';
  const published = () => daemon.lifecycle.bus.stats().published;
  /** Runs `refused` and checks that neither a generation nor a lifecycle event came of it. */
  const nothingHappens = async (t: Test, refused: () => Promise<unknown>) => {
    const before = { finished: await finished(), published: published() };
    await refused();
    t.same({ finished: await finished(), published: published() }, before, 'no generation finished, no lifecycle event published');
  };

  t.test('public routes need no key', async (t) => {
    t.equal((await raw(url, 'GET', '/healthz')).status, 200);
    t.equal((await raw(url, 'GET', '/readyz')).status, 200);
    t.equal((await raw(url, 'GET', '/openapi.yaml')).status, 200);
  });

  t.test('no key or a wrong key: 401 with WWW-Authenticate, in each route family', async (t) => {
    await nothingHappens(t, async () => {
      const none = await raw(url, 'POST', '/infer', JSON_TYPE, HELLO);
      t.equal(none.status, 401);
      t.match(none.headers['www-authenticate'], /^Bearer/);
      t.match(none.json(), { type: 'error', code: 'unauthorized' });
      const wrong = await raw(url, 'POST', '/infer', { ...JSON_TYPE, authorization: 'Bearer not-the-key-0123456789' }, HELLO);
      t.equal(wrong.status, 401);
      const openai = await raw(url, 'POST', '/v1/chat/completions', JSON_TYPE, HELLO);
      t.equal(openai.status, 401);
      t.match(openai.json(), { error: { code: 'unauthorized', type: 'authentication_error' } });
      const reload = await raw(url, 'POST', '/admin/reload', JSON_TYPE, '{}');
      t.equal(reload.status, 401);
      t.equal((await raw(url, 'GET', '/metrics')).status, 401);
      t.equal((await raw(url, 'GET', '/admin/status?format=ndjson')).status, 401);
      t.equal((await raw(url, 'GET', '/no/such/route')).status, 401, 'unknown routes fail closed too');
    });
  });

  t.test('an inference key infers but cannot administer (403 forbidden)', async (t) => {
    t.equal((await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...infer }, HELLO)).status, 200);
    t.equal((await raw(url, 'GET', '/v1/models', { authorization: `Bearer ${INFER_KEY}` })).status, 200);
    await nothingHappens(t, async () => {
      const reload = await raw(url, 'POST', '/admin/reload', { ...JSON_TYPE, ...infer }, '{}');
      t.equal(reload.status, 403);
      t.match(reload.json(), { code: 'forbidden' });
      t.equal((await raw(url, 'GET', '/metrics', infer)).status, 403);
      t.equal((await raw(url, 'POST', '/admin/stream-ticket', infer)).status, 403);
    });
  });

  t.test('an admin key does everything', async (t) => {
    t.equal((await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin }, HELLO)).status, 200);
    t.equal((await raw(url, 'GET', '/metrics', { 'x-api-key': ADMIN_KEY })).status, 200);
    const before = published();
    const reload = await raw(url, 'POST', '/admin/reload', { ...JSON_TYPE, ...admin }, '{}');
    t.equal(reload.status, 200);
    t.ok(published() > before, 'the allowed reload did publish events (the counter can move)');
  });

  t.test('Host allow-list (DNS rebinding)', async (t) => {
    await nothingHappens(t, async () => {
      const evil = await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, host: 'evil.example' }, HELLO);
      t.equal(evil.status, 403);
      t.match(evil.json(), { code: 'host_not_allowed' });
      const rebind = await raw(url, 'POST', '/admin/reload', { ...JSON_TYPE, ...admin, host: 'evil.example:47321' }, '{}');
      t.equal(rebind.status, 403);
      t.equal((await raw(url, 'GET', '/v1/models', { ...admin, host: 'corp.test' })).status, 403, 'a wildcard does not match the bare domain');
      t.match(await noHostRequest(daemon.port, '/metrics'), /^HTTP\/1\.[01] 403/, 'a missing Host is refused');
    });
    t.equal((await raw(url, 'GET', '/healthz', { host: '10.1.2.3:47321' })).status, 200, 'probes with the pod IP as Host');
    t.equal((await raw(url, 'GET', '/readyz', { host: '10.1.2.3' })).status, 200);
    for (const host of ['localhost:1234', '127.0.0.1', '[::1]:80', 'inferd.lan:47321', 'a.corp.test', 'INFERD.LAN']) {
      t.equal((await raw(url, 'GET', '/v1/models', { ...admin, host })).status, 200, `Host ${host} is allowed`);
    }
  });

  t.test('Origin check (CSRF): refused before any side effect', async (t) => {
    await nothingHappens(t, async () => {
      // The simple request a hostile page can send without a preflight.
      const simple = await raw(url, 'POST', '/admin/reload', { ...admin, origin: 'http://evil.example', 'content-type': 'text/plain' }, '{}');
      t.equal(simple.status, 403);
      t.match(simple.json(), { code: 'origin_not_allowed' });
      const json = await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, origin: 'http://evil.example' }, HELLO);
      t.equal(json.status, 403);
      const loopback = await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, origin: 'http://localhost:3000' }, HELLO);
      t.equal(loopback.status, 403, 'cors_origins replaces the loopback default');
      const nullOrigin = await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, origin: 'null' }, HELLO);
      t.equal(nullOrigin.status, 403);
      const fetchMeta = await raw(url, 'POST', '/admin/reload', { ...JSON_TYPE, ...admin, 'sec-fetch-site': 'cross-site' }, '{}');
      t.equal(fetchMeta.status, 403, 'no Origin but Sec-Fetch-Site: cross-site');
    });
    t.equal((await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, origin: ALLOWED_ORIGIN }, HELLO)).status, 200);
    t.equal((await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, 'sec-fetch-site': 'same-origin' }, HELLO)).status, 200);
    const port = daemon.port;
    t.equal((await raw(url, 'POST', '/infer', { ...JSON_TYPE, ...admin, origin: `http://127.0.0.1:${port}` }, HELLO)).status, 200, 'same origin');
  });

  t.test('CORS: exact origins, preflight, Vary, never *', async (t) => {
    const preflight = await raw(url, 'OPTIONS', '/infer', {
      origin: ALLOWED_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    t.equal(preflight.status, 204);
    t.equal(preflight.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
    t.match(preflight.headers['access-control-allow-headers'], /authorization/);
    for (const header of ['x-api-key', 'content-type', 'last-event-id']) t.match(preflight.headers['access-control-allow-headers'], new RegExp(header));
    t.match(preflight.headers['access-control-allow-methods'], /POST/);
    t.ok(Number(preflight.headers['access-control-max-age']) > 0, 'a max-age');
    t.match(preflight.headers['vary'], /Origin/);
    t.notOk(preflight.headers['access-control-allow-credentials'], 'no credentials mode');

    const evil = await raw(url, 'OPTIONS', '/admin/reload', { origin: 'http://evil.example', 'access-control-request-method': 'POST' });
    t.notOk(evil.headers['access-control-allow-origin'], 'a disallowed origin is not reflected');
    const get = await raw(url, 'GET', '/healthz', { origin: ALLOWED_ORIGIN });
    t.equal(get.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
    t.match(get.headers['vary'], /Origin/);
    const other = await raw(url, 'GET', '/healthz', { origin: 'http://evil.example' });
    t.equal(other.headers['access-control-allow-origin'], undefined);

    // Streams write their own head: the CORS answer must survive it, or a browser cannot read them.
    for (const accept of ['text/event-stream', 'application/x-ndjson']) {
      const ac = new AbortController();
      const status = await request(`${url}/admin/status`, { headers: { ...admin, accept, origin: ALLOWED_ORIGIN }, signal: ac.signal });
      t.equal(status.headers['access-control-allow-origin'], ALLOWED_ORIGIN, `/admin/status as ${accept}`);
      t.match(status.headers['vary'], /Origin/);
      ac.abort();
      status.body.on('error', () => {});
    }
    const streamed = await raw(url, 'POST', '/infer', { ...admin, origin: ALLOWED_ORIGIN, 'content-type': 'application/json' }, JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }));
    t.equal(streamed.status, 200);
    t.match(streamed.text, /"type":"token"/, 'a stream of frames');
    t.equal(streamed.headers['access-control-allow-origin'], ALLOWED_ORIGIN, 'streamed /infer');
  });

  t.test('bodies are JSON only: 415 otherwise, and nothing runs', async (t) => {
    await nothingHappens(t, async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await raw(url, 'POST', '/infer', { ...admin, 'content-type': type }, HELLO);
        t.equal(res.status, 415, type);
        t.match(res.json(), { code: 'unsupported_media_type' });
      }
      const openai = await raw(url, 'POST', '/v1/chat/completions', { ...admin, 'content-type': 'text/plain' }, HELLO);
      t.equal(openai.status, 415);
      t.match(openai.json(), { error: { code: 'unsupported_media_type' } });
      const reload = await raw(url, 'POST', '/admin/reload', { ...admin, 'content-type': 'text/plain' }, '{}');
      t.equal(reload.status, 415);
    });
    t.equal((await raw(url, 'POST', '/infer', { ...admin, 'content-type': 'application/json; charset=utf-8' }, HELLO)).status, 200);
  });

  t.test('stream tickets: single use, admin streams only', async (t) => {
    const issued = await raw(url, 'POST', '/admin/stream-ticket', admin);
    t.equal(issued.status, 200);
    const { ticket, expires_in } = issued.json() as { ticket: string; expires_in: number };
    t.ok(expires_in > 0 && expires_in <= 60);
    t.equal((await raw(url, 'GET', `/metrics?ticket=${ticket}`)).status, 401, 'not a ticket route');
    const ac = new AbortController();
    const first = await request(`${url}/admin/status?format=ndjson&ticket=${ticket}`, { signal: ac.signal });
    t.equal(first.statusCode, 200);
    for await (const chunk of first.body) {
      t.match(String(chunk), /"status":"capabilities"/);
      break;
    }
    ac.abort();
    t.equal((await raw(url, 'GET', `/admin/status?format=ndjson&ticket=${ticket}`)).status, 401, 'a used ticket is refused');
    t.equal((await raw(url, 'GET', '/admin/status?format=ndjson&ticket=made-up')).status, 401);
  });

  t.test('?last_event_id stands in for the Last-Event-ID header', async (t) => {
    const bootId = daemon.lifecycle.bus.bootId;
    const read = async (path: string, headers: Record<string, string>) => {
      const ac = new AbortController();
      const res = await request(`${url}${path}`, { headers: { accept: 'text/event-stream', ...admin, ...headers }, signal: ac.signal });
      let text = '';
      for await (const chunk of res.body) {
        text += String(chunk);
        if (text.split('\n\n').length > 2) break;
      }
      ac.abort();
      return text.split('\n\n').slice(0, 2).join('\n\n');
    };
    const viaHeader = await read('/admin/status', { 'last-event-id': `${bootId}.1` });
    const viaQuery = await read(`/admin/status?last_event_id=${bootId}.1`, {});
    const fresh = await read('/admin/status', {});
    t.match(viaHeader, /^id: /m);
    t.equal(viaQuery, viaHeader, 'the same replay as with the header');
    t.not(viaQuery, fresh, 'and not the fresh-connection answer');
  });

  t.test('keys and tickets never reach the log', async (t) => {
    const issued = (await raw(url, 'POST', '/admin/stream-ticket', admin)).json() as { ticket: string };
    // Refused (not a ticket route), so the answer ends and the request is logged with its URL.
    await raw(url, 'GET', `/metrics?format=x&ticket=${issued.ticket}`);
    const log = captured.text();
    // The request line logs the path without its query, so the ticket cannot appear at all.
    t.match(log, /"path":"\/metrics"[^\n]*"status":401/, 'the refused request has its log line');
    t.notOk(log.includes(issued.ticket), 'no ticket in the log');
    t.notOk(log.includes(ADMIN_KEY), 'no admin key in the log');
    t.notOk(log.includes(INFER_KEY), 'no inference key in the log');
  });
});

