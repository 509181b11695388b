// The built-in demo model: a real llama.cpp GGUF (a token-bigram language model over a few
// pages of our own prose about inferd) built in memory, byte-for-byte identical on every build,
// so the daemon can serve something out of the box with no network. See model-builder.ts.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { InferdError } from '../errors.js';
import { buildDemoGguf, type DemoBuildOptions } from './model-builder.js';

export type DemoVariant = 'default' | 'tiny';

export interface DemoModelSpec {
  name: string;
  variant: DemoVariant;
  sha256: string;
  sizeBytes: number;
}

// Chosen by measurement (see the demo-model report): more merges give word-sized tokens and
// more English-like bigrams; one layer with one narrow attention head keeps the per-token work
// at one table lookup plus one n_embd x n_vocab product.
const SHARED = {
  nLayer: 1,
  nHead: 1,
  nHeadKv: 1,
  headDim: 32,
  nFf: 32,
  f16: true,
  // The daemon's default n_ctx; a smaller train length makes llama.cpp warn on every context.
  contextLength: 8192,
  embdMultiple: 32,
  bigram: { backoff: 0.3, eosAfterSentence: 0.2, eosAfterParagraph: 0.45, eosAfterNewline: 0.002 },
} as const;

export const DEMO_BUILD_OPTIONS: Readonly<Record<DemoVariant, Readonly<DemoBuildOptions>>> = {
  default: { ...SHARED, name: 'inferd-demo', merges: 1536 },
  tiny: { ...SHARED, name: 'inferd-demo-tiny', merges: 768 },
};

/** Pinned identities of the built bytes. Editing the corpus or the recipe changes them. */
export const DEMO_MODELS: Readonly<Record<DemoVariant, DemoModelSpec>> = {
  default: {
    name: 'inferd-demo',
    variant: 'default',
    sha256: '98ba89daa2e7a4bbccf0b4a27aebcce8624dea20b9177c7e8cce00241c363696',
    sizeBytes: 11_603_968,
  },
  tiny: {
    name: 'inferd-demo-tiny',
    variant: 'tiny',
    sha256: '90d79ffe5a0c741b3adbeefe59bdaee2f94ac1e54b61026e4c3bad086e88c1fa',
    sizeBytes: 3_990_752,
  },
};

/** The GGUF bytes of a demo variant (about 0.3 s for tiny, 0.6 s for default). */
export function buildDemoModel(variant: DemoVariant = 'default'): Buffer {
  return buildDemoGguf(DEMO_BUILD_OPTIONS[variant]).buffer;
}

/**
 * Builds a variant and writes it to `outPath` atomically: a temp file in the same folder,
 * fsync, rename, then a best-effort fsync of the folder. Readers never see a partial file.
 * The returned sha256 is of the bytes written; compare it with DEMO_MODELS to verify.
 */
export async function writeDemoModel(
  outPath: string,
  variant: DemoVariant = 'default',
): Promise<{ path: string; sha256: string; sizeBytes: number }> {
  const target = path.resolve(outPath);
  const dir = path.dirname(target);
  const bytes = buildDemoModel(variant);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    const reason = err instanceof Error ? err.message : String(err);
    throw new InferdError('store_invalid', `cannot write the demo model to ${target}: ${reason}`, { cause: err });
  }
  await syncDir(dir);
  return { path: target, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems refuse fsync on a directory.
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* best effort */
  }
}
