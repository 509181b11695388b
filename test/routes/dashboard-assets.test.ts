// The dashboard's assets stay small (< 150 KB before compression, uPlot included) and every
// URL in them is relative, so the page works below a proxy prefix such as /llm/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { UPLOT_ROOT, VENDOR_FILES, WEB_ROOT } from '../../src/http/web-assets.js';

const BUDGET = 150 * 1024;

t.test('the assets fit the budget', async (t) => {
  const web = readdirSync(WEB_ROOT).filter((f) => !f.endsWith('.md')).map((f) => join(WEB_ROOT, f));
  const vendor = Object.values(VENDOR_FILES).map((f) => join(UPLOT_ROOT, f));
  const total = [...web, ...vendor].reduce((sum, path) => sum + statSync(path).size, 0);
  t.ok(web.length >= 3, 'web/ holds the page');
  t.ok(total < BUDGET, `${total} bytes < ${BUDGET}`);
});

t.test('every URL is relative', async (t) => {
  for (const file of readdirSync(WEB_ROOT).filter((f) => /\.(html|js|css)$/.test(f))) {
    const text = readFileSync(join(WEB_ROOT, file), 'utf8');
    const urls = [...text.matchAll(/(?:src|href)="([^"]+)"|fetch\('([^']+)'|follow\('([^']+)'|import .* from '([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
    for (const url of urls) t.notOk(/^(\/|https?:)/.test(url), `${file}: ${url} is relative`);
  }
});
