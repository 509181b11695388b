// Schemas shared by the OpenAI-compatible routes: the error object, usage, stop sequences,
// stream options and the model object. Field names and shapes follow the OpenAI API reference;
// OpenAI marks many request fields nullable, and clients do send `null` for "unset".
import { Type, type Static, type TSchema } from 'typebox';

/** `null` is accepted wherever OpenAI accepts it, and means the same as leaving the field out. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const U32_MAX = 0xffffffff;

export const OpenAIErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({ description: 'invalid_request_error, rate_limit_error, server_error, …' }),
      param: Nullable(Type.String({ description: 'The request field at fault, when there is one' })),
      code: Nullable(Type.String({ description: 'The inferd error code: invalid_request, queue_full, backend_unavailable, model_not_found, …' })),
    }),
  },
  { title: 'OpenAIError', description: 'The OpenAI error object; also sent as the last SSE event when a stream fails after it began' },
);
export type OpenAIError = Static<typeof OpenAIErrorSchema>;

export const OpenAIUsageSchema = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 }),
  prompt_tokens_details: Type.Optional(Type.Object({ cached_tokens: Type.Integer({ minimum: 0 }) })),
});
export type OpenAIUsage = Static<typeof OpenAIUsageSchema>;

export const MAX_STOP_SEQUENCES = 16;

export const StopSchema = Nullable(
  Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: MAX_STOP_SEQUENCES })], {
    description: `A stop sequence or up to ${MAX_STOP_SEQUENCES} of them; the text ends before any of them`,
  }),
);

export const StreamOptionsSchema = Nullable(
  Type.Object({
    include_usage: Type.Optional(Type.Boolean({ description: 'Send a last chunk with `usage` and no choices before `[DONE]`' })),
  }),
);

/** Sampling fields the chat and completion routes share. Unset ones take the /infer defaults. */
export const SamplingFields = {
  temperature: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 2, description: 'Default 1' }))),
  top_p: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'Default 0.95, as on /infer' }))),
  top_k: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Extension (as in llama-server and vLLM). Default 64; 0 disables' }))),
  seed: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Same seed, same request: same text' }))),
  stop: Type.Optional(StopSchema),
  n: Type.Optional(Nullable(Type.Integer({ description: 'Only 1 is supported' }))),
  stream: Type.Optional(Nullable(Type.Boolean())),
  stream_options: Type.Optional(StreamOptionsSchema),
} as const;
const SamplingSchema = Type.Object(SamplingFields);
/** The sampling fields of a chat or completion request. */
export type Sampling = Static<typeof SamplingSchema>;

export const ModelSchema = Type.Object(
  {
    id: Type.String({ description: 'The loaded model: its GGUF `general.name`, else the file name' }),
    object: Type.Literal('model'),
    created: Type.Integer({ description: 'Unix seconds: when the model file was written' }),
    owned_by: Type.String(),
  },
  { title: 'Model' },
);
export type Model = Static<typeof ModelSchema>;

export const ModelListSchema = Type.Object(
  { object: Type.Literal('list'), data: Type.Array(ModelSchema) },
  { title: 'ModelList', description: 'Always exactly one model: the one being served' },
);
export type ModelList = Static<typeof ModelListSchema>;
