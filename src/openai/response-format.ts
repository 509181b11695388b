// response_format: `json_object` and `json_schema` read as the shared JSON output of
// src/inference/output-format.ts (a grammar on the engine, then a check of the finished text).
import { jsonOutput, type ResolvedFormat } from '../inference/output-format.js';
import { badRequest } from '../inference/request-error.js';
import type { ChatCompletionRequest } from './chat-schemas.js';

export function resolveResponseFormat(format: ChatCompletionRequest['response_format']): ResolvedFormat {
  if (!format || format.type === 'text') return {};
  if (format.type === 'json_object') return jsonOutput(undefined, 'response_format');
  const spec = format.json_schema;
  if (!spec) throw badRequest('response_format.json_schema is required when type is json_schema', 'response_format.json_schema');
  // No schema: any JSON object, as json_object.
  return jsonOutput(spec.schema, 'response_format.json_schema.schema');
}
