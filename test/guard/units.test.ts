// The guard's pure parts: key files, the bind policy, Host parsing, trust lists, tickets, and
// the configuration of keys (INFERD_API_KEY, env lists, errors that never show a key).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { checkBind } from '../../src/guard/bind-policy.js';
import { HostPolicy, hostName } from '../../src/guard/hosts.js';
import { KeyRing } from '../../src/guard/keys.js';
import { redactUrl } from '../../src/guard/log-safety.js';
import { OriginPolicy } from '../../src/guard/origins.js';
import { TicketStore } from '../../src/guard/tickets.js';
import { compileTrustList } from '../../src/guard/trust-proxy.js';

t.test('api_keys_file: scopes, comments, re-read keeps the old keys on error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keys');
  writeFileSync(file, '# team keys\nalice-inference-key-000000\nadmin owner-admin-key-0000000   # me\n\n');
  const ring = new KeyRing({ api_keys: [], api_keys_file: file });
  t.same(ring.counts(), { admin: 1, inference: 1 });
  t.equal(ring.match('alice-inference-key-000000')?.scope, 'inference');
  t.equal(ring.match('owner-admin-key-0000000')?.scope, 'admin');
  t.equal(ring.match('owner-admin-key-000000'), null, 'a prefix is not a key');
  writeFileSync(file, 'bob-inference-key-0000000\n');
  ring.reloadFile();
  t.equal(ring.match('alice-inference-key-000000'), null, 'a removed key stops working');
  t.equal(ring.match('bob-inference-key-0000000')?.scope, 'inference');
  writeFileSync(file, 'root short\n');
  t.throws(() => ring.reloadFile(), { code: 'config_invalid' });
  t.equal(ring.match('bob-inference-key-0000000')?.scope, 'inference', 'the previous keys stay after a bad file');
  rmSync(file);
  t.throws(() => ring.reloadFile(), /cannot read api_keys_file/);
});

t.test('bind policy', async (t) => {
  t.same(checkBind({ host: '127.0.0.1', port: 1, insecure_no_auth: false }, false), { ok: true });
  t.same(checkBind({ host: '::1', port: 1, insecure_no_auth: false }, false), { ok: true });
  t.same(checkBind({ host: '0.0.0.0', port: 1, insecure_no_auth: false }, true), { ok: true });
  const refused = checkBind({ host: '0.0.0.0', port: 1, insecure_no_auth: false }, false);
  t.equal(refused.ok, false);
  t.match(refused, { message: /INFERD_API_KEY.*--insecure-no-auth/ });
  t.match(checkBind({ host: '192.168.1.5', port: 1, insecure_no_auth: true }, false), { ok: true, warning: /INSECURE/ });
});

t.test('Host parsing and policy', async (t) => {
  t.equal(hostName('[::1]:8080'), '::1');
  t.equal(hostName('Example.COM:80'), 'example.com');
  t.equal(hostName('a:b:c'), null);
  const policy = new HostPolicy(['llm.lan', '*.corp.test'], '192.168.1.5');
  for (const ok of ['localhost', '127.0.0.9:1', '[::1]', 'llm.lan:443', 'x.corp.test', '192.168.1.5:47321']) t.ok(policy.allows(ok), ok);
  for (const bad of ['evil.example', 'corp.test', 'llm.lan.evil.example', 'xcorp.test', '', '192.168.1.6', 'localhost.evil.example']) t.notOk(policy.allows(bad), bad);
  t.notOk(policy.allows(undefined));
  t.notOk(new HostPolicy([], '0.0.0.0').allows('0.0.0.0'), 'a wildcard bind is not a name');
});

t.test('origins', async (t) => {
  const loopback = new OriginPolicy(undefined);
  for (const ok of ['http://localhost:5173', 'http://127.0.0.1', 'http://[::1]:8080']) t.ok(loopback.allows(ok), ok);
  for (const bad of ['https://localhost.evil.example', 'http://localhost:5173.evil.example', 'null', 'http://evil.example']) t.notOk(loopback.allows(bad), bad);
  const exact = new OriginPolicy(['https://dash.example.com']);
  t.ok(exact.allows('https://dash.example.com'));
  t.notOk(exact.allows('http://dash.example.com'));
  t.notOk(exact.allows('http://localhost:3000'), 'the list replaces the default');
});

t.test('trust lists', async (t) => {
  const trusted = compileTrustList(['10.0.0.0/8', '::1', 'loopback']);
  t.ok(trusted('10.1.2.3'));
  t.ok(trusted('::ffff:10.1.2.3'), 'IPv4-mapped');
  t.ok(trusted('127.0.0.1'));
  t.notOk(trusted('192.168.0.1'));
  t.throws(() => compileTrustList(['not-an-ip']), { code: 'config_invalid' });
  t.throws(() => compileTrustList(['10.0.0.0/99']), { code: 'config_invalid' });
});

t.test('tickets: single use, expiring', async (t) => {
  let now = 1_000_000;
  const store = new TicketStore(() => now);
  const { ticket, expires_in } = store.issue();
  t.ok(expires_in <= 60);
  t.ok(store.consume(ticket));
  t.notOk(store.consume(ticket), 'spent');
  const late = store.issue().ticket;
  now += 60_001;
  t.notOk(store.consume(late), 'expired');
  t.notOk(store.consume('nonsense'));
});

t.test('log redaction of ticket URLs', async (t) => {
  t.equal(redactUrl('/admin/status?ticket=abc&format=sse'), '/admin/status?ticket=[redacted]&format=sse');
  t.equal(redactUrl('/admin/status?format=sse&TICKET=abc'), '/admin/status?format=sse&TICKET=[redacted]');
});

t.test('key configuration', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'inferd-keycfg-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const { config, origin } = loadConfig({ env: { INFERD_API_KEY: 'owner-admin-key-from-env-0', INFERD_API_KEYS: 'inference-key-one-000000, inference-key-two-000000' }, home });
  t.same(config.api_keys, ['inference-key-one-000000', 'inference-key-two-000000', { key: 'owner-admin-key-from-env-0', scope: 'admin' }]);
  t.equal(origin.api_keys, 'env');
  const lists = loadConfig({ env: { INFERD_ALLOWED_HOSTS: 'a.lan,*.b.lan', INFERD_TRUST_PROXY: '10.0.0.0/8, loopback', INFERD_CORS_ORIGINS: 'https://x.example' }, home }).config;
  t.same(lists.allowed_hosts, ['a.lan', '*.b.lan']);
  t.same(lists.trust_proxy, ['10.0.0.0/8', 'loopback']);
  t.same(lists.cors_origins, ['https://x.example']);
  t.equal(loadConfig({ env: { INFERD_TRUST_PROXY: '2' }, home }).config.trust_proxy, 2);
  t.equal(loadConfig({ env: { INFERD_TRUST_PROXY: 'false' }, home }).config.trust_proxy, false);
  try {
    loadConfig({ env: { INFERD_API_KEY: 'short-secret' }, home });
    t.fail('a short key is refused');
  } catch (err) {
    t.match((err as Error).message, /api_keys .*INFERD_API_KEY.*16/);
    t.notOk((err as Error).message.includes('short-secret'), 'the error never shows the key');
  }
});
