// Whether the daemon may start on its bind address. Loopback is always fine. Beyond loopback,
// a key is required unless the operator explicitly opted out with --insecure-no-auth.
import type { InferdConfig } from '../config/schema.js';
import { isLoopbackBind } from './hosts.js';

export type BindVerdict = { ok: true; warning?: string } | { ok: false; message: string };

export function checkBind(config: Pick<InferdConfig, 'host' | 'port' | 'insecure_no_auth'>, keysEnabled: boolean): BindVerdict {
  if (isLoopbackBind(config.host) || keysEnabled) return { ok: true };
  if (config.insecure_no_auth) {
    return {
      ok: true,
      warning: `INSECURE: listening on ${config.host}:${config.port} with no API key; anyone who can reach this port can run inference and reload models (insecure_no_auth)`,
    };
  }
  return {
    ok: false,
    message:
      `refusing to listen on ${config.host} without an API key: anyone on the network could use the model and /admin. ` +
      'Set INFERD_API_KEY=<secret> (an admin key) or api_keys / api_keys_file in the config, ' +
      'or bind to 127.0.0.1 and put an authenticating proxy in front, ' +
      'or pass --insecure-no-auth if this network is trusted',
  };
}
