// POST /api/chat and POST /api/generate: requests and the objects of their answers, after
// Ollama's API docs. Unknown fields are accepted and ignored.
import { Type, type Static } from 'typebox';
import { DoneFields, FormatSchema, KeepAliveSchema, OptionsSchema } from './common-schemas.js';

export const MAX_TOOLS = 128;

export const OllamaToolCallSchema = Type.Object({
  function: Type.Object({
    name: Type.String(),
    arguments: Type.Record(Type.String(), Type.Unknown(), { description: 'The arguments, as a JSON object' }),
  }),
});
export type OllamaToolCall = Static<typeof OllamaToolCallSchema>;

export const OllamaMessageSchema = Type.Object(
  {
    role: Type.Enum(['system', 'user', 'assistant', 'tool']),
    content: Type.Optional(Type.String()),
    images: Type.Optional(Type.Array(Type.String(), { description: 'Refused when not empty: the models inferd serves read text only' })),
    tool_calls: Type.Optional(Type.Array(OllamaToolCallSchema)),
    tool_name: Type.Optional(Type.String()),
    thinking: Type.Optional(Type.String({ description: 'Ignored' })),
  },
  { title: 'OllamaMessage' },
);
export type OllamaMessage = Static<typeof OllamaMessageSchema>;

export const OllamaToolSchema = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON schema of the arguments' })),
  }),
});

const model = Type.String({ description: 'Any name is served by the loaded model, unless `strict_model` is set' });
const stream = Type.Optional(Type.Boolean({ description: 'Default true: NDJSON; false: one JSON object' }));
const IGNORED = 'Ignored: think, logprobs, top_logprobs, truncate, shift, and options that configure the runner.';

export const OllamaChatRequestSchema = Type.Object(
  {
    model,
    messages: Type.Optional(Type.Array(OllamaMessageSchema, { description: 'Empty or absent: an answer with done_reason `load` (the model is loaded)' })),
    tools: Type.Optional(Type.Array(OllamaToolSchema, { maxItems: MAX_TOOLS })),
    format: Type.Optional(FormatSchema),
    options: Type.Optional(OptionsSchema),
    stream,
    keep_alive: Type.Optional(KeepAliveSchema),
  },
  { title: 'OllamaChatRequest', description: IGNORED, examples: [{ model: 'inferd-demo', messages: [{ role: 'user', content: 'Hello' }] }] },
);
export type OllamaChatRequest = Static<typeof OllamaChatRequestSchema>;

export const OllamaGenerateRequestSchema = Type.Object(
  {
    model,
    prompt: Type.Optional(Type.String({ description: 'Empty or absent: an answer with done_reason `load`' })),
    system: Type.Optional(Type.String({ description: 'A system message before the prompt' })),
    raw: Type.Optional(Type.Boolean({ description: 'true: the prompt is sent as is, without the chat template' })),
    suffix: Type.Optional(Type.String({ description: 'Refused when not empty: no fill-in-the-middle' })),
    images: Type.Optional(Type.Array(Type.String(), { description: 'Refused when not empty' })),
    context: Type.Optional(Type.Array(Type.Integer(), { description: 'Refused when not empty: send the conversation with /api/chat instead' })),
    template: Type.Optional(Type.String({ description: 'Refused when not empty: the model\'s own chat template is used' })),
    format: Type.Optional(FormatSchema),
    options: Type.Optional(OptionsSchema),
    stream,
    keep_alive: Type.Optional(KeepAliveSchema),
  },
  { title: 'OllamaGenerateRequest', description: IGNORED, examples: [{ model: 'inferd-demo', prompt: 'Why is the sky blue?' }] },
);
export type OllamaGenerateRequest = Static<typeof OllamaGenerateRequestSchema>;

const AnswerMessageSchema = Type.Object({
  role: Type.Literal('assistant'),
  content: Type.String(),
  tool_calls: Type.Optional(Type.Array(OllamaToolCallSchema)),
});

export const OllamaChatResponseSchema = Type.Object(
  { model: Type.String(), created_at: Type.String({ description: 'RFC 3339' }), message: AnswerMessageSchema, done: Type.Boolean(), ...DoneFields },
  { title: 'OllamaChatResponse', description: 'One NDJSON line of a streamed answer, or the whole answer; the last has done:true and the counts' },
);
export type OllamaChatResponse = Static<typeof OllamaChatResponseSchema>;

export const OllamaGenerateResponseSchema = Type.Object(
  { model: Type.String(), created_at: Type.String({ description: 'RFC 3339' }), response: Type.String(), done: Type.Boolean(), ...DoneFields },
  { title: 'OllamaGenerateResponse', description: 'One NDJSON line of a streamed answer, or the whole answer; the last has done:true and the counts' },
);
export type OllamaGenerateResponse = Static<typeof OllamaGenerateResponseSchema>;
