// The error responses every OpenAI-compatible route documents, for the route schemas (the body
// is always the OpenAI error object; src/http/error-handler.ts sends it).
import { Type } from 'typebox';

const errorContent = { 'application/json': { schema: Type.Ref('OpenAIError') } };

export const OPENAI_ERROR_RESPONSES = {
  '4xx': {
    description: '400 invalid_request, 404 model_not_found (with `strict_model`), 413 body too large, 429 queue_full (with Retry-After)',
    content: errorContent,
  },
  '5xx': { description: '503 backend_unavailable (with Retry-After while loading), 500 internal', content: errorContent },
} as const;
