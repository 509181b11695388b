// `inferd serve`: run the daemon in the foreground. `npm start -- <flags>` runs this.
import type { Command } from 'commander';
import type { ConfigKey } from '../config/schema.js';
import { runServer } from '../server.js';
import { loadConfigOrExit, withConfigOption } from './common.js';

/** Flags of `serve`, named after their config keys (`--n-ctx` sets `n_ctx`). */
const SERVE_FLAGS: Array<[flag: string, key: ConfigKey, help: string]> = [
  ['--host <address>', 'host', 'HTTP bind address (default 127.0.0.1)'],
  ['--port <port>', 'port', 'HTTP port (default 47321)'],
  ['--model <path>', 'model', 'GGUF file to serve (default: the built-in demo model)'],
  ['--threads <n>', 'threads', 'CPU threads (default: 1 on the prebuilt binary; see inferd doctor)'],
  ['--n-ctx <tokens>', 'n_ctx', 'context size per slot (default 8192)'],
  ['--parallel <n>', 'parallel', 'requests generated at once (default 1)'],
  ['--queue-depth <n>', 'queue_depth', 'requests waiting for a slot before queue_full (default 10)'],
  ['--models-home <dir>', 'models_home', 'model store root (default ~/.inferd/models)'],
  ['--runtime-dir <dir>', 'runtime_dir', 'directory of admin.sock, infer.sock and inferd.lock'],
  ['--admin-addr <path>', 'admin_addr', 'path of admin.sock'],
  ['--infer-addr <path>', 'infer_addr', 'path of infer.sock'],
  ['--drain-timeout-ms <ms>', 'drain_timeout_ms', 'how long shutdown and reload wait for running requests (default 30000)'],
  ['--log-level <level>', 'log_level', 'fatal, error, warn, info, debug, trace or silent (default info)'],
  ['--insecure-no-auth', 'insecure_no_auth', 'allow a non-loopback --host without any API key (not recommended)'],
  ['--log-format <format>', 'log_format', 'pretty or json (default auto: pretty when stderr is a terminal)'],
];

export function registerServe(program: Command): void {
  const cmd = withConfigOption(program.command('serve').description('run the daemon in the foreground'));
  for (const [flag, , help] of SERVE_FLAGS) cmd.option(flag, help);
  cmd.action(async (options: Record<string, unknown>) => {
    const flags: Partial<Record<ConfigKey, unknown>> = {};
    for (const [flag, key] of SERVE_FLAGS) {
      const value = options[camel(flag)];
      if (value !== undefined) flags[key] = value;
    }
    const { config } = loadConfigOrExit(options.config as string | undefined, flags);
    process.exit(await runServer(config));
  });
}

/** commander's attribute name for a flag: `--n-ctx <tokens>` → `nCtx`. */
function camel(flag: string): string {
  const name = flag.split(' ')[0]!.replace(/^--/, '');
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
