// The Kubernetes manifests parse, probe the right paths on the right port, and give the drain
// the time the config's defaults need.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
type Doc = { kind: string; metadata: { name: string }; [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(dir + f, 'utf8')).map((d) => d.toJS() as Doc));
const byKind = (kind: string) => docs.find((d) => d.kind === kind)!;
const defaultOf = (key: 'port' | 'drain_timeout_ms') => (ConfigSchema.properties[key] as unknown as { default: number }).default;

t.test('manifests', async (t) => {
  const dep = byKind('Deployment');
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  const config = JSON.parse(byKind('ConfigMap').data['config.json']);
  t.equal(c.ports[0].containerPort, config.port ?? defaultOf('port'), 'container port = config port');
  t.equal(c.ports[0].name, 'http');
  for (const probe of ['startupProbe', 'readinessProbe']) t.same(c[probe].httpGet, { path: '/readyz', port: 'http' }, `${probe} on /readyz`);
  t.same(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  t.equal(byKind('Service').spec.ports[0].targetPort, 'http');
  const drainMs = config.drain_timeout_ms ?? defaultOf('drain_timeout_ms');
  t.equal(drainMs, defaultOf('drain_timeout_ms'), 'the ConfigMap keeps the default drain timeout');
  const preStop = Number(c.lifecycle.preStop.exec.command[1]);
  t.ok(pod.terminationGracePeriodSeconds > preStop + drainMs / 1000, 'grace period > preStop + drain_timeout_ms');
  t.equal(config.host, '0.0.0.0');
  t.ok(c.env.some((e: { name: string; valueFrom?: { secretKeyRef?: unknown } }) => e.name === 'INFERD_API_KEY' && e.valueFrom?.secretKeyRef));
  t.ok(pod.volumes.some((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim), 'model store on a volume');
  t.ok(c.resources.requests.cpu && c.resources.requests.memory);
});
