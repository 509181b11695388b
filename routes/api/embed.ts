// POST /api/embed and the legacy POST /api/embeddings: vectors from the loaded model, through the
// same admission gate as generation (one slot is one slot). /api/embed normalises the vectors to
// unit length, as Ollama does; the legacy route returns them as the model gives them.
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toInferdError } from '../../src/errors.js';
import { clientSignal } from '../../src/http/client-signal.js';
import { badRequest } from '../../src/inference/request-error.js';
import { modelId, servedModel } from '../../src/inference/served-model.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { OllamaEmbeddingsRequestSchema, OllamaEmbedRequestSchema } from '../../src/ollama/model-schemas.js';
import type { FastifyReply } from 'fastify';

async function embed(app: FastifyInstance, reply: FastifyReply, inputs: string[], route: string) {
  const lease = await app.inferd.gate.lease(clientSignal(reply));
  const observer = app.inferd.metrics.observer(route);
  try {
    const result = await lease.engine.embed(inputs, lease.signal);
    observer.finish('ok', result.promptTokens, 0);
    return { model: modelId(lease.engine), ...result };
  } catch (err) {
    observer.finish(lease.signal.aborted ? 'cancelled' : toInferdError(err).wireCode, 0, 0);
    throw err;
  } finally {
    lease.release();
  }
}

function unitLength(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm > 0 ? vector.map((x) => x / norm) : vector;
}

const ollamaEmbedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/embed',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'Embed texts (Ollama-compatible)',
        body: OllamaEmbedRequestSchema,
        response: { 200: { description: 'One vector per input', content: { 'application/json': { schema: Type.Ref('OllamaEmbedResponse') } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const started = process.hrtime.bigint();
      const engine = app.inferd.gate.readyEngine();
      const body = request.body;
      servedModel(engine, body.model, app.inferd.config.strict_model);
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      const empty = inputs.findIndex((input) => input === '');
      if (empty >= 0) throw badRequest('input must not be empty', typeof body.input === 'string' ? 'input' : `input.${empty}`);
      if (body.dimensions !== undefined && body.dimensions !== engine.info.embeddingSize) {
        throw badRequest(`dimensions must be ${engine.info.embeddingSize}: the loaded model's embeddings cannot be shortened`, 'dimensions');
      }
      const result = await embed(app, reply, inputs, 'ollama_embed');
      return {
        model: result.model,
        embeddings: result.vectors.map(unitLength),
        total_duration: Number(process.hrtime.bigint() - started),
        load_duration: 0,
        prompt_eval_count: result.promptTokens,
      };
    },
  );

  app.post(
    '/api/embeddings',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'Embed one text (Ollama-compatible, legacy)',
        body: OllamaEmbeddingsRequestSchema,
        response: { 200: { description: 'The vector', content: { 'application/json': { schema: Type.Ref('OllamaEmbeddingsResponse') } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      servedModel(app.inferd.gate.readyEngine(), request.body.model, app.inferd.config.strict_model);
      const result = await embed(app, reply, [request.body.prompt], 'ollama_embed');
      return { embedding: result.vectors[0] ?? [] };
    },
  );
};

export default ollamaEmbedRoutes;
