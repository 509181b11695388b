// api_keys_file in a real `inferd serve` process: SIGHUP re-reads it, so a revoked key stops
// working and a new one starts working without a restart (the same process keeps serving).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';

const OLD_KEY = 'old-inference-key-0123456789abcdef';
const NEW_KEY = 'new-inference-key-0123456789abcdef';

t.test('SIGHUP re-reads api_keys_file in a running daemon', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keysFile = join(dir, 'keys');
  writeFileSync(keysFile, `# the team's keys\n${OLD_KEY}\n`);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ api_keys_file: keysFile, models_home: join(dir, 'models'), unix_sockets: false, log_format: 'json' }));
  const daemon = await spawnDaemon(t, ['--config', config, '--threads', '1', '--model', await demoModelPath('tiny')]);

  const statusWith = async (key: string) => {
    const res = await request(`${daemon.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    await res.body.dump();
    return res.statusCode;
  };
  const firstAdminFrame = async () => {
    const res = await request(`${daemon.url}/admin/status?format=ndjson`, { headers: { authorization: `Bearer ${NEW_KEY}` } });
    t.equal(res.statusCode, 200);
    for await (const chunk of res.body) {
      res.body.destroy();
      return String(chunk);
    }
    return '';
  };
  for (let i = 0; i < 100 && (await statusWith(OLD_KEY)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(await statusWith(OLD_KEY), 200, 'the key in the file works');
  t.equal(await statusWith(NEW_KEY), 401, 'a key not in the file does not');

  // Rotate: the old key out, a new one in (as an admin key, so it may read /admin/status too).
  writeFileSync(keysFile, `# rotated\nadmin ${NEW_KEY}\n`);
  daemon.child.kill('SIGHUP');
  for (let i = 0; i < 100 && !/API keys re-read/.test(daemon.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(daemon.stderr(), /API keys re-read/, 'the daemon says it re-read the keys');
  t.equal(await statusWith(OLD_KEY), 401, 'the revoked key is refused at once');
  // SIGHUP also reloads the model: the new key may meet a 503 while it restarts.
  let code = 0;
  for (let i = 0; i < 200 && (code = await statusWith(NEW_KEY)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(code, 200, 'the new key works');
  t.equal(daemon.child.exitCode, null, 'same process: no restart');
  t.notMatch(daemon.stderr(), new RegExp(`${OLD_KEY}|${NEW_KEY}`), 'no key in the log');
  const first = await firstAdminFrame();
  t.match(first, /"status":/, 'admin stream readable with the new admin key');
});
