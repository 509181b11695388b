// `inferd serve` fixes glibc's mmap threshold (reloads otherwise grow RSS): by replacing itself
// where Node has process.execve, and by a hint in the log where it has not.
import t from 'tap';
import { applyMallocPlan, MMAP_THRESHOLD, mallocPlan } from '../../src/cli/malloc-env.js';

t.test('the plan', async (t) => {
  t.same(mallocPlan(['serve', '--port', '1'], {}, 'linux', true), { action: 'reexec', env: { MALLOC_MMAP_THRESHOLD_: MMAP_THRESHOLD } });
  t.equal(mallocPlan(['serve'], {}, 'linux', false).action, 'hint', 'without execve: a hint');
  t.match(mallocPlan(['serve'], {}, 'linux', false), { message: /MALLOC_MMAP_THRESHOLD_=131072/ });
  t.equal(mallocPlan(['status'], {}, 'linux', true).action, 'keep', 'other commands are left alone');
  t.equal(mallocPlan(['serve', '--help'], {}, 'linux', true).action, 'keep', 'help does not re-execute');
  t.equal(mallocPlan(['serve'], {}, 'darwin', true).action, 'keep', 'not glibc');
  t.equal(mallocPlan(['serve'], { MALLOC_MMAP_THRESHOLD_: '65536' }, 'linux', true).action, 'keep', "the user's value wins");
  t.equal(mallocPlan(['serve'], { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=4096' }, 'linux', true).action, 'keep', "the user's tunable wins");
  t.equal(mallocPlan(['serve'], { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' }, 'linux', true).action, 'reexec', 'other tunables do not count');
});

t.test('applying it replaces the process with the same arguments and the setting added', async (t) => {
  const calls: Array<{ file: string; args: readonly string[]; env: NodeJS.ProcessEnv }> = [];
  const fake = {
    argv: ['/usr/bin/node', '/opt/inferd/main.js', 'serve', '--port', '8080'],
    execArgv: ['--max-semi-space-size=2'],
    execPath: '/usr/bin/node',
    env: { PATH: '/usr/bin' },
    platform: 'linux',
    execve(file: string, args: readonly string[], env: NodeJS.ProcessEnv) {
      calls.push({ file, args, env });
    },
  } as unknown as NodeJS.Process;
  applyMallocPlan(fake);
  t.same(calls, [
    {
      file: '/usr/bin/node',
      args: ['/usr/bin/node', '--max-semi-space-size=2', '/opt/inferd/main.js', 'serve', '--port', '8080'],
      env: { PATH: '/usr/bin', MALLOC_MMAP_THRESHOLD_: '131072' },
    },
  ]);

  const without = { ...fake, execve: undefined } as unknown as NodeJS.Process;
  t.doesNotThrow(() => applyMallocPlan(without), 'Node without execve carries on');
  t.equal(calls.length, 1);
});
