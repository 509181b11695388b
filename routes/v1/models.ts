// GET /v1/models and GET /v1/models/{id}: the one model being served. While it is loading the
// answer is 503 (its name comes from the file). Any id is answered with the loaded model, as
// any `model` in a request is, unless `strict_model` is set.
import { stat } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Engine } from '../../src/engine/engine.js';
import type { Model } from '../../src/openai/common-schemas.js';
import { OPENAI_ERROR_RESPONSES } from '../../src/openai/error-responses.js';
import { modelId, servedModel } from '../../src/inference/served-model.js';

async function modelObject(engine: Engine): Promise<Model> {
  const written = await stat(engine.info.modelPath).then((s) => Math.floor(s.mtimeMs / 1000), () => 0);
  return { id: modelId(engine), object: 'model', created: written, owned_by: 'inferd' };
}

const modelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/models',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['openai'],
        summary: 'List models (OpenAI-compatible): the loaded model',
        response: { 200: { description: 'The model list', content: { 'application/json': { schema: Type.Ref('ModelList') } } }, ...OPENAI_ERROR_RESPONSES },
      },
    },
    async () => ({ object: 'list' as const, data: [await modelObject(app.inferd.gate.readyEngine())] }),
  );

  app.get(
    '/v1/models/:id',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['openai'],
        summary: 'Retrieve a model (OpenAI-compatible)',
        params: Type.Object({ id: Type.String() }),
        response: { 200: { description: 'The model', content: { 'application/json': { schema: Type.Ref('Model') } } }, ...OPENAI_ERROR_RESPONSES },
      },
    },
    async (request) => {
      const engine = app.inferd.gate.readyEngine();
      servedModel(engine, request.params.id, app.inferd.config.strict_model);
      return modelObject(engine);
    },
  );
};

export default modelsRoutes;
