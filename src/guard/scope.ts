// What a route needs from its caller. Routes declare it in their route config
// (`config: { scope: 'admin' }`); only the edge guard reads it. A route that declares nothing is
// treated as `admin`, so a forgotten declaration fails closed.
export const ROUTE_SCOPES = ['public', 'inference', 'admin'] as const;
export type RouteScope = (typeof ROUTE_SCOPES)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
}
