// The demo model as a file for tests: built once per machine into a shared cache folder,
// named by its sha256, so every test process after the first just returns the path.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildDemoModel, DEMO_MODELS, type DemoVariant } from '../../src/demo-model/index.js';

export const TEST_MODEL_DIR = path.join(os.tmpdir(), 'inferd-test-models');

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const built = new Map<DemoVariant, Promise<string>>();

/** Path of a demo model file (default: the tiny variant). Safe when test processes race. */
export function demoModelPath(variant: DemoVariant = 'tiny'): Promise<string> {
  let p = built.get(variant);
  if (p === undefined) {
    p = ensure(variant);
    built.set(variant, p);
    p.catch(() => built.delete(variant));
  }
  return p;
}

async function ensure(variant: DemoVariant): Promise<string> {
  const pinned = path.join(TEST_MODEL_DIR, `${DEMO_MODELS[variant].sha256}.gguf`);
  try {
    // A cached file is trusted only if its bytes still hash to its name.
    if (sha256(await readFile(pinned)) === DEMO_MODELS[variant].sha256) return pinned;
  } catch {
    /* not cached yet */
  }
  const bytes = buildDemoModel(variant);
  // Named by the hash of what was actually built: if the pin is stale, the sha test says so
  // and every other test still gets a correct model.
  const target = path.join(TEST_MODEL_DIR, `${sha256(bytes)}.gguf`);
  await mkdir(TEST_MODEL_DIR, { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, target); // atomic: a racing process renames identical bytes over it
  } finally {
    await rm(tmp, { force: true });
  }
  return target;
}
