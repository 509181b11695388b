// POST /api/pull, translated for our downloader: what to pull (a URL with or without its digest,
// a store entry, or the configured model) and how its progress events read as Ollama's progress
// lines. A URL without a digest is pulled as `ollama pull` does: the digest of what arrives is
// computed, the GGUF check accepts the file, and the store entry records that digest.
// The bytes, resume, retries, verification and quarantine are the store's pullModel; nothing
// here downloads.
import { basename } from 'node:path';
import type { InferdConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';
import { badRequest } from '../inference/request-error.js';
import type { LoadPhase } from '../status/events.js';
import { manifestSha256 } from '../store/manifest.js';
import { isModelName } from '../store/names.js';
import type { PullSpec, UrlPullSpec } from '../download/index.js';
import type { ModelStore } from '../store/index.js';
import type { OllamaProgress, OllamaPullRequest } from './model-schemas.js';

export type PullTarget =
  | {
      spec: PullSpec;
      /** `sha256` re-hashes a copy already in the store (a pull by name is a verification). */
      verifyCached: 'size' | 'sha256';
    }
  | {
      /** A URL without a digest: downloaded, hashed and GGUF-checked (pullUrl). */
      spec: UrlPullSpec;
      verifyCached: null;
    };

const SHA_FRAGMENT = /(?:^|&)sha256=([0-9a-f]{64})(?:&|$)/;

export async function resolvePull(body: OllamaPullRequest, config: InferdConfig, store: ModelStore): Promise<PullTarget> {
  const source = body.model ?? body.name;
  if (source === undefined || source === '') throw badRequest('model is required', 'model');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return urlTarget(source, body);
  const configured = config.model;
  if (configured && 'source_url' in configured && configured.name === source) {
    return { spec: { name: configured.name, sha256: configured.sha256, url: configured.source_url, sizeBytes: configured.size_bytes, license: configured.license }, verifyCached: 'sha256' };
  }
  const manifest = isModelName(source) ? await store.readManifest(source) : null;
  if (manifest === null) throw new InferdError('model_not_found', `model "${source}" not found: it is neither in the store nor the configured model; pull an https: URL of a GGUF file`, { detail: { param: 'model' } });
  const url = manifest.source.url;
  if (typeof url !== 'string' || !url.startsWith('https://')) {
    throw badRequest(`store entry "${source}" has no https: source to fetch from (it was imported); \`inferd models\` lists it`, 'model');
  }
  return { spec: { name: source, sha256: manifestSha256(manifest), url, sizeBytes: manifest.size_bytes, license: manifest.license }, verifyCached: 'sha256' };
}

function urlTarget(source: string, body: OllamaPullRequest): PullTarget {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw badRequest('model is not a valid URL', 'model');
  }
  if (url.protocol !== 'https:') throw badRequest('a model URL must be https:', 'model');
  const fromFragment = SHA_FRAGMENT.exec(url.hash.slice(1))?.[1];
  const sha256 = body.sha256 ?? fromFragment;
  url.hash = '';
  const name = body.model !== undefined && body.name !== undefined ? body.name : nameFromUrl(url);
  if (!isModelName(name)) throw badRequest(`"${name}" is not a valid store name (lowercase letters, digits, . _ -; up to 64)`, 'name');
  if (sha256 === undefined) return { spec: { name, url: url.toString() }, verifyCached: null };
  return { spec: { name, sha256, url: url.toString() }, verifyCached: 'size' };
}

/** `…/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf` → `qwen2.5-0.5b-instruct-q4_k_m`. */
function nameFromUrl(url: URL): string {
  const file = basename(decodeURIComponent(url.pathname)).replace(/\.gguf$/i, '');
  return file.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
}

/** The Ollama progress lines for one event of our downloader (none for phases Ollama lacks). */
export function progressLines(event: LoadPhase, target: PullTarget): OllamaProgress[] {
  const sha = 'sha256' in target.spec ? target.spec.sha256 : null;
  switch (event.phase) {
    case 'checking_local':
      // A pull by name re-hashes the copy in the store right after this event.
      return target.verifyCached === 'sha256' ? [{ status: 'pulling manifest' }, { status: 'verifying sha256 digest' }] : [{ status: 'pulling manifest' }];
    case 'download': {
      const counts = { total: event.total_bytes ?? target.spec.sizeBytes ?? event.downloaded_bytes, completed: event.downloaded_bytes };
      // Without a pinned digest there is none to show until the bytes have arrived: name the entry.
      if (sha === null) return [{ status: `pulling ${target.spec.name}`, ...counts }];
      return [{ status: `pulling ${sha.slice(0, 12)}`, digest: `sha256:${sha}`, ...counts }];
    }
    case 'verify':
      return [{ status: 'verifying sha256 digest' }];
    case 'quarantine':
      return [{ status: `removed a copy whose digest was sha256:${event.actual_sha256} (moved to quarantine)` }];
    default:
      return [];
  }
}
