// The API keys the daemon accepts: from `api_keys` (INFERD_API_KEY joins it as an admin key)
// and from `api_keys_file`, which is read again on SIGHUP. Only SHA-256 digests are kept, and a
// presented key is compared with every one of them in constant time, without an early exit, so
// neither the timing nor the order of keys tells an attacker anything.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiKeyConfig, InferdConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';

export type KeyScope = 'admin' | 'inference';

interface StoredKey {
  digest: Buffer;
  scope: KeyScope;
}

export interface KeyMatch {
  scope: KeyScope;
  /** A short, non-reversible name for logs and rate-limit buckets (a digest prefix). */
  id: string;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Reads an api_keys_file: `<key>` or `<scope> <key>` per line, `#` starts a comment. */
export function parseKeysFile(text: string, file: string): Array<{ key: string; scope: KeyScope }> {
  const keys: Array<{ key: string; scope: KeyScope }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const parts = line.split(/\s+/);
    const [first, second] = parts;
    let key: string;
    let scope: KeyScope = 'inference';
    if (parts.length === 1 && first) key = first;
    else if (parts.length === 2 && (first === 'admin' || first === 'inference') && second) {
      scope = first;
      key = second;
    } else {
      throw new InferdError('config_invalid', `${file}:${index + 1}: expected "<key>" or "admin|inference <key>"`);
    }
    if (key.length < 16) throw new InferdError('config_invalid', `${file}:${index + 1}: a key needs at least 16 characters`);
    keys.push({ key, scope });
  });
  return keys;
}

export class KeyRing {
  readonly #configured: StoredKey[];
  readonly #file: string | undefined;
  #fromFile: StoredKey[] = [];

  constructor(config: Pick<InferdConfig, 'api_keys' | 'api_keys_file'>) {
    this.#configured = config.api_keys.map((item: ApiKeyConfig) =>
      typeof item === 'string' ? { digest: digest(item), scope: 'inference' as const } : { digest: digest(item.key), scope: item.scope },
    );
    this.#file = config.api_keys_file;
    this.reloadFile();
  }

  /** Reads api_keys_file again; on error the previous keys stay and the error is thrown. */
  reloadFile(): void {
    if (this.#file === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      throw new InferdError('config_invalid', `cannot read api_keys_file ${this.#file}: ${(err as Error).message}`, { cause: err });
    }
    this.#fromFile = parseKeysFile(text, this.#file).map(({ key, scope }) => ({ digest: digest(key), scope }));
  }

  get #all(): StoredKey[] {
    return [...this.#configured, ...this.#fromFile];
  }

  /** True when at least one key exists: then every non-public route needs one. */
  get enabled(): boolean {
    return this.#all.length > 0;
  }

  /** How many keys of each scope (for doctor and the start-up log; never the keys). */
  counts(): Record<KeyScope, number> {
    const counts = { admin: 0, inference: 0 };
    for (const key of this.#all) counts[key.scope] += 1;
    return counts;
  }

  /** The scope of a presented key, or null. Every stored key is compared, always. */
  match(presented: string): KeyMatch | null {
    const candidate = digest(presented);
    let found: StoredKey | null = null;
    for (const key of this.#all) {
      // Both sides are 32-byte digests, so timingSafeEqual never throws on length.
      const equal = timingSafeEqual(candidate, key.digest);
      if (equal && found === null) found = key;
    }
    return found ? { scope: found.scope, id: candidate.subarray(0, 6).toString('hex') } : null;
  }
}

/** Whether a key of `held` scope may use a route of `needed` scope. Admin keys also infer. */
export function scopeAllows(held: KeyScope, needed: KeyScope): boolean {
  return held === 'admin' || needed === 'inference';
}
