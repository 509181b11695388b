// Writes openapi.yaml from the route schemas: `npm run openapi`. The app is built with idle
// services (nothing is loaded or listened on); only the schemas matter here.
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Admission } from '../admission/admission.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { InferdError } from '../errors.js';
import { InferenceGate } from '../inference/gate.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { Metrics } from '../metrics/metrics.js';
import { StatusBus } from '../status/bus.js';
import { OPENAPI_PATH } from './openapi.js';

export async function generateOpenapiYaml(): Promise<string> {
  const { config } = loadConfig({ env: {}, home: '/nonexistent', configPath: undefined });
  const admission = new Admission({ slots: 1, queueDepth: 0 });
  const unavailable = () => Promise.reject(new InferdError('internal', 'not used while generating the spec'));
  const lifecycle = new Lifecycle({
    bus: new StatusBus(),
    admission,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    drainTimeoutMs: 0,
    target: undefined,
    acquire: unavailable,
    load: unavailable,
  });
  const app = await buildApp({ config, lifecycle, gate: new InferenceGate(lifecycle, admission), metrics: new Metrics() });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  return yaml;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await writeFile(OPENAPI_PATH, await generateOpenapiYaml());
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}
