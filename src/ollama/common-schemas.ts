// Schemas shared by the Ollama-compatible routes (/api/*): the error body, `options`,
// `keep_alive`, the timing fields of a finished answer and the model details. Field names and
// shapes follow Ollama's API docs and what the official `ollama` client sends and reads.
import { Type, type Static } from 'typebox';

const U32_MAX = 0xffffffff;
export const MAX_STOP_SEQUENCES = 16;

export const OllamaErrorSchema = Type.Object(
  { error: Type.String() },
  { title: 'OllamaError', description: 'Ollama\'s error body; also the last NDJSON line when a stream fails after it began' },
);
export type OllamaError = Static<typeof OllamaErrorSchema>;

/**
 * Ollama's `options`. The sampling ones map to the same engine options as on /v1 and /infer;
 * the runner ones (num_gpu, num_thread, mirostat, …) are accepted and ignored, as the daemon's
 * config decides them. Unset sampling fields take the /infer defaults.
 */
export const OptionsSchema = Type.Object(
  {
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Default 1' })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Default 0.95' })),
    top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Default 64; 0 disables' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Same seed, same request: same text' })),
    num_predict: Type.Optional(Type.Integer({ minimum: -2, maximum: U32_MAX, description: 'Most tokens to generate; -1 and -2 (the default): up to the end of the context' })),
    stop: Type.Optional(Type.Array(Type.String(), { maxItems: MAX_STOP_SEQUENCES, description: 'The text ends before any of these' })),
    num_ctx: Type.Optional(Type.Integer({ minimum: 1, description: 'Accepted up to the loaded context size (n_ctx); above it, a 400: the context is fixed when the model loads' })),
  },
  { additionalProperties: true, title: 'OllamaOptions', description: 'Other Ollama options are accepted and ignored' },
);
export type OllamaOptions = Static<typeof OptionsSchema>;

export const KeepAliveSchema = Type.Union([Type.String(), Type.Number()], {
  description: 'Accepted and ignored: inferd keeps its one model loaded while it runs (0 does not unload it)',
});

/** `json`, or a JSON schema the output must match; both are enforced with a grammar. */
export const FormatSchema = Type.Union([Type.Literal(''), Type.Literal('json'), Type.Record(Type.String(), Type.Unknown())], {
  description: '"json" or a JSON schema: the output is constrained by a grammar',
});

/** The fields of the last object of an answer (durations in nanoseconds). */
export const DoneFields = {
  done_reason: Type.Optional(Type.String({ description: 'stop, length, load' })),
  total_duration: Type.Optional(Type.Integer({ minimum: 0, description: 'ns, from the request to the answer' })),
  load_duration: Type.Optional(Type.Integer({ minimum: 0, description: 'ns from the request to its slot (the wait in the admission queue; the model is always loaded)' })),
  prompt_eval_count: Type.Optional(Type.Integer({ minimum: 0 })),
  prompt_eval_duration: Type.Optional(Type.Integer({ minimum: 0, description: 'ns, from the start of generation to the first token' })),
  eval_count: Type.Optional(Type.Integer({ minimum: 0 })),
  eval_duration: Type.Optional(Type.Integer({ minimum: 0, description: 'ns, from the first token to the end' })),
} as const;
const DoneFieldsSchema = Type.Object(DoneFields);
export type OllamaDoneFields = Static<typeof DoneFieldsSchema>;

export const ModelDetailsSchema = Type.Object(
  {
    parent_model: Type.String(),
    format: Type.String({ description: 'gguf' }),
    family: Type.String(),
    families: Type.Array(Type.String()),
    parameter_size: Type.String(),
    quantization_level: Type.String(),
  },
  { title: 'OllamaModelDetails' },
);
export type OllamaModelDetails = Static<typeof ModelDetailsSchema>;
