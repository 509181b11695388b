// Real third-party parts for end-to-end tests (nginx, HAProxy, Chromium): where they live and
// what to do when one is missing. A developer machine skips with a message; CI (which sets
// INFERD_REQUIRE_E2E) fails instead, so a missing install step cannot pass silently.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of an executable on PATH (plus the sbin folders Debian uses), or null. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The tap `skip` option for a test that needs `name`: false when it is there, a message when it
 * is missing on a developer machine. Throws under INFERD_REQUIRE_E2E, so CI cannot skip.
 */
export function requireExecutable(name: string, installHint = `apt-get install -y ${name}`): { path: string | null; skip: string | false } {
  const path = findExecutable(name);
  if (path) return { path, skip: false };
  const message = `${name} is not installed (${installHint}); skipping`;
  if (process.env['INFERD_REQUIRE_E2E']) throw new Error(`${name} is required in CI but missing: ${installHint}`);
  return { path: null, skip: message };
}
