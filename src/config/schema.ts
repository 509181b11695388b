// The configuration schema: one TypeBox object is the source of the TypeScript type, the
// defaults, the validation and the README's reference table.
import { Type, type Static } from 'typebox';

import { MAX_FRAME_BYTES } from '../protocol/ndjson.js';

export const DEFAULT_PORT = 47321;
/** Node timers overflow (and fire after 1 ms) beyond this. */
const MAX_TIMER_MS = 2_147_483_647;

/** Name of a model in the store: a strict slug, so it can never traverse paths. */
export const MODEL_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';
export const SHA256_PATTERN = '^[0-9a-f]{64}$';

export const LocalModelSchema = Type.Object(
  { path: Type.String({ minLength: 1, description: 'A GGUF file on this machine' }) },
  { additionalProperties: false, title: 'local model' },
);

export const RemoteModelSchema = Type.Object(
  {
    name: Type.String({ pattern: MODEL_NAME_PATTERN, description: 'Store name (manifest key)' }),
    sha256: Type.String({ pattern: SHA256_PATTERN, description: '64 lowercase hex characters' }),
    source_url: Type.String({ pattern: '^https://', description: 'HTTPS only' }),
    size_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
    license: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'store model' },
);

export const ModelConfigSchema = Type.Union([LocalModelSchema, RemoteModelSchema]);
export type ModelConfig = Static<typeof ModelConfigSchema>;
export type RemoteModelConfig = Static<typeof RemoteModelSchema>;

