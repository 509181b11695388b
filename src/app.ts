// The Fastify application, built from injected services. server.ts (the process) and the tests
// build it the same way; only server.ts listens on a port and handles signals.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import type { InferdConfig } from './config/schema.js';
import { installGuard } from './guard/guard.js';
import './guard/scope.js';
import { trustFunction } from './guard/trust-proxy.js';
import { installErrorHandling } from './http/error-handler.js';
import { installJsonBodyParser } from './http/json-body.js';
import { installRequestLog } from './http/request-log.js';
import { StreamRegistry } from './http/stream-registry.js';
import type { InferenceGate } from './inference/gate.js';
import type { Lifecycle } from './lifecycle/lifecycle.js';
import type { Metrics } from './metrics/metrics.js';
import { SHARED_SCHEMAS, openapiDocument } from './http/openapi.js';
import { validatorFor } from './protocol/validate.js';
import swagger from '@fastify/swagger';
import adminLoadRoutes from '../routes/admin/load.js';
import adminReloadRoutes from '../routes/admin/reload.js';
import adminStreamTicketRoutes from '../routes/admin/stream-ticket.js';
import adminStatusRoutes from '../routes/admin/status.js';
import healthRoutes from '../routes/health.js';
import inferRoutes from '../routes/infer.js';
import metricsRoutes from '../routes/metrics.js';
import openapiRoutes from '../routes/openapi.js';
import dashboardRoutes from '../routes/dashboard.js';
import chatCompletionsRoutes from '../routes/v1/chat-completions.js';
import completionsRoutes from '../routes/v1/completions.js';
import embeddingsRoutes from '../routes/v1/embeddings.js';
import modelsRoutes from '../routes/v1/models.js';
import ollamaChatRoutes from '../routes/api/chat.js';
import ollamaDeleteRoutes from '../routes/api/delete.js';
import ollamaEmbedRoutes from '../routes/api/embed.js';
import ollamaGenerateRoutes from '../routes/api/generate.js';
import ollamaPsRoutes from '../routes/api/ps.js';
import ollamaPullRoutes from '../routes/api/pull.js';
import ollamaShowRoutes from '../routes/api/show.js';
import ollamaTagsRoutes from '../routes/api/tags.js';
import ollamaVersionRoutes from '../routes/api/version.js';

export interface AppServices {
  config: InferdConfig;
  lifecycle: Lifecycle;
  gate: InferenceGate;
  metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    inferd: AppServices;
    streams: StreamRegistry;
  }
}

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'] | undefined;
  loggerInstance?: FastifyBaseLogger | undefined;
}

export async function buildApp(services: AppServices, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    bodyLimit: services.config.body_limit,
    // close() comes after the lifecycle has drained in-flight work, so whatever is still
    // connected then is idle or an admin stream: close it all. With 'idle', a client's
    // connection that never sent a request held close() up until the headers timeout (~70 s).
    forceCloseConnections: true,
    // While draining, the lifecycle answers new requests with our own 503 error frame.
    return503OnClosing: false,
    // Client IP, host and proto from X-Forwarded-* of trusted hops only (src/guard/trust-proxy.ts).
    trustProxy: trustFunction(services.config.trust_proxy),
    // One line per request, written by installRequestLog when the response is over.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Every schema is checked by the same TypeBox validator the Unix-socket shim uses.
  app.setValidatorCompiler(({ schema }) => {
    const validate = validatorFor(schema as never);
    return (data: unknown) => {
      const result = validate(data);
      return result.ok ? { value: result.value } : { error: result.issues as unknown as FastifySchemaValidationError[] };
    };
  });

  installJsonBodyParser(app);
  installRequestLog(app, services.metrics);

  app.decorate('inferd', services);
  app.decorate('streams', new StreamRegistry());
  installErrorHandling(app, services.config.body_limit);
  // Before any route: the guard's rate limit attaches to routes as they are registered.
  await installGuard(app, services.config);
  // Open streams (token streams, admin streams) would keep server.close() waiting forever.
  app.addHook('preClose', async () => {
    await app.streams.closeAll();
  });

  await app.register(swagger, openapiDocument);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(healthRoutes);
  await app.register(inferRoutes);
  await app.register(adminStatusRoutes);
  await app.register(adminReloadRoutes);
  await app.register(adminStreamTicketRoutes);
  await app.register(adminLoadRoutes);
  await app.register(dashboardRoutes);
  await app.register(metricsRoutes);
  await app.register(openapiRoutes);
  await app.register(chatCompletionsRoutes);
  await app.register(completionsRoutes);
  await app.register(embeddingsRoutes);
  await app.register(modelsRoutes);
  // The Ollama-compatible family (/api/*), beside /v1.
  for (const routes of [ollamaChatRoutes, ollamaGenerateRoutes, ollamaEmbedRoutes, ollamaTagsRoutes, ollamaPsRoutes, ollamaShowRoutes, ollamaVersionRoutes, ollamaPullRoutes, ollamaDeleteRoutes]) {
    await app.register(routes);
  }
  return app;
}
