// The OpenAPI document's fixed parts. Paths come from the route schemas through
// @fastify/swagger; `npm run openapi` writes openapi.yaml and a test fails when it drifts.
import { fileURLToPath } from 'node:url';
import type { SwaggerOptions } from '@fastify/swagger';

export const openapiDocument: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'inferd',
      version: '0.1.0',
      description:
        'Local LLM inference daemon: protocol-v1 inference as NDJSON or SSE, an OpenAI-compatible API, ' +
        'and the lifecycle status stream. Errors before a stream starts are HTTP errors whose body is ' +
        'the v1 error frame (native routes) or an OpenAI error object (/v1/*).',
    },
    tags: [
      { name: 'inference', description: 'Protocol-v1 inference' },
      { name: 'admin', description: 'Lifecycle status and control' },
      { name: 'health', description: 'Liveness, readiness and metrics' },
      { name: 'openai', description: 'OpenAI-compatible API' },
    ],
  },
};

/** The committed spec at the package root (two levels up from src/http or dist/src/http). */
export const OPENAPI_PATH = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../openapi.yaml' : '../../openapi.yaml', import.meta.url));