export const API_KEY_SCOPES = ['admin', 'inference'] as const;
/** At least 16 characters: a short key is a guessable key. */
const KeyString = Type.String({ minLength: 16, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' });
export const ApiKeySchema = Type.Union([
  KeyString,
  Type.Object({ key: KeyString, scope: Type.Enum([...API_KEY_SCOPES]) }, { additionalProperties: false }),
]);
export type ApiKeyConfig = Static<typeof ApiKeySchema>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'HTTP bind address' }),
    port: Type.Integer({ default: DEFAULT_PORT, minimum: 0, maximum: 65535, description: 'HTTP port (0 picks a free one)' }),
    model: Type.Optional(
      Type.Union([LocalModelSchema, RemoteModelSchema], {
        description: 'The model to serve: {path} or {name, sha256, source_url, size_bytes?, license?}. Absent: the built-in demo model',
      }),
    ),
    models_home: Type.String({ default: '~/.inferd/models', minLength: 1, description: 'Root of the content-addressed model store' }),
    cache_dir: Type.String({
      default: '~/.inferd/cache',
      minLength: 1,
      description: 'What inferd can recompute but keeps to start faster (the chat template decision per model file); safe to delete',
    }),
    auto_pull: Type.Boolean({ default: true, description: 'Download a configured model that is missing from the store' }),
    ca_file: Type.Optional(Type.String({ minLength: 1, description: 'Extra PEM CA certificates trusted for model downloads' })),
    pull_allow_private: Type.Boolean({
      default: false,
      description: 'Allow model downloads from loopback, private, link-local, CGNAT and ULA addresses (a LAN mirror). Cloud metadata addresses stay refused',
    }),
    max_model_bytes: Type.Integer({
      default: 274877906944,
      minimum: 0,
      description: 'Largest model download, bytes; checked against the announced size and while streaming (0: no cap)',
    }),
    quarantine_max_files: Type.Integer({ default: 8, minimum: 0, description: 'Files kept in the quarantine folder; the oldest go first (0: no cap)' }),
    quarantine_max_bytes: Type.Integer({
      default: 34359738368,
      minimum: 0,
      description: 'Bytes kept in the quarantine folder; the oldest go first, the newest always stays (0: no cap)',
    }),
    threads: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description: 'CPU threads for generation. Default: 1 with the prebuilt llama.cpp binary or a model under 64 MiB; with a native build the CPU count (minus one above 4)',
      }),
    ),
    engine_binary: Type.Enum(['auto', 'prebuilt'], {
      default: 'auto',
      description: 'llama.cpp binary: `auto` uses the native build of `inferd engine build` when there is one, else the prebuilt',
    }),
    n_ctx: Type.Integer({ default: 8192, minimum: 16, maximum: 1048576, description: 'Context size (tokens) per slot' }),
    parallel: Type.Integer({ default: 1, minimum: 1, maximum: 64, description: 'Requests generated at the same time (slots)' }),
    queue_depth: Type.Integer({ default: 10, minimum: 0, maximum: 100000, description: 'Requests waiting for a slot before queue_full' }),
    body_limit: Type.Integer({
      default: MAX_FRAME_BYTES,
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      description: 'Largest accepted HTTP request body, bytes',
    }),
    drain_timeout_ms: Type.Integer({ default: 30000, minimum: 0, maximum: MAX_TIMER_MS, description: 'How long drain and reload wait for in-flight requests' }),
    sse_heartbeat_ms: Type.Integer({ default: 15000, minimum: 100, maximum: MAX_TIMER_MS, description: 'Interval of the SSE `: ping` comment' }),
    write_timeout_ms: Type.Integer({ default: 60000, minimum: 0, maximum: MAX_TIMER_MS, description: 'Drop a client that stops reading for this long (0: never)' }),
    runtime_dir: Type.Optional(Type.String({ minLength: 1, description: 'Directory of admin.sock, infer.sock and inferd.lock' })),
    admin_addr: Type.Optional(Type.String({ minLength: 1, description: 'Path of admin.sock' })),
    infer_addr: Type.Optional(Type.String({ minLength: 1, description: 'Path of infer.sock' })),
    unix_sockets: Type.Boolean({ default: true, description: 'Serve admin.sock and infer.sock' }),
    strict_model: Type.Boolean({ default: false, description: 'OpenAI routes: 404 for a `model` other than the loaded one' }),
    log_level: Type.Enum([...LOG_LEVELS], { default: 'info', description: 'Log level of the log on stderr' }),
    log_format: Type.Enum(['auto', 'pretty', 'json'], {
      default: 'auto',
      description: 'Log lines on stderr: `pretty` (human, pino-pretty), `json` (one JSON object per line), `auto` (pretty on a terminal)',
    }),
    // The edge guard (src/guard/): keys, hosts, origins, proxies, rate limits.
    api_keys: Type.Array(ApiKeySchema, {
      default: [],
      description: 'API keys: a string is an inference key, {"key", "scope": "admin" | "inference"} sets the scope',
    }),
    api_keys_file: Type.Optional(Type.String({ minLength: 1, description: 'File of keys, one per line, optionally `admin <key>`; `#` comments; re-read on SIGHUP' })),
    insecure_no_auth: Type.Boolean({ default: false, description: 'Allow a non-loopback bind without any API key (logs a warning on every start)' }),
    allowed_hosts: Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[A-Za-z0-9.:\\[\\]_-]+$' }), {
      default: [],
      description: 'Host names accepted besides loopback (exact, or `*.example.com`)',
    }),
    cors_origins: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://[^/?#*]+$' }), { description: 'Exact origins allowed cross-origin; replaces the loopback default' }),
    ),
    trust_proxy: Type.Union([Type.Literal(false), Type.Integer({ minimum: 1, maximum: 100 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      default: false,
      description: 'Trusted reverse proxies: false, a hop count, or a list of addresses/CIDRs',
    }),
    base_path: Type.String({ default: '', pattern: '^(/[A-Za-z0-9._~-]+)*/?$', description: 'Public path prefix when served under one (e.g. /llm)' }),
    rate_limit_per_minute: Type.Integer({ default: 0, minimum: 0, maximum: 1000000, description: 'Requests per minute per key (or client IP) on guarded routes; 0: off' }),
  },
  { additionalProperties: false, $id: 'InferdConfig', title: 'inferd configuration' },
);

export type InferdConfig = Static<typeof ConfigSchema>;
export type ConfigKey = keyof InferdConfig;
