// Layered configuration: defaults < config file < INFERD_* env < command-line flags.
// Pure: the caller passes env, flags and home, so tests need no process state.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { InferdError } from '../errors.js';
import { ConfigSchema, type ConfigKey, type InferdConfig } from './schema.js';

export type ConfigOrigin = 'default' | 'file' | 'env' | 'flag';

export interface ConfigInput {
  /** Explicit config path (`--config`); wins over `INFERD_CONFIG`. */
  configPath?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Flag values by config key; strings are coerced like env values. */
  flags?: Partial<Record<ConfigKey, unknown>>;
  home?: string;
}

export interface LoadedConfig {
  config: InferdConfig;
  /** Where each explicitly set key came from (keys not listed are defaults). */
  origin: Partial<Record<ConfigKey, ConfigOrigin>>;
  /** The config file read, or null when none exists at the default path. */
  file: string | null;
}

const checker = Compile(ConfigSchema);
const KEYS = Object.keys(ConfigSchema.properties) as ConfigKey[];
/** Keys holding paths, where a leading `~/` means the home directory. */
const PATH_KEYS: ConfigKey[] = ['models_home', 'cache_dir', 'ca_file', 'runtime_dir', 'admin_addr', 'infer_addr', 'api_keys_file'];
/**
 * The owner's admin key. Not a config key of its own (a key in a config file is what `api_keys`
 * is for): it joins `api_keys` with the admin scope.
 */
export const API_KEY_ENV = 'INFERD_API_KEY';

export function envName(key: ConfigKey): string {
  return `INFERD_${key.toUpperCase()}`;
}

export function defaultConfigPath(home: string): string {
  return join(home, '.inferd', 'config.json');
}

export function loadConfig(input: ConfigInput = {}): LoadedConfig {
  const env = input.env ?? {};
  const home = input.home ?? homedir();
  const origin: Partial<Record<ConfigKey, ConfigOrigin>> = {};
  const raw: Record<string, unknown> = {};
  const describe = (key: string): string => {
    const o = origin[key as ConfigKey];
    if (o === 'flag') return `--${key.replace(/_/g, '-')}`;
    if (o === 'env') return key === 'model' ? 'INFERD_MODEL' : key === 'api_keys' ? `${envName('api_keys')} or ${API_KEY_ENV}` : envName(key as ConfigKey);
    if (o === 'file') return file ?? 'config file';
    return 'defaults';
  };

  const explicitPath = input.configPath ?? nonEmpty(env.INFERD_CONFIG);
  const file = explicitPath ? resolve(expandHome(explicitPath, home)) : defaultConfigPath(home);
  const fromFile = readConfigFile(file, explicitPath !== undefined);
  for (const [key, value] of Object.entries(fromFile ?? {})) {
    if (!KEYS.includes(key as ConfigKey)) {
      throw configError(`unknown key "${key}" in ${file}`, key, value, 'file');
    }
    raw[key] = value;
    origin[key as ConfigKey] = 'file';
  }

  const layer = (key: ConfigKey, value: unknown, from: ConfigOrigin) => {
    raw[key] = key === 'model' ? { path: value } : coerce(key, value);
    origin[key] = from;
  };
  for (const key of KEYS) {
    const value = nonEmpty(env[envName(key)]);
    if (value !== undefined) layer(key, value, 'env');
  }
  for (const key of KEYS) {
    const value = input.flags?.[key];
    if (value !== undefined) layer(key, value, 'flag');
  }

  const ownerKey = nonEmpty(env[API_KEY_ENV]);
  if (ownerKey !== undefined) {
    raw.api_keys = [...(Array.isArray(raw.api_keys) ? raw.api_keys : []), { key: ownerKey, scope: 'admin' }];
    origin.api_keys ??= 'env';
  }

  const merged = Value.Default(ConfigSchema, structuredClone(raw)) as Record<string, unknown>;
  for (const error of checker.Errors(merged)) {
    const key = error.instancePath.split('/')[1] ?? '';
    // Keys are secrets: an error about them names the problem, never the value.
    const value = key === 'api_keys' ? '(hidden)' : key ? merged[key] : merged;
    throw configError(
      `invalid config: ${key || '(root)'} = ${JSON.stringify(value)} (from ${describe(key)}): ${explain(key, error.message)}`,
      key,
      value,
      origin[key as ConfigKey] ?? 'default',
    );
  }
  const config = merged as InferdConfig;
  for (const key of PATH_KEYS) {
    const value = config[key];
    if (typeof value === 'string') (config as Record<string, unknown>)[key] = resolve(expandHome(value, home));
  }
  if (config.model && 'path' in config.model) config.model = { path: resolve(expandHome(config.model.path, home)) };
  return { config, origin, file: fromFile === null ? null : file };
}

export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

function readConfigFile(file: string, explicit: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return null;
    throw new InferdError('config_invalid', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InferdError('config_invalid', `config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InferdError('config_invalid', `config file ${file} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Env and flag values arrive as strings; turn them into the type the schema wants. */
function coerce(key: ConfigKey, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const schema = ConfigSchema.properties[key] as { type?: string; anyOf?: unknown };
  const type = schema.type;
  // Lists from env or flags are comma-separated; trust_proxy is `false`, a hop count or a list.
  if (key === 'trust_proxy') {
    const trimmed = value.trim();
    if (/^(0|false|no|off)$/i.test(trimmed)) return false;
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    return splitList(trimmed);
  }
  if (type === 'array') return splitList(value);
  if (type === 'integer' || type === 'number') {
    const trimmed = value.trim();
    return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : value;
  }
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
  }
  return value;
}

function explain(key: string, fallback: string): string {
  const schema = (ConfigSchema.properties as unknown as Record<string, Record<string, unknown>>)[key];
  if (!schema) return fallback;
  const { type, minimum, maximum } = schema;
  if (type === 'integer') {
    if (minimum !== undefined && maximum !== undefined) return `must be an integer from ${minimum} to ${maximum}`;
    if (minimum !== undefined) return `must be an integer >= ${minimum}`;
    return 'must be an integer';
  }
  if (type === 'boolean') return 'must be true or false';
  if (Array.isArray(schema.enum)) return `must be one of ${(schema.enum as string[]).join(', ')}`;
  if (key === 'api_keys') return 'each key is a string of 16 to 512 printable ASCII characters, or {"key", "scope": "admin" | "inference"}';
  if (key === 'model') {
    return 'must be {"path": FILE} or {"name", "sha256" (64 lowercase hex), "source_url" (https://), "size_bytes"?, "license"?}';
  }
  return fallback;
}

function configError(message: string, key: string, value: unknown, from: ConfigOrigin): InferdError {
  return new InferdError('config_invalid', message, { detail: { key, value, origin: from } });
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
