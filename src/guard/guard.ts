// The edge guard: every HTTP request passes, in this order, the Host check (DNS rebinding), the
// Origin check (CSRF), CORS (preflights answered here), authentication by route scope, and the
// rate limit. Each step refuses with a catalogue error before any route runs. Routes declare
// their scope in their config; they never look at keys. The Unix sockets never come here.
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { InferdConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';
import { publicUrl, resolveBasePath } from './base-path.js';
import { HostPolicy } from './hosts.js';
import { KeyRing, scopeAllows, type KeyMatch } from './keys.js';
import { OriginPolicy } from './origins.js';
import type { RouteScope } from './scope.js';
import { TicketStore } from './tickets.js';
import { trustFunction, trustedPeer } from './trust-proxy.js';

export interface Guard {
  keys: KeyRing;
  tickets: TicketStore;
  hosts: HostPolicy;
  origins: OriginPolicy;
}

declare module 'fastify' {
  interface FastifyInstance {
    guard: Guard;
  }
  interface FastifyContextConfig {
    /** An admin stream that also accepts a single-use `?ticket=` from POST /admin/stream-ticket. */
    ticket?: boolean;
  }
  interface FastifyRequest {
    /** The key the request authenticated with (null: none needed or none configured). */
    apiKey: KeyMatch | null;
  }
}

/** Probes from balancers send the pod's IP as Host; these answer only "up" or "ready". */
const HOST_EXEMPT = new Set(['/healthz', '/readyz']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CORS_MAX_AGE_SECONDS = 600;

export function routeScope(request: FastifyRequest): RouteScope {
  return request.routeOptions.config.scope ?? 'admin';
}

/** The key a request presents: `Authorization: Bearer <key>`, else `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (match) return match[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header.trim() : undefined;
}

/**
 * A synchronous check as a callback-style hook. The checks never wait for anything, and an
 * `async` hook costs a promise per request (more with the request log's AsyncLocalStorage):
 * measurable on a route as cheap as /healthz (bench/guard-overhead).
 */
function syncHook(check: (request: FastifyRequest) => void): onRequestHookHandler {
  return (request, _reply, done) => {
    try {
      check(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/** Same-origin requests (a page the daemon served to this host) are never cross-site. */
function sameOrigin(request: FastifyRequest, origin: string): boolean {
  return origin.toLowerCase() === `${request.protocol}://${request.host}`.toLowerCase();
}

/**
 * Installs the guard on the root instance. Call before any route is registered: the rate
 * limit attaches itself to routes as they are added.
 */
export async function installGuard(app: FastifyInstance, config: InferdConfig): Promise<Guard> {
  const guard: Guard = {
    keys: new KeyRing(config),
    tickets: new TicketStore(),
    hosts: new HostPolicy(config.allowed_hosts, config.host),
    origins: new OriginPolicy(config.cors_origins),
  };
  app.decorate('guard', guard);
  app.decorateRequest('apiKey', null);
  app.decorateRequest('basePath', '');
  const isTrusted = trustedPeer(trustFunction(config.trust_proxy));

  // 1. Host. The probe routes leave at once: they generate no URL (so need no base path), and
  // a balancer polls them hard.
  app.addHook('onRequest', syncHook((request) => {
    if (HOST_EXEMPT.has(request.routeOptions.url ?? '')) return;
    request.basePath = resolveBasePath(request, config.base_path, isTrusted(request));
    if (!guard.hosts.allows(request.headers.host === undefined ? undefined : request.host)) {
      throw new InferdError('host_not_allowed', `host not allowed: ${JSON.stringify(request.host.slice(0, 100))}; add it to allowed_hosts`);
    }
  }));

  // 2. Origin: a request that can change something must not come from another site's page.
  app.addHook('onRequest', syncHook((request) => {
    if (SAFE_METHODS.has(request.method)) return;
    const origin = request.headers.origin;
    if (typeof origin === 'string') {
      if (!guard.origins.allows(origin) && !sameOrigin(request, origin)) {
        throw new InferdError('origin_not_allowed', `origin not allowed: ${JSON.stringify(origin.slice(0, 100))}; add it to cors_origins`);
      }
    } else if (request.headers['sec-fetch-site'] === 'cross-site') {
      throw new InferdError('origin_not_allowed', 'cross-site request refused');
    }
  }));

  // 3. CORS: exact origins only, never `*`, no credentials mode (keys travel in headers).
  await app.register(cors, {
    origin: (origin, cb) => cb(null, typeof origin === 'string' && guard.origins.allows(origin)),
    methods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'last-event-id', 'accept'],
    exposedHeaders: ['retry-after', 'www-authenticate'],
    credentials: false,
    maxAge: CORS_MAX_AGE_SECONDS,
    hideOptionsRoute: true,
  });

  // 4. Authentication by route scope.
  app.addHook('onRequest', syncHook((request) => {
    if (request.method === 'OPTIONS' || !guard.keys.enabled) return;
    const scope = routeScope(request);
    if (scope === 'public') return;
    const presented = presentedKey(request);
    if (presented === undefined) {
      const ticket = (request.query as { ticket?: unknown } | undefined)?.ticket;
      if (request.routeOptions.config.ticket === true && typeof ticket === 'string') {
        if (!guard.tickets.consume(ticket)) throw new InferdError('unauthorized', 'stream ticket is invalid, expired or already used');
        request.apiKey = { scope: 'admin', id: 'ticket' };
        return;
      }
      throw new InferdError('unauthorized', 'an API key is required: send Authorization: Bearer <key> or x-api-key');
    }
    const match = guard.keys.match(presented);
    if (!match) throw new InferdError('unauthorized', 'invalid API key');
    if (!scopeAllows(match.scope, scope)) throw new InferdError('forbidden', `this key has the ${match.scope} scope; ${request.method} ${request.routeOptions.url} needs ${scope}`);
    request.apiKey = match;
  }));

  // 5. Rate limit, per key (or per client IP without one). Public routes are not limited.
  if (config.rate_limit_per_minute > 0) {
    // Public routes get no rate-limit hook at all, rather than one that computes the client key
    // (request.ip through the trusted proxies) only to let the request pass.
    app.addHook('onRoute', (route) => {
      if (route.config?.scope === 'public') route.config = { ...route.config, rateLimit: false };
    });
    await app.register(rateLimit, {
      max: config.rate_limit_per_minute,
      timeWindow: 60_000,
      keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.id}` : `ip:${request.ip}`),
      allowList: (request) => request.method === 'OPTIONS' || routeScope(request) === 'public',
      errorResponseBuilder: (_request, context) =>
        new InferdError('rate_limited', `rate limit of ${context.max} requests per minute reached; retry in ${context.after}`, {
          retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
  }

  // Root-relative Location headers point under the public prefix.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.basePath !== '') {
      const location = reply.getHeader('location');
      if (typeof location === 'string') reply.header('location', publicUrl(request, location));
    }
    done(null, payload);
  });
  return guard;
}
