// Shared plumbing of the `inferd` subcommands: config loading from flags and the exit codes.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { isInferdError } from '../errors.js';

/** Exit codes of every subcommand. */
export const EXIT = {
  ok: 0,
  /** The command ran but the answer is "no": not ready, a check failed, a download failed. */
  failed: 1,
  /** Bad usage or configuration: the message names the key and the value. */
  usage: 2,
} as const;

/** Adds `--config PATH`, which every subcommand that reads config accepts. */
export function withConfigOption(cmd: Command): Command {
  return cmd.option('--config <path>', 'config file (default $INFERD_CONFIG or ~/.inferd/config.json)');
}

/**
 * Loads config with the given flag values (already mapped to config keys). A bad value is a
 * usage error: print it and exit 2, as the contract's CLI does.
 */
export function loadConfigOrExit(configPath: string | undefined, flags: Partial<Record<ConfigKey, unknown>> = {}): LoadedConfig {
  try {
    return loadConfig({ configPath, env: process.env, flags });
  } catch (err) {
    if (isInferdError(err) && err.code === 'config_invalid') {
      process.stderr.write(`inferd: ${err.message}\n`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
}

/** Prints an error the way every subcommand does and returns the exit code to use. */
export function reportError(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`inferd: ${message}\n`);
  return isInferdError(err) && err.code === 'config_invalid' ? EXIT.usage : EXIT.failed;
}
