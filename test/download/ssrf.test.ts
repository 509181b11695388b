// Download hardening (issue 10 item 8): the address policy, refusal of private and metadata
// hosts before any request, a pinned address per host (a second DNS answer is never used),
// redirect targets checked the same way, max_model_bytes while streaming, redacted source_url.
import { readdir, stat } from 'node:fs/promises';
import type { LookupAddress } from 'node:dns';
import t, { type Test } from 'tap';
import { classifyAddress, isMetadataHost } from '../../src/download/address-policy.js';
import { pullModel } from '../../src/download/pull.js';
import { ggufLikePayload, sha256Hex, startHttpsServer, TEST_HOSTNAME } from '../helpers/https-server.js';
import { collect, tempStore } from '../store/fixtures/temp-store.js';

const KiB = 1024;

t.test('address policy', async (t) => {
  for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001:82a::200e']) {
    t.equal(classifyAddress(ip), 'public', ip);
  }
  const privates = [
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254',
    '169.254.1.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', '::1', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '::127.0.0.1',
    '64:ff9b::a00:1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', 'not-an-ip',
  ];
  for (const ip of privates) t.equal(classifyAddress(ip), 'private', ip);
  for (const ip of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '100.100.100.200']) t.equal(classifyAddress(ip), 'metadata', ip);
  t.ok(isMetadataHost('metadata.google.internal'));
  t.ok(isMetadataHost('METADATA.google.internal.'), 'case and trailing dot do not matter');
  t.notOk(isMetadataHost('metadata.google.internal.example.com'));
});

async function server(t: Test, routes: Parameters<typeof startHttpsServer>[0]) {
  const s = await startHttpsServer(routes);
  t.teardown(() => s.close());
  return s;
}

/** Everything under the store's blobs/ and manifests/ beyond the empty layout (a refused pull must leave nothing). */
async function storeFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const top of ['blobs', 'manifests']) {
    for (const entry of await readdir(`${root}/${top}`, { recursive: true })) out.push(`${top}/${entry}`);
  }
  return out.filter((p) => p !== 'blobs/sha256');
}

t.test('a loopback host is refused without allowPrivate: coded error, no request, nothing stored', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const s = await server(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const events = collect();
  const err = await pullModel(store, { name: 'm', sha256: sha256Hex(body), url: s.url('/m.gguf') }, { caPem: s.ca, onEvent: events.onEvent }).catch(
    (e: unknown) => e,
  );
  t.match(err, { code: 'url_not_allowed', status: 400, detail: { reason: 'private_address', host: '127.0.0.1' }, message: /pull_allow_private/ });
  t.equal(s.log.length, 0, 'no request reached the server');
  t.same(await storeFiles(store.root), [], 'no partial, blob or manifest');
  t.same(events.phases(), ['checking_local'], 'no download frame');
});

t.test('a name resolving to a private address is refused; the resolver answer is what is checked', async (t) => {
  const s = await server(t, {});
  const { store } = await tempStore(t);
  const url = `https://${TEST_HOSTNAME}:${s.port}/m.gguf`;
  const resolveHost = async (): Promise<LookupAddress[]> => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }];
  const err = await pullModel(store, { name: 'm', sha256: 'a'.repeat(64), url }, { caPem: s.ca, resolveHost }).catch((e: unknown) => e);
  t.match(err, { code: 'url_not_allowed', detail: { reason: 'private_address', host: TEST_HOSTNAME, address: '10.0.0.5' } }, 'one private answer is enough');
  t.equal(s.log.length, 0);
  t.same(await storeFiles(store.root), []);
});

t.test('metadata hosts are refused by name and by address, even with allowPrivate', async (t) => {
  const s = await server(t, {});
  const { store } = await tempStore(t);
  let resolved = 0;
  const resolveHost = async (): Promise<LookupAddress[]> => {
    resolved++;
    return [{ address: '169.254.169.254', family: 4 }];
  };
  const opts = { caPem: s.ca, allowPrivate: true, resolveHost };
  const byName = await pullModel(store, { name: 'm', sha256: 'a'.repeat(64), url: 'https://metadata.google.internal/computeMetadata/v1/' }, opts).catch((e: unknown) => e);
  t.match(byName, { code: 'url_not_allowed', detail: { reason: 'metadata_address' } });
  t.equal(resolved, 0, 'refused by name, before any DNS query');
  const byAddr = await pullModel(store, { name: 'm', sha256: 'a'.repeat(64), url: 'https://169.254.169.254/latest/meta-data/' }, opts).catch((e: unknown) => e);
  t.match(byAddr, { code: 'url_not_allowed', detail: { reason: 'metadata_address' } });
  const viaDns = await pullModel(store, { name: 'm', sha256: 'a'.repeat(64), url: `https://${TEST_HOSTNAME}/x` }, opts).catch((e: unknown) => e);
  t.match(viaDns, { code: 'url_not_allowed', detail: { reason: 'metadata_address', address: '169.254.169.254' } });
});

