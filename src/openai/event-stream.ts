// The OpenAI flavour of SSE: `data: <chunk JSON>` events ending with `data: [DONE]`; a failure
// after the stream began ends it with `data: {"error":{…}}` and no `[DONE]` (as llama-server
// does; the official SDKs raise an APIError on such an event). Headers go out with the first
// event, so anything that fails before it is still an HTTP status.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InferdError } from '../errors.js';
import { openAiErrorBody } from '../http/error-handler.js';
import { startStream, type ResponseStream } from '../http/response-stream.js';

export class OpenAiEventStream {
  readonly #stream: ResponseStream;

  constructor(app: FastifyInstance, reply: FastifyReply, writeTimeoutMs: number) {
    this.#stream = startStream(app, reply, 'sse', writeTimeoutMs);
  }

  get started(): boolean {
    return this.#stream.started;
  }

  send(chunk: object): void {
    this.#stream.frame(JSON.stringify(chunk));
  }

  done(): Promise<void> {
    return this.#stream.finish('[DONE]');
  }

  fail(err: InferdError): Promise<void> {
    return this.#stream.finish(JSON.stringify(openAiErrorBody(err)));
  }
}
