// Endpoint path resolution (contract §1.8) and its overrides.
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { defaultRuntimeDir, resolveEndpoints } from '../../src/ipc/paths.js';

t.test('the default runtime directory', async (t) => {
  const table: Array<[string, { XDG_RUNTIME_DIR?: string; HOME?: string }, string]> = [
    ['XDG set', { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' }, '/run/user/1000/inferd'],
    ['XDG set, HOME empty', { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '' }, '/run/user/1000/inferd'],
    ['XDG set, HOME unset', { XDG_RUNTIME_DIR: '/run/user/1000' }, '/run/user/1000/inferd'],
    ['XDG empty, HOME set', { XDG_RUNTIME_DIR: '', HOME: '/home/u' }, '/home/u/.inferd/run'],
    ['XDG unset, HOME set', { HOME: '/home/u' }, '/home/u/.inferd/run'],
    ['XDG empty, HOME empty', { XDG_RUNTIME_DIR: '', HOME: '' }, '/tmp/inferd-1000'],
    ['XDG unset, HOME empty', { HOME: '' }, '/tmp/inferd-1000'],
    ['neither', {}, '/tmp/inferd-1000'],
    ['trailing slash', { XDG_RUNTIME_DIR: '/run/user/1000/' }, '/run/user/1000/inferd'],
  ];
  for (const [name, env, expected] of table) t.equal(defaultRuntimeDir(env, 1000), expected, name);
  t.equal(defaultRuntimeDir({}, 0), '/tmp/inferd-0', 'the uid is the effective uid given');
});

t.test('endpoints: leaves in the runtime dir, each overridable', async (t) => {
  const env = { XDG_RUNTIME_DIR: '/run/user/7' };
  t.same(resolveEndpoints({}, env, 7), {
    runtimeDir: '/run/user/7/inferd',
    runtimeDirDefault: true,
    admin: '/run/user/7/inferd/admin.sock',
    infer: '/run/user/7/inferd/infer.sock',
    lock: '/run/user/7/inferd/inferd.lock',
  });
  t.same(resolveEndpoints({ runtime_dir: '/srv/inferd' }, env, 7), {
    runtimeDir: '/srv/inferd',
    runtimeDirDefault: false,
    admin: '/srv/inferd/admin.sock',
    infer: '/srv/inferd/infer.sock',
    lock: '/srv/inferd/inferd.lock',
  });
  const overridden = resolveEndpoints({ admin_addr: '/a/admin.sock', infer_addr: '/b/gen.sock' }, env, 7);
  t.equal(overridden.admin, '/a/admin.sock');
  t.equal(overridden.infer, '/b/gen.sock');
  t.equal(overridden.lock, '/run/user/7/inferd/inferd.lock', 'the lock stays in the runtime dir');
  t.equal(resolveEndpoints({}, {}, 42).admin, '/tmp/inferd-42/admin.sock');
});

t.test('INFERD_* env vars and --flags reach the endpoints (flags win)', async (t) => {
  const home = '/home/u';
  const env = {
    INFERD_RUNTIME_DIR: '/env/run',
    INFERD_ADMIN_ADDR: '/env/admin.sock',
    INFERD_INFER_ADDR: '~/infer.sock',
  };
  const fromEnv = resolveEndpoints(loadConfig({ env, home }).config, { HOME: home }, 1);
  t.same(fromEnv, {
    runtimeDir: '/env/run',
    runtimeDirDefault: false,
    admin: '/env/admin.sock',
    infer: '/home/u/infer.sock',
    lock: '/env/run/inferd.lock',
  });
  const fromFlags = resolveEndpoints(loadConfig({ env, home, flags: { admin_addr: '/flag/admin.sock', runtime_dir: '/flag/run' } }).config, { HOME: home }, 1);
  t.equal(fromFlags.admin, '/flag/admin.sock');
  t.equal(fromFlags.runtimeDir, '/flag/run');
  t.equal(fromFlags.infer, '/home/u/infer.sock', 'env still applies where no flag is given');
  const plain = resolveEndpoints(loadConfig({ env: {}, home }).config, { HOME: home }, 1);
  t.equal(plain.runtimeDir, '/home/u/.inferd/run', 'nothing set: the algorithm');
});
