import { readFile } from 'node:fs/promises';
import t from 'tap';
import { generateOpenapiYaml } from '../../src/http/openapi-generate.js';
import { OPENAPI_PATH } from '../../src/http/openapi.js';

t.test('openapi.yaml is generated from the route schemas and committed without drift', async (t) => {
  const generated = await generateOpenapiYaml();
  const committed = await readFile(OPENAPI_PATH, 'utf8').catch(() => '');
  t.ok(generated.includes('/infer:'), 'the spec has the inference route');
  t.ok(generated.includes('/admin/status:'), 'the spec has the admin stream');
  t.equal(committed, generated, 'openapi.yaml is out of date: run `npm run openapi` and commit it');
});
