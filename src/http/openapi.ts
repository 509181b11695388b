// The OpenAPI document's fixed parts. Paths come from the route schemas through
// @fastify/swagger; `npm run openapi` writes openapi.yaml and a test fails when it drifts.
import { fileURLToPath } from 'node:url';
import type { SwaggerOptions } from '@fastify/swagger';
import type { TSchema } from 'typebox';
import { ChatCompletionChunkSchema, ChatCompletionSchema } from '../openai/chat-schemas.js';
import { ModelListSchema, ModelSchema, OpenAIErrorSchema } from '../openai/common-schemas.js';
import { CompletionChunkSchema, CompletionSchema } from '../openai/completion-schemas.js';
import { LoadSnapshotSchema } from '../load/load-snapshot.js';
import { EmbeddingListSchema } from '../openai/embedding-schemas.js';
import { OllamaChatResponseSchema, OllamaGenerateResponseSchema } from '../ollama/chat-schemas.js';
import { OllamaErrorSchema } from '../ollama/common-schemas.js';
import {
  OllamaEmbeddingsResponseSchema,
  OllamaEmbedResponseSchema,
  OllamaProgressSchema,
  OllamaPsSchema,
  OllamaShowResponseSchema,
  OllamaTagsSchema,
  OllamaVersionSchema,
} from '../ollama/model-schemas.js';
import { DoneFrameSchema, ErrorFrameSchema, V1FrameSchema } from '../protocol/v1.js';
import { StatusFrameSchema } from '../status/events.js';

/** Schemas registered once and referenced by name (`Type.Ref('DoneFrame')`) from routes. */
export const SHARED_SCHEMAS: ReadonlyArray<TSchema & { $id: string }> = [
  { ...StatusFrameSchema, $id: 'StatusFrame' },
  { ...V1FrameSchema, $id: 'V1Frame' },
  { ...DoneFrameSchema, $id: 'DoneFrame' },
  { ...ErrorFrameSchema, $id: 'ErrorFrame' },
  { ...OpenAIErrorSchema, $id: 'OpenAIError' },
  { ...ChatCompletionSchema, $id: 'ChatCompletion' },
  { ...ChatCompletionChunkSchema, $id: 'ChatCompletionChunk' },
  { ...CompletionSchema, $id: 'Completion' },
  { ...CompletionChunkSchema, $id: 'CompletionChunk' },
  { ...EmbeddingListSchema, $id: 'EmbeddingList' },
  { ...ModelSchema, $id: 'Model' },
  { ...ModelListSchema, $id: 'ModelList' },
  { ...LoadSnapshotSchema, $id: 'LoadSnapshot' },
  { ...OllamaErrorSchema, $id: 'OllamaError' },
  { ...OllamaChatResponseSchema, $id: 'OllamaChatResponse' },
  { ...OllamaGenerateResponseSchema, $id: 'OllamaGenerateResponse' },
  { ...OllamaEmbedResponseSchema, $id: 'OllamaEmbedResponse' },
  { ...OllamaEmbeddingsResponseSchema, $id: 'OllamaEmbeddingsResponse' },
  { ...OllamaTagsSchema, $id: 'OllamaTags' },
  { ...OllamaPsSchema, $id: 'OllamaPs' },
  { ...OllamaShowResponseSchema, $id: 'OllamaShowResponse' },
  { ...OllamaVersionSchema, $id: 'OllamaVersion' },
  { ...OllamaProgressSchema, $id: 'OllamaProgress' },
];

export const openapiDocument: SwaggerOptions = {
  // Components keep their $id as name, so the YAML says `#/components/schemas/DoneFrame`.
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'inferd',
      version: '0.1.0',
      description:
        'Local LLM inference daemon: protocol-v1 inference as NDJSON or SSE, an OpenAI-compatible API, ' +
        'and the lifecycle status stream. Errors before a stream starts are HTTP errors whose body is ' +
        'the v1 error frame (native routes), an OpenAI error object (/v1/*) or {"error": "…"} (/api/*, Ollama-compatible).',
    },
    tags: [
      { name: 'inference', description: 'Protocol-v1 inference' },
      { name: 'admin', description: 'Lifecycle status and control' },
      { name: 'health', description: 'Liveness, readiness and metrics' },
      { name: 'openai', description: 'OpenAI-compatible API' },
      { name: 'ollama', description: 'Ollama-compatible API' },
    ],
  },
};

/** The committed spec at the package root (two levels up from src/http or dist/src/http). */
export const OPENAPI_PATH = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../openapi.yaml' : '../../openapi.yaml', import.meta.url));
