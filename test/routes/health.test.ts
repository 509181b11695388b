// Liveness, readiness, metrics and the served OpenAPI document.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { request } from 'undici';
import { OPENAPI_PATH } from '../../src/http/openapi.js';
import { startDaemon } from '../helpers/daemon.js';
import { inferNdjson } from '../helpers/http.js';

t.test('health, metrics and the spec', async (t) => {
  const { url } = await startDaemon(t);

  const live = await request(`${url}/healthz`);
  t.equal(live.statusCode, 200);
  t.same(await live.body.json(), { status: 'ok' });

  const ready = await request(`${url}/readyz`);
  t.equal(ready.statusCode, 200);
  t.same(await ready.body.json(), { id: 'admin', type: 'status', status: 'ready' });

  await inferNdjson(url, { id: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, grammar: 'root ::= [a-z]+' });
  const metrics = await request(`${url}/metrics`);
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = await metrics.body.text();
  t.match(text, /inferd_requests_total\{route="infer",outcome="length"\} 1\n/);
  t.match(text, /inferd_completion_tokens_total\{route="infer"\} 5\n/);
  t.match(text, /inferd_time_to_first_token_seconds_count\{route="infer"\} 1\n/);
  t.match(text, /^inferd_ready 1$/m);
  t.match(text, /^inferd_slots 1$/m);
  t.match(text, /^inferd_requests_active 0$/m);
  t.match(text, /inferd_model_info\{path="[^"]+",name="inferd-demo-tiny",n_ctx="8192"\} 1/);

  const spec = await request(`${url}/openapi.yaml`);
  t.equal(spec.statusCode, 200);
  t.match(spec.headers['content-type'], /yaml/);
  t.equal(await spec.body.text(), await readFile(OPENAPI_PATH, 'utf8'), 'serves the committed spec');

  const missing = await request(`${url}/nope`);
  t.equal(missing.statusCode, 404);
  t.match(await missing.body.json(), { type: 'error', code: 'not_found', message: 'no route for GET /nope' });
});
