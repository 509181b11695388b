// POST /v1/embeddings: one vector per input from the loaded model, through the same admission
// gate as generation (one slot is one slot), as floats or base64 float32.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toInferdError } from '../../src/errors.js';
import { clientSignal } from '../../src/http/client-signal.js';
import { embeddingInputs, embeddingList } from '../../src/openai/embedding-response.js';
import { EmbeddingRequestSchema } from '../../src/openai/embedding-schemas.js';
import { OPENAI_ERROR_RESPONSES } from '../../src/openai/error-responses.js';
import { modelId, servedModel } from '../../src/inference/served-model.js';

const embeddingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/embeddings',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['openai'],
        summary: 'Create embeddings (OpenAI-compatible)',
        body: EmbeddingRequestSchema,
        response: { 200: { description: 'One embedding per input, in order', content: { 'application/json': { schema: Type.Ref('EmbeddingList') } } }, ...OPENAI_ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { gate, config, metrics } = app.inferd;
      const engine = gate.readyEngine();
      servedModel(engine, request.body.model, config.strict_model);
      const inputs = embeddingInputs(request.body, engine);
      const lease = await gate.lease(clientSignal(reply));
      const observer = metrics.observer('embeddings');
      try {
        const result = await lease.engine.embed(inputs, lease.signal);
        observer.finish('ok', result.promptTokens, 0);
        return embeddingList(result.vectors, request.body.encoding_format ?? 'float', modelId(lease.engine), result.promptTokens);
      } catch (err) {
        observer.finish(lease.signal.aborted ? 'cancelled' : toInferdError(err).wireCode, 0, 0);
        throw err;
      } finally {
        lease.release();
      }
    },
  );
};

export default embeddingsRoutes;
