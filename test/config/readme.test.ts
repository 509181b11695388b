// The README's configuration table lists every config key with its env variable and default.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { envName } from '../../src/config/load.js';
import { ConfigSchema, type ConfigKey } from '../../src/config/schema.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('<!-- config-table:start -->'), readme.indexOf('<!-- config-table:end -->'));

t.test('every config key is documented in the README table', async (t) => {
  t.ok(table.length > 0, 'the README has the config table markers');
  const rows = new Map(
    table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => [/^\| `([a-z_]+)`/.exec(line)?.[1] ?? '', line]),
  );
  for (const key of Object.keys(ConfigSchema.properties) as ConfigKey[]) {
    const row = rows.get(key);
    t.ok(row, `README documents ${key}`);
    if (!row) continue;
    t.ok(row.includes(`\`${envName(key)}\``), `${key}: env ${envName(key)}`);
    const fallback = (ConfigSchema.properties[key] as { default?: unknown }).default;
    if (fallback !== undefined) {
      const shown = typeof fallback === 'string' ? fallback : JSON.stringify(fallback);
      t.ok(row.includes(`\`${shown}\``), `${key}: default ${shown}`);
    }
  }
  t.equal(rows.size, Object.keys(ConfigSchema.properties).length, 'no rows for keys that do not exist');
});
