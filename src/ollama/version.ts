// The version /api/version reports: inferd's own, from package.json (two levels up from
// src/ollama, three from dist/src/ollama).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function inferdVersion(): string {
  if (cached !== undefined) return cached;
  const relative = import.meta.url.includes('/dist/') ? '../../../package.json' : '../../package.json';
  try {
    const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
