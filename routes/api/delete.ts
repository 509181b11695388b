// DELETE /api/delete (Ollama-compatible, admin scope): removes a store entry (its manifest, and
// its blob when no other name uses it). The loaded model is refused with 409: Ollama would
// delete it and keep serving the copy in memory, but inferd must be able to load its one model
// again (a reload, a restart), so it keeps the file until another model is loaded.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { InferdError } from '../../src/errors.js';
import { badRequest } from '../../src/inference/request-error.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { loadedEntry } from '../../src/ollama/model-info.js';
import { OllamaDeleteRequestSchema } from '../../src/ollama/model-schemas.js';
import { ModelStore } from '../../src/store/index.js';

const ollamaDeleteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.delete(
    '/api/delete',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['ollama'],
        summary: 'Delete a store entry (Ollama-compatible)',
        description: '404 when there is no such entry; 409 when it is the loaded model (Ollama would delete it anyway); 503 while a model is loading.',
        body: OllamaDeleteRequestSchema,
        response: { 200: { description: 'Deleted', content: { 'application/json': { schema: Type.Object({}) } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async (request) => {
      const name = request.body.model ?? request.body.name;
      if (name === undefined || name === '') throw badRequest('model is required', 'model');
      // While a model loads, the one being loaded is not known here yet: refuse rather than race it.
      const engine = app.inferd.gate.readyEngine();
      const store = await ModelStore.open(app.inferd.config.models_home);
      const entry = (await store.list()).find((e) => e.name === name);
      if (!entry) throw new InferdError('model_not_found', `model "${name}" not found in the store`, { detail: { param: 'model' } });
      if ((await loadedEntry(engine, [entry])) !== undefined) {
        throw new InferdError('conflict', `model "${name}" is the loaded model; load another one (POST /admin/reload) before deleting it`, { detail: { param: 'model' } });
      }
      if (!(await store.remove(name))) throw new InferdError('model_not_found', `model "${name}" not found in the store`, { detail: { param: 'model' } });
      return {};
    },
  );
};

export default ollamaDeleteRoutes;