t.test('the checked address is pinned: the connection uses it, a later DNS answer is never asked for', async (t) => {
  const body = ggufLikePayload(96 * KiB);
  const s = await server(t, {
    '/start': { kind: 'redirect', location: `https://${TEST_HOSTNAME}:0/never` }, // replaced below
    '/m.gguf': { kind: 'file', body },
  });
  const base = `https://${TEST_HOSTNAME}:${s.port}`;
  s.route('/start', { kind: 'redirect', location: `${base}/m.gguf` });
  const answers: string[] = [];
  // First answer: the test server. Any later answer would point at a black hole (TEST-NET-1).
  const resolveHost = async (host: string): Promise<LookupAddress[]> => {
    answers.push(host);
    return [{ address: answers.length === 1 ? '127.0.0.1' : '192.0.2.1', family: 4 }];
  };
  const { store } = await tempStore(t);
  const got = await pullModel(store, { name: 'm', sha256: sha256Hex(body), url: `${base}/start` }, { caPem: s.ca, allowPrivate: true, resolveHost });
  t.equal(got.source, 'download');
  t.same(answers, [TEST_HOSTNAME], 'resolved once for the first hop and the same-host redirect');
  t.same(s.log.map((r) => r.path), ['/start', '/m.gguf'], `${TEST_HOSTNAME} (unknown to the system resolver) was reached through the pinned address`);
});

t.test('a redirect target is checked like the first URL: a metadata address behind a redirect is refused', async (t) => {
  const s = await server(t, { '/r': { kind: 'redirect', location: 'https://169.254.169.254/latest/meta-data/iam' } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'm', sha256: 'a'.repeat(64), url: s.url('/r') }, { caPem: s.ca, allowPrivate: true, retry: { attempts: 1 } }).catch(
    (e: unknown) => e,
  );
  t.match(err, { code: 'url_not_allowed', detail: { reason: 'metadata_address', host: '169.254.169.254' } });
  t.same(s.log.map((r) => r.path), ['/r'], 'only the first hop was requested');
});

t.test('max_model_bytes: an announced size over the cap is refused before the body is kept', async (t) => {
  const body = ggufLikePayload(200 * KiB);
  const s = await server(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const err = await pullModel(store, { name: 'm', sha256: sha256Hex(body), url: s.url('/m.gguf') }, { caPem: s.ca, allowPrivate: true, maxBytes: 100 * KiB }).catch(
    (e: unknown) => e,
  );
  t.match(err, { code: 'download_failed', detail: { reason: 'too_large', max_model_bytes: 100 * KiB }, message: /max_model_bytes/ });
  t.same((await storeFiles(store.root)).filter((f) => f.endsWith('data.tmp') || f.endsWith('/data')), [], 'no partial or blob bytes kept');
});

t.test('max_model_bytes: an unannounced size is cut off while streaming and the partial removed', async (t) => {
  const body = ggufLikePayload(512 * KiB);
  const s = await server(t, { '/m.gguf': { kind: 'file', body, contentLength: false, range: false } });
  const { store } = await tempStore(t);
  const events = collect();
  const err = await pullModel(
    store,
    { name: 'm', sha256: sha256Hex(body), url: s.url('/m.gguf') },
    { caPem: s.ca, allowPrivate: true, maxBytes: 128 * KiB, onEvent: events.onEvent },
  ).catch((e: unknown) => e);
  t.match(err, { code: 'download_failed', detail: { reason: 'too_large' } });
  t.same((await storeFiles(store.root)).filter((f) => f.endsWith('data.tmp') || f.endsWith('/data')), [], 'no partial or blob bytes kept');
  t.equal(s.log.length, 1, 'not retried');
  await t.rejects(stat(store.blobPath(sha256Hex(body))), { code: 'ENOENT' });
});

t.test('source_url in frames and messages carries no userinfo, query or fragment', async (t) => {
  const body = ggufLikePayload(64 * KiB);
  const s = await server(t, { '/m.gguf': { kind: 'file', body } });
  const { store } = await tempStore(t);
  const events = collect();
  const url = s.url('/m.gguf').replace('https://', 'https://alice:hunter2@') + '?X-Amz-Signature=s3cret#frag';
  const result = await pullModel(store, { name: 'm', sha256: sha256Hex(body), url }, { caPem: s.ca, allowPrivate: true, onEvent: events.onEvent }).catch(
    (e: unknown) => e,
  );
  const shown = JSON.stringify({ events: events.events, result: result instanceof Error ? result.message : result });
  t.notMatch(shown, /hunter2|alice|s3cret|frag/, 'no secret anywhere in frames or result');
  const downloads = events.events.filter((e) => e.phase === 'download');
  t.ok(downloads.length > 0, 'download frames were sent');
  t.ok(downloads.every((e) => e.phase === 'download' && e.source_url === s.url('/m.gguf')), 'source_url is scheme, host and path only');
});
