// POST /v1/embeddings: one vector per input, as float arrays or as base64 of little-endian
// float32 (what the official SDKs request by default and decode themselves).
import { Type, type Static } from 'typebox';
import { Nullable } from './common-schemas.js';

export const MAX_EMBEDDING_INPUTS = 2048;

export const EmbeddingRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'Any name is served by the loaded model, unless `strict_model` is set' })),
    input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: MAX_EMBEDDING_INPUTS })], {
      description: `Text, or up to ${MAX_EMBEDDING_INPUTS} texts; none may be empty. Token arrays are not supported`,
    }),
    encoding_format: Type.Optional(Nullable(Type.Enum(['float', 'base64'], { description: 'Default float' }))),
    dimensions: Type.Optional(Nullable(Type.Integer({ minimum: 1, description: "Only the model's own size" }))),
    user: Type.Optional(Type.String({ description: 'Ignored' })),
  },
  { title: 'EmbeddingRequest', examples: [{ model: 'inferd-demo', input: ['first text', 'second text'] }] },
);
export type EmbeddingRequest = Static<typeof EmbeddingRequestSchema>;

export const EmbeddingListSchema = Type.Object(
  {
    object: Type.Literal('list'),
    data: Type.Array(
      Type.Object({
        object: Type.Literal('embedding'),
        index: Type.Integer({ minimum: 0 }),
        embedding: Type.Union([Type.Array(Type.Number()), Type.String({ description: 'base64 of little-endian float32' })]),
      }),
    ),
    model: Type.String(),
    usage: Type.Object({ prompt_tokens: Type.Integer({ minimum: 0 }), total_tokens: Type.Integer({ minimum: 0 }) }),
  },
  { title: 'EmbeddingList' },
);
export type EmbeddingList = Static<typeof EmbeddingListSchema>;
