// Layering of the model store and the downloader (DESIGN.md, "Download apart from storage"):
// src/store/ imports nothing from src/download/, and neither folder has an import cycle, type
// imports included. Reads the real sources and follows their relative imports.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(folder: string): string[] {
  const dir = join(root, 'src', folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Relative imports of a file (static `import`/`export … from`, type-only ones too), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)) {
    out.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

function graphOf(files: string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f).filter((d) => files.includes(d))]));
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of graph.keys()) {
    const c = visit(f);
    if (c) return c.map((p) => relative(root, p));
  }
  return null;
}

t.test('the store imports nothing from the downloader, the CLI or the daemon', async (t) => {
  const store = sources('store');
  t.ok(store.length > 5, 'store sources found');
  const above = store.flatMap((f) =>
    importsOf(f)
      .filter((d) => !d.startsWith(join(root, 'src', 'store')))
      .filter((d) => !['errors.ts', join('config', 'schema.ts')].some((ok) => d === join(root, 'src', ok)))
      .map((d) => `${relative(root, f)} → ${relative(root, d)}`),
  );
  t.same(above, [], 'only src/errors.ts and src/config/schema.ts outside the folder');
});

t.test('no import cycle inside the store, the downloader, or both together', async (t) => {
  const store = sources('store');
  const download = sources('download');
  t.ok(download.length > 5, 'download sources found');
  t.equal(findCycle(graphOf(store)), null);
  t.equal(findCycle(graphOf(download)), null);
  t.equal(findCycle(graphOf([...store, ...download])), null);
});

t.test('the checker sees a cycle when there is one', async (t) => {
  // The old shape: model-store imported store-import and reconcile, which import it back.
  const old = new Map([
    ['model-store', ['store-import', 'reconcile']],
    ['store-import', ['model-store']],
    ['reconcile', ['model-store']],
  ]);
  t.same(findCycle(old), ['model-store', 'store-import', 'model-store']);
  const store = sources('store');
  const ms = store.find((f) => f.endsWith('model-store.ts'))!;
  const imp = store.find((f) => f.endsWith('store-import.ts'))!;
  t.ok(importsOf(imp).includes(ms), 'store-import.ts imports model-store.ts (the edge the parser must see)');
  t.notOk(importsOf(ms).includes(imp), 'model-store.ts no longer imports store-import.ts');
});
