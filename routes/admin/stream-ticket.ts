// POST /admin/stream-ticket: trade an admin key for a single-use ticket that a browser
// EventSource (which cannot send headers) puts in its URL: `/admin/status?ticket=…`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TICKET_TTL_SECONDS } from '../../src/guard/tickets.js';

const adminStreamTicketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/stream-ticket',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'A single-use ticket for one admin stream (for EventSource, which cannot send an API key)',
        description:
          'Send the admin key; the answer holds a ticket valid once, within `expires_in` seconds, as `?ticket=` on ' +
          '`GET /admin/status` (and other admin streams). A reconnect needs a new ticket; pass the last event id as ' +
          '`?last_event_id=` then.',
        response: {
          200: Type.Object({
            ticket: Type.String({ description: 'Opaque, URL-safe' }),
            expires_in: Type.Integer({ minimum: 1, maximum: TICKET_TTL_SECONDS, description: 'Seconds until the unused ticket expires' }),
          }),
        },
      },
      // `curl -X POST` sends no body; there is nothing to read anyway.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async () => app.guard.tickets.issue(),
  );
};

export default adminStreamTicketRoutes;
