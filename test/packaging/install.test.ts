// The package installs like a tool: `npm pack` in a clean copy of the repo (no dist/ yet) builds
// in prepack and ships only what runs; `npm install -g --prefix` of that tarball gives an
// `inferd` that works from any directory, with no repo file needed at runtime.
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };

// What a clean clone has that the build and the package need; no dist/.
const CLONE_ENTRIES = ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'LICENSE', 'openapi.yaml', 'src', 'routes', 'web'];

t.test('npm pack, npm install -g --prefix, then inferd from anywhere', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'inferd-pack-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const clone = join(root, 'clone');
  await mkdir(clone);
  for (const entry of CLONE_ENTRIES) {
    await cp(join(REPO, entry), join(clone, entry), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // LICENSE and web/ are optional
    });
  }
  // The dependencies a clean clone gets from `npm ci`, without installing them again.
  await symlink(await realpath(join(REPO, 'node_modules')), join(clone, 'node_modules'), 'dir');

  const env = { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true', npm_config_update_notifier: 'false', npm_config_loglevel: 'error' };
  const packed = await run('npm', ['pack', '--json', '--pack-destination', root], { cwd: clone, env, maxBuffer: 64 << 20 });
  const [manifest] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = manifest!.files.map((f) => f.path);

  t.test('the tarball ships only what runs', async (t) => {
    t.ok(files.includes('dist/src/cli/main.js'), 'the bin, built by prepack');
    t.ok(files.includes('dist/routes/metrics.js'), 'the routes');
    t.ok(files.includes('openapi.yaml'), 'the spec GET /openapi.yaml serves');
    t.ok(files.some((f) => f.startsWith('dist/src/demo-model/')), 'the demo model builder');
    const stray = files.filter((f) => !/^(dist\/(src|routes)\/.+\.js|web\/.+|openapi\.yaml|README\.md|LICENSE|package\.json)$/.test(f));
    t.same(stray, [], 'no tests, bench, sources, maps or build info');
  });

  const prefix = join(root, 'prefix');
  const started = performance.now();
  // The npm cache is warm after `npm ci`: install from it. node-llama-cpp's prebuilt binaries
  // are optional dependencies, so nothing is downloaded or compiled.
  await run('npm', ['install', '-g', '--prefix', prefix, join(root, manifest!.filename), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: root, env, maxBuffer: 64 << 20 });
  t.comment(`npm install -g took ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const bin = join(prefix, 'bin', 'inferd');
  const installed = join(prefix, 'lib', 'node_modules', 'inferd');
  const home = join(root, 'home');
  const elsewhere = join(root, 'elsewhere');
  await mkdir(home);
  await mkdir(elsewhere);
  // A clean environment: no repo on the path, a fresh HOME, nothing of the test's config.
  const userEnv = { PATH: process.env.PATH ?? '', HOME: home, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' };

  t.test('the bin is an executable script with a node shebang', async (t) => {
    await access(bin, constants.X_OK);
    t.match(await readFile(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    t.notOk((await readdir(installed)).includes('test'), 'no tests installed');
  });

  t.test('inferd --version', async (t) => {
    const { stdout } = await run(bin, ['--version'], { cwd: elsewhere, env: userEnv });
    t.equal(stdout.trim(), pkg.version);
  });

  t.test('inferd serve with the demo model, then inferd status', async (t) => {
    const child = spawn(bin, ['serve', '--port', '0'], { cwd: elsewhere, env: userEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = /"url":"(http:\/\/[^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`inferd exited (${code}) before listening:\n${stderr}`)));
    });
    const status = await run(bin, ['status', '--url', url, '--wait', '60'], { cwd: elsewhere, env: userEnv });
    t.match(status.stderr, /\bready\n$/, 'inferd status follows the daemon until ready');
    const ready = await request(`${url}/readyz`);
    t.equal(ready.statusCode, 200);
    await ready.body.dump();
    t.match(stderr, new RegExp(`"path":"${home}/\\.inferd/models/[^"]+","msg":"building the built-in demo model"`), 'the demo model is built by the installed package into the fresh HOME');
    const spec = await request(`${url}/openapi.yaml`);
    t.equal(spec.statusCode, 200, 'the spec is found inside the installed package');
    t.equal(await spec.body.text(), await readFile(join(installed, 'openapi.yaml'), 'utf8'));
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'a clean exit on SIGTERM');
  });
});
