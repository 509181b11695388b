import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { isInferdError } from '../../src/errors.js';

const home = mkdtempSync(join(tmpdir(), 'inferd-config-'));
/** Every temp dir this file makes, removed when the file's tests end. */
const made: string[] = [home];
t.teardown(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-cfgfile-'));
  made.push(dir);
  const path = join(dir, 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isInferdError(err) && err.code === 'config_invalid') return err.message;
    throw err;
  }
  throw new Error('expected a config_invalid error');
}

t.test('defaults with no file, env or flags', async (t) => {
  const { config, file } = loadConfig({ env: {}, home });
  t.equal(file, null, 'a missing default config file is not an error');
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 47321);
  t.equal(config.n_ctx, 8192);
  t.equal(config.parallel, 1);
  t.equal(config.queue_depth, 10);
  t.equal(config.body_limit, 64 * 1024 * 1024);
  t.equal(config.drain_timeout_ms, 30000);
  t.equal(config.models_home, join(home, '.inferd/models'), '~ expands to the home directory');
  t.equal(config.model, undefined, 'no model: the demo model');
  t.equal(config.threads, undefined, 'threads default is decided per model');
});

t.test('flags beat env, env beats the file, the file beats defaults', async (t) => {
  const file = configFile({ port: 1111, n_ctx: 1024, parallel: 2, queue_depth: 3 });
  const env = { INFERD_CONFIG: file, INFERD_PORT: '2222', INFERD_N_CTX: '2048' };
  const { config, origin } = loadConfig({ env, home, flags: { port: '3333' } });
  t.equal(config.port, 3333, 'flag wins');
  t.equal(config.n_ctx, 2048, 'env beats file');
  t.equal(config.parallel, 2, 'file beats default');
  t.equal(config.queue_depth, 3);
  t.same(origin, { port: 'flag', n_ctx: 'env', parallel: 'file', queue_depth: 'file' });
});

t.test('--model and INFERD_MODEL set a local model path', async (t) => {
  const fromEnv = loadConfig({ env: { INFERD_MODEL: '/models/a.gguf' }, home });
  t.same(fromEnv.config.model, { path: '/models/a.gguf' });
  const fromFlag = loadConfig({ env: { INFERD_MODEL: '/models/a.gguf' }, home, flags: { model: '~/b.gguf' } });
  t.same(fromFlag.config.model, { path: join(home, 'b.gguf') });
});

t.test('a remote model from the config file', async (t) => {
  const model = { name: 'tiny', sha256: 'a'.repeat(64), source_url: 'https://example.com/tiny.gguf', size_bytes: 10 };
  const { config } = loadConfig({ configPath: configFile({ model }), env: {}, home });
  t.same(config.model, model);
});

t.test('invalid values name the key, the value and where it came from', async (t) => {
  t.match(failure(() => loadConfig({ env: {}, home, flags: { n_ctx: 'abc' } })), /n_ctx = "abc" \(from --n-ctx\): must be an integer from 16/);
  t.match(failure(() => loadConfig({ env: { INFERD_PORT: '70000' }, home })), /port = 70000 \(from INFERD_PORT\): must be an integer from 0 to 65535/);
  t.match(failure(() => loadConfig({ env: { INFERD_PARALLEL: '0' }, home })), /parallel = 0 .*must be an integer from 1 to 64/);
  t.match(failure(() => loadConfig({ env: { INFERD_AUTO_PULL: 'maybe' }, home })), /auto_pull = "maybe" .*must be true or false/);
  t.match(failure(() => loadConfig({ env: { INFERD_LOG_LEVEL: 'loud' }, home })), /log_level = "loud" .*must be one of fatal, error/);
  t.match(failure(() => loadConfig({ env: { INFERD_SSE_HEARTBEAT_MS: '3000000000' }, home })), /sse_heartbeat_ms = 3000000000 .*from 100 to 2147483647/, 'no timer overflow');
  const file = configFile({ queue_depth: -1 });
  t.match(failure(() => loadConfig({ configPath: file, env: {}, home })), new RegExp(`queue_depth = -1 \\(from ${file}\\)`));
});

t.test('remote model validation: sha256 and https', async (t) => {
  const base = { name: 'm', sha256: 'a'.repeat(64), source_url: 'https://example.com/m.gguf' };
  t.match(failure(() => loadConfig({ configPath: configFile({ model: { ...base, sha256: 'A'.repeat(64) } }), env: {}, home })), /model = .*sha256/);
  t.match(failure(() => loadConfig({ configPath: configFile({ model: { ...base, source_url: 'http://example.com/m.gguf' } }), env: {}, home })), /model = .*https/);
  t.match(failure(() => loadConfig({ configPath: configFile({ model: { ...base, name: '../evil' } }), env: {}, home })), /model = /);
});

t.test('file problems are clear', async (t) => {
  t.match(failure(() => loadConfig({ configPath: configFile('{not json'), env: {}, home })), /is not valid JSON/);
  t.match(failure(() => loadConfig({ configPath: configFile([1, 2]), env: {}, home })), /must hold a JSON object/);
  t.match(failure(() => loadConfig({ configPath: configFile({ prot: 1 }), env: {}, home })), /unknown key "prot"/);
  t.match(failure(() => loadConfig({ configPath: join(home, 'nope.json'), env: {}, home })), /cannot read config file/);
});
