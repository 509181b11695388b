// The one place where errors become HTTP responses. Native routes answer with the v1 error
// frame, /v1/* with the OpenAI error object, /api/* with Ollama's {"error": "…"}; the status and Retry-After come from the error
// catalogue. Handlers only throw.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InferdError, toInferdError } from '../errors.js';
import type { OllamaError } from '../ollama/common-schemas.js';
import type { OpenAIError } from '../openai/common-schemas.js';
import { errorFrame } from '../protocol/v1.js';
import { requestLogOf } from './request-log.js';
import { describeIssues, type ValidationIssue } from '../protocol/validate.js';

/** Turns Fastify's own errors (validation, body parsing, limits) into catalogue errors. */
export function classify(err: unknown, bodyLimit: number): InferdError {
  if (err instanceof InferdError) return err;
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[] };
  if (Array.isArray(fe.validation)) {
    const param = paramOf(fe.validation);
    return new InferdError('invalid_request', `invalid request: ${describeIssues(fe.validation)}`, param ? { detail: { param } } : {});
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new InferdError('frame_too_large', `request body exceeds body_limit (${bodyLimit} bytes)`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InferdError('invalid_request', `decode: ${fe.message ?? 'invalid JSON'}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InferdError('unsupported_media_type', 'unsupported media type: send the body as JSON with content-type: application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InferdError('invalid_request', `invalid request: ${fe.message ?? 'bad body'}`);
  }
  if (err instanceof SyntaxError) return new InferdError('invalid_request', `decode: ${err.message}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new InferdError('invalid_request', `invalid request: ${fe.message ?? 'bad request'}`);
  }
  return toInferdError(err);
}

/** The field a validation failure is about (`messages.0.role`), for the OpenAI error's `param`. */
function paramOf(issues: readonly ValidationIssue[]): string | undefined {
  const issue = issues[0];
  if (!issue) return undefined;
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (issue.params as { requiredProperties?: string[] } | undefined)?.requiredProperties?.[0];
  if (issue.keyword === 'required' && missing) return path ? `${path}.${missing}` : missing;
  return path || undefined;
}

export function isOpenAiRoute(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/');
}

/**
 * The OpenAI error object. `param` names the request field at fault when the thrower said so
 * (`detail.param`); the same object is the last event of an OpenAI stream that fails midway.
 */
export function openAiErrorBody(err: InferdError): OpenAIError {
  const param = err.detail?.['param'];
  return { error: { message: err.message, type: err.openaiType, param: typeof param === 'string' ? param : null, code: err.openaiCode } };
}

export function isOllamaRoute(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/** Ollama's error body: the message only (the status says the rest). */
export function ollamaErrorBody(err: InferdError): OllamaError {
  return { error: err.message };
}

/** The body for an error, shaped for the route family. */
export function errorBody(request: FastifyRequest, err: InferdError): unknown {
  if (isOpenAiRoute(request.url)) return openAiErrorBody(err);
  if (isOllamaRoute(request.url)) return ollamaErrorBody(err);
  const body = request.body as { id?: unknown } | undefined;
  return errorFrame(typeof body?.id === 'string' ? body.id : '', err);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: InferdError): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  if (err.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="inferd"');
  return reply.code(err.status).type('application/json; charset=utf-8').send(errorBody(request, err));
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((raw, request, reply) => {
    const err = classify(raw, bodyLimit);
    // A client that hung up is not a server error, whatever status it would have been shown.
    const clientGone = request.raw.destroyed || reply.raw.destroyed;
    // The request's own log line carries the code; only server faults get a line (with the
    // stack) of their own, and client errors a debug line with the message.
    const record = requestLogOf(request);
    if (record) record.outcome = err.code;
    if (err.status >= 500 && !clientGone) request.log.error({ err: raw, code: err.code }, err.message);
    else request.log.debug({ code: err.code }, err.message);
    // A 5xx message from an unexpected failure may carry internals; the log has the detail.
    const shown = err.code === 'internal' && !(raw instanceof InferdError) ? new InferdError('internal', 'internal error') : err;
    return sendError(request, reply, shown);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new InferdError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
