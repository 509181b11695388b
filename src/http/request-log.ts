// The HTTP side of the per-request log line (src/log/request-log.ts). Fastify's own two lines
// per request ("incoming request", "request completed") are off; this writes one when the
// response is over, on 'close', which also fires for hijacked streams and for clients that
// left early.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import { durationMs, newRequestLog, outcomeOf, requestLogListener, runWithRequestLog, writeRequestLine, type RequestLogRecord } from '../log/request-log.js';

const records = new WeakMap<object, RequestLogRecord>();

/** The log record of an HTTP request (undefined for requests made before installation). */
export function requestLogOf(request: FastifyRequest): RequestLogRecord | undefined {
  return records.get(request.raw);
}

export function installRequestLog(app: FastifyInstance, metrics: Metrics): void {
  metrics.addRequestListener(requestLogListener());
  app.addHook('onRequest', (request, reply, done) => {
    const record = newRequestLog();
    records.set(request.raw, record);
    reply.raw.once('close', () => {
      const res = reply.raw;
      const finished = res.writableFinished;
      const status = res.statusCode;
      const body = request.body as { id?: unknown } | undefined;
      // Not finished and not cut by us: the client went away (its generation was cancelled).
      if (!finished) record.cut ??= 'client_closed';
      const path = request.url.split('?')[0] ?? request.url;
      // A readiness probe answered 503 while the model loads is the probe working, not a
      // failure: at warn it would flood the log of every start (one line per poll).
      writeRequestLine(
        app.log,
        {
          transport: 'http',
          req_id: String(request.id),
          id: typeof body?.id === 'string' ? body.id : undefined,
          method: request.method,
          path,
          status,
          client: request.ip,
          outcome: outcomeOf(record, status < 400 ? 'ok' : `http_${status}`),
          duration_ms: durationMs(record),
          prompt_tokens: record.promptTokens,
          completion_tokens: record.completionTokens,
        },
        status >= 500 && !(status === 503 && path === '/readyz'),
      );
    });
    runWithRequestLog(record, done);
  });
  // Body parsing runs in the socket's async context, not ours: enter the record again right
  // before the handler, so the metrics listener finds it.
  app.addHook('preHandler', (request, _reply, done) => {
    const record = records.get(request.raw);
    if (record) runWithRequestLog(record, done);
    else done();
  });
}
