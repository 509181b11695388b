// Aborts when the HTTP client goes away before the response is complete, so the engine stops
// within a token and the slot is free again at once (the same rule as POST /infer).
import type { FastifyReply } from 'fastify';
import { InferdError } from '../errors.js';

export function clientSignal(reply: FastifyReply): AbortSignal {
  const client = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) client.abort(new InferdError('backend_unavailable', 'client disconnected'));
  });
  return client.signal;
}
