// The public path prefix inferd is served under (`/llm` behind `location /llm/`): from the
// `base_path` config, or from `X-Forwarded-Prefix` when a trusted proxy sent it. Everything
// inferd writes that a client follows (the OpenAPI `servers`, Location headers) starts with it.
import type { FastifyRequest } from 'fastify';

const PREFIX = /^(\/[A-Za-z0-9._~-]+)*\/?$/;

/** `/llm/` → `/llm`, `/` → ``; null for anything that is not a plain path. */
export function normalizePrefix(value: string): string | null {
  const trimmed = value.trim();
  if (!PREFIX.test(trimmed)) return null;
  return trimmed.replace(/\/+$/, '');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The public path prefix of this request ('' at the root); set by the edge guard. */
    basePath: string;
  }
}

/** The prefix for a request: the trusted forwarded one wins over the configured one. */
export function resolveBasePath(request: FastifyRequest, configured: string, proxyTrusted: boolean): string {
  const forwarded = request.headers['x-forwarded-prefix'];
  if (proxyTrusted && typeof forwarded === 'string') {
    const prefix = normalizePrefix(forwarded.split(',').pop() ?? '');
    if (prefix !== null) return prefix;
  }
  return normalizePrefix(configured) ?? '';
}

/** A root-relative URL the client will follow, under the public prefix. */
export function publicUrl(request: FastifyRequest, path: string): string {
  return path.startsWith('/') && !path.startsWith('//') ? `${request.basePath}${path}` : path;
}
