// The model routes of the Ollama-compatible API: embed (and the legacy embeddings), tags, ps,
// show, version, pull and delete.
import { Type, type Static } from 'typebox';
import { KeepAliveSchema, ModelDetailsSchema, OptionsSchema } from './common-schemas.js';

export const MAX_EMBED_INPUTS = 2048;
const model = Type.String({ description: 'Any name is served by the loaded model, unless `strict_model` is set' });

export const OllamaEmbedRequestSchema = Type.Object(
  {
    model,
    input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: MAX_EMBED_INPUTS })], { description: 'None may be empty' }),
    truncate: Type.Optional(Type.Boolean({ description: 'Ignored: an input longer than the context is a 400' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, description: "Only the model's own size" })),
    options: Type.Optional(OptionsSchema),
    keep_alive: Type.Optional(KeepAliveSchema),
  },
  { title: 'OllamaEmbedRequest', examples: [{ model: 'inferd-demo', input: ['first text', 'second text'] }] },
);
export type OllamaEmbedRequest = Static<typeof OllamaEmbedRequestSchema>;

export const OllamaEmbedResponseSchema = Type.Object(
  {
    model: Type.String(),
    embeddings: Type.Array(Type.Array(Type.Number()), { description: 'One L2-normalised vector per input, in order' }),
    total_duration: Type.Integer({ minimum: 0 }),
    load_duration: Type.Integer({ minimum: 0 }),
    prompt_eval_count: Type.Integer({ minimum: 0 }),
  },
  { title: 'OllamaEmbedResponse' },
);

export const OllamaEmbeddingsRequestSchema = Type.Object(
  { model, prompt: Type.String({ minLength: 1 }), options: Type.Optional(OptionsSchema), keep_alive: Type.Optional(KeepAliveSchema) },
  { title: 'OllamaEmbeddingsRequest' },
);
export const OllamaEmbeddingsResponseSchema = Type.Object(
  { embedding: Type.Array(Type.Number(), { description: 'The vector as the model gives it (not normalised, as Ollama\'s legacy route)' }) },
  { title: 'OllamaEmbeddingsResponse' },
);

export const OllamaModelSchema = Type.Object(
  {
    name: Type.String(),
    model: Type.String(),
    modified_at: Type.String({ description: 'RFC 3339' }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    digest: Type.String({ description: 'SHA-256 hex of the GGUF file; empty for a model outside the store' }),
    details: ModelDetailsSchema,
  },
  { title: 'OllamaModel' },
);
export type OllamaModel = Static<typeof OllamaModelSchema>;

export const OllamaTagsSchema = Type.Object({ models: Type.Array(OllamaModelSchema) }, { title: 'OllamaTags' });

export const OllamaRunningModelSchema = Type.Object(
  {
    ...OllamaModelSchema.properties,
    expires_at: Type.String({ description: 'Far in the future: the model stays loaded while the daemon runs' }),
    size_vram: Type.Integer({ minimum: 0 }),
    context_length: Type.Integer({ minimum: 1 }),
  },
  { title: 'OllamaRunningModel' },
);
export type OllamaRunningModel = Static<typeof OllamaRunningModelSchema>;
export const OllamaPsSchema = Type.Object({ models: Type.Array(OllamaRunningModelSchema) }, { title: 'OllamaPs' });

export const OllamaShowRequestSchema = Type.Object(
  { model: Type.Optional(Type.String()), name: Type.Optional(Type.String({ description: 'Older name of `model`' })), verbose: Type.Optional(Type.Boolean()) },
  { title: 'OllamaShowRequest' },
);
export const OllamaShowResponseSchema = Type.Object(
  {
    license: Type.String(),
    modelfile: Type.String(),
    parameters: Type.String(),
    template: Type.String({ description: 'The name of the chat template node-llama-cpp uses' }),
    details: ModelDetailsSchema,
    model_info: Type.Record(Type.String(), Type.Unknown()),
    capabilities: Type.Array(Type.String(), { description: 'completion, embedding, tools (when the chat template can call functions)' }),
    modified_at: Type.String(),
  },
  { title: 'OllamaShowResponse' },
);
export type OllamaShowResponse = Static<typeof OllamaShowResponseSchema>;

export const OllamaVersionSchema = Type.Object({ version: Type.String({ description: 'The inferd version' }) }, { title: 'OllamaVersion' });

export const OllamaPullRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'An https: URL of a GGUF file, a store entry (verified, fetched again if bad) or the configured model' })),
    name: Type.Optional(Type.String({ description: 'With a URL in `model`: the store name (default: from the file name). Alone: the older name of `model`' })),
    sha256: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'Digest of a URL download; may also be given as `#sha256=<hex>` on the URL. Without it the digest of what arrives is computed, the file must pass the GGUF check, and the store entry records that digest',
      }),
    ),
    stream: Type.Optional(Type.Boolean({ description: 'Default true: NDJSON progress' })),
    insecure: Type.Optional(Type.Boolean({ description: 'Ignored: downloads are HTTPS with certificate checks' })),
  },
  { title: 'OllamaPullRequest' },
);
export type OllamaPullRequest = Static<typeof OllamaPullRequestSchema>;

export const OllamaProgressSchema = Type.Object(
  {
    status: Type.String({ description: 'pulling manifest, pulling <digest>, verifying sha256 digest, success, …' }),
    digest: Type.Optional(Type.String()),
    total: Type.Optional(Type.Integer({ minimum: 0 })),
    completed: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { title: 'OllamaProgress' },
);
export type OllamaProgress = Static<typeof OllamaProgressSchema>;

export const OllamaDeleteRequestSchema = Type.Object(
  { model: Type.Optional(Type.String()), name: Type.Optional(Type.String({ description: 'Older name of `model`' })) },
  { title: 'OllamaDeleteRequest' },
);
