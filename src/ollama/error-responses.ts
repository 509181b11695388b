// The error responses every Ollama-compatible route documents, for the route schemas (the body
// is always {"error": "…"}; src/http/error-handler.ts sends it).
import { Type } from 'typebox';

const errorContent = { 'application/json': { schema: Type.Ref('OllamaError') } };

export const OLLAMA_ERROR_RESPONSES = {
  '4xx': {
    description: '400 invalid request, 403 wrong scope, 404 model not found, 409 model in use, 413 body too large, 429 queue full (with Retry-After)',
    content: errorContent,
  },
  '5xx': { description: '503 not ready or download failed (with Retry-After), 500 internal', content: errorContent },
} as const;
