// Rate limits, trusted proxies and the base path, on real daemons (no model needed).
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';
import { ADMIN_KEY, raw } from './helpers.js';

const OTHER_ADMIN_KEY = 'second-admin-key-0123456789';

t.test('behind a trusted proxy, with a rate limit per key', async (t) => {
  const { url } = await startDaemon(
    t,
    { api_keys: [{ key: ADMIN_KEY, scope: 'admin' }, { key: OTHER_ADMIN_KEY, scope: 'admin' }], trust_proxy: ['127.0.0.1'], base_path: '/base', rate_limit_per_minute: 3 },
    { start: false },
  );
  const a = { authorization: `Bearer ${ADMIN_KEY}` };

  t.test('the limit is per key, public routes are not limited', async (t) => {
    for (let i = 0; i < 3; i++) t.equal((await raw(url, 'GET', '/metrics', a)).status, 200);
    const limited = await raw(url, 'GET', '/metrics', a);
    t.equal(limited.status, 429);
    t.match(limited.json(), { code: 'rate_limited' });
    t.ok(Number(limited.headers['retry-after']) > 0, `Retry-After: ${limited.headers['retry-after']}`);
    t.equal((await raw(url, 'GET', '/metrics', { 'x-api-key': OTHER_ADMIN_KEY })).status, 200, 'another key has its own budget');
    for (let i = 0; i < 5; i++) t.equal((await raw(url, 'GET', '/healthz')).status, 200);
  });

  t.test('base path and X-Forwarded-Prefix in the served OpenAPI document', async (t) => {
    t.match((await raw(url, 'GET', '/openapi.yaml')).text, /\nservers:\n {2}- url: "\/base"\n$/);
    t.match((await raw(url, 'GET', '/openapi.yaml', { 'x-forwarded-prefix': '/llm/' })).text, /\nservers:\n {2}- url: "\/llm"\n$/, 'a trusted prefix wins');
    t.match((await raw(url, 'GET', '/openapi.yaml', { 'x-forwarded-prefix': '/bad prefix"' })).text, /- url: "\/base"\n$/, 'a malformed prefix is ignored');
  });

  t.test('the forwarded host of a trusted proxy is the one checked', async (t) => {
    t.equal((await raw(url, 'GET', '/healthz', { 'x-forwarded-host': 'evil.example' })).status, 200, 'probes are exempt');
    t.equal((await raw(url, 'GET', '/openapi.yaml', { 'x-forwarded-host': 'evil.example' })).status, 403, 'other public routes are not');
    const admin = await raw(url, 'GET', '/metrics', { 'x-api-key': OTHER_ADMIN_KEY, 'x-forwarded-host': 'evil.example' });
    t.equal(admin.status, 403);
    t.match(admin.json(), { code: 'host_not_allowed' });
  });
});

t.test('without trust_proxy, X-Forwarded-* are ignored; no keys: the limit is per client IP', async (t) => {
  const { url } = await startDaemon(t, { rate_limit_per_minute: 2 }, { start: false });
  t.notMatch((await raw(url, 'GET', '/openapi.yaml', { 'x-forwarded-prefix': '/llm' })).text, /\nservers:/, 'no servers entry');
  t.equal((await raw(url, 'GET', '/metrics', { 'x-forwarded-host': 'evil.example' })).status, 200, 'the real Host counts');
  t.equal((await raw(url, 'GET', '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status, 200);
  const limited = await raw(url, 'GET', '/metrics', { 'x-forwarded-for': '203.0.113.10' });
  t.equal(limited.status, 429, 'a spoofed X-Forwarded-For does not buy a new budget');
  t.ok(limited.headers['retry-after']);
});
