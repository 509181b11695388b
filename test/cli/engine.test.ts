// `inferd engine build` and the doctor's engine lines, without compiling anything: argument
// handling, --dry-run, the "already built" answer when a native build exists, and the threads
// warning on the prebuilt binary. (The real compile takes minutes; it is verified by hand,
// see docs/performance.md.)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { findNativeBuild } from '../../src/engine/native-build.js';
import { CLI } from '../helpers/child-daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'inferd-engine-cli-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));
// CI sets this too: whatever happens, nothing may be fetched or compiled.
const env = { ...process.env, HOME: home, INFERD_CONFIG: '', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' };

async function inferd(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const native = await findNativeBuild();
await native?.dispose();

t.test('engine build: usage errors exit 2', async (t) => {
  const bogus = await inferd(['engine', 'build', '--bogus']);
  t.equal(bogus.code, 2);
  t.match(bogus.stderr, /unknown option '--bogus'/);
  const noSub = await inferd(['engine', 'compile']);
  t.equal(noSub.code, 2, 'an unknown engine subcommand');
});

t.test('engine build --dry-run names the cmake options and the build folder, compiles nothing', async (t) => {
  const dry = await inferd(['engine', 'build', '--dry-run']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /cmake options: GGML_NATIVE=ON GGML_OPENMP=ON/);
  t.match(dry.stdout, /local builds: .*node-llama-cpp\/llama\/localBuilds/);
  t.match(dry.stdout, native ? /native build: present/ : /native build: absent/);
});

t.test('engine build with a native build present says so and does not compile', { skip: native ? false : 'no native build on this machine' }, async (t) => {
  const again = await inferd(['engine', 'build']);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /native build already present/);
});

t.test('doctor: which binary, what a native build gains, and a warning for threads that collapse', async (t) => {
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ model: { path: await demoModelPath('tiny') }, threads: 2, engine_binary: 'prebuilt' }));
  const doctor = await inferd(['doctor', '--config', config, '--url', 'http://127.0.0.1:9']);
  t.match(doctor.stdout, /\[ ok \] llama\.cpp: binding loaded \(prebuilt, prebuilt binary\)/);
  t.match(doctor.stdout, /\[ ok \] native build: not in use; `inferd engine build` .* would gain /);
  t.match(doctor.stdout, /\[warn\] threads: 2: the prebuilt binary restarts its threads for every token/);
  writeFileSync(config, JSON.stringify({ model: { path: await demoModelPath('tiny') }, threads: 1, engine_binary: 'prebuilt' }));
  const one = await inferd(['doctor', '--config', config, '--url', 'http://127.0.0.1:9']);
  t.match(one.stdout, /\[ ok \] threads: 1\n/, 'one thread is fine');
});
