// POST /v1/chat/completions: the request, the response and the stream chunk, after the OpenAI
// API reference. Unknown fields are accepted and ignored (see CHAT_IGNORED_FIELDS).
import { Type, type Static } from 'typebox';
import { Nullable, OpenAIUsageSchema, SamplingFields } from './common-schemas.js';

const U32_MAX = 0xffffffff;
export const MAX_TOOLS = 128;

/** Fields a client may send that change nothing here (documented in the route description). */
export const CHAT_IGNORED_FIELDS = [
  'user',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs (false)',
  'parallel_tool_calls',
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
  'safety_identifier',
  'reasoning_effort',
  'verbosity',
  'prediction',
  'modalities (["text"])',
] as const;

export const ContentPartSchema = Type.Object(
  {
    type: Type.String({ description: 'Only `text` parts are supported by the models inferd serves' }),
    text: Type.Optional(Type.String()),
  },
  { title: 'ContentPart' },
);

export const ToolCallSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String({ description: 'JSON text' }) }),
});
export type OpenAIToolCall = Static<typeof ToolCallSchema>;

export const ChatMessageSchema = Type.Object(
  {
    role: Type.Enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: Type.Optional(Nullable(Type.Union([Type.String(), Type.Array(ContentPartSchema)]))),
    name: Type.Optional(Type.String({ description: 'Ignored' })),
    tool_calls: Type.Optional(Nullable(Type.Array(ToolCallSchema))),
    tool_call_id: Type.Optional(Type.String()),
  },
  { title: 'ChatMessage' },
);
export type OpenAIChatMessage = Static<typeof ChatMessageSchema>;

export const ToolSchema = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON schema of the arguments' })),
    strict: Type.Optional(Nullable(Type.Boolean({ description: 'Ignored: arguments always follow the schema grammar' }))),
  }),
});
export type OpenAITool = Static<typeof ToolSchema>;

export const ToolChoiceSchema = Nullable(
  Type.Union([
    Type.Enum(['none', 'auto', 'required']),
    Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
  ]),
);

export const ResponseFormatSchema = Nullable(
  Type.Object({
    type: Type.Enum(['text', 'json_object', 'json_schema']),
    json_schema: Type.Optional(
      Type.Object({
        name: Type.String(),
        description: Type.Optional(Type.String()),
        schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        strict: Type.Optional(Nullable(Type.Boolean())),
      }),
    ),
  }),
);

export const ChatCompletionRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'Any name is served by the loaded model, unless `strict_model` is set' })),
    messages: Type.Array(ChatMessageSchema, { description: 'The conversation; must not be empty' }),
    max_completion_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: U32_MAX }))),
    max_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Older name of max_completion_tokens' }))),
    ...SamplingFields,
    response_format: Type.Optional(ResponseFormatSchema),
    tools: Type.Optional(Nullable(Type.Array(ToolSchema, { maxItems: MAX_TOOLS }))),
    tool_choice: Type.Optional(ToolChoiceSchema),
    logprobs: Type.Optional(Nullable(Type.Boolean({ description: 'Only false' }))),
    top_logprobs: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: 'Only 0' }))),
  },
  {
    title: 'ChatCompletionRequest',
    description: `Unknown fields are ignored, and so are these: ${CHAT_IGNORED_FIELDS.join(', ')}.`,
    examples: [{ model: 'inferd-demo', messages: [{ role: 'user', content: 'Hello' }] }],
  },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequestSchema>;

export const FinishReasonSchema = Type.Enum(['stop', 'length', 'tool_calls']);
export type FinishReason = Static<typeof FinishReasonSchema>;

export const ChatCompletionSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion'),
    created: Type.Integer({ description: 'Unix seconds' }),
    model: Type.String({ description: 'The model that answered' }),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer({ minimum: 0 }),
        message: Type.Object({
          role: Type.Literal('assistant'),
          content: Nullable(Type.String({ description: 'null when the reply is only tool calls' })),
          refusal: Type.Null(),
          tool_calls: Type.Optional(Type.Array(ToolCallSchema)),
        }),
        logprobs: Type.Null(),
        finish_reason: FinishReasonSchema,
      }),
    ),
    usage: OpenAIUsageSchema,
  },
  { title: 'ChatCompletion' },
);
export type ChatCompletion = Static<typeof ChatCompletionSchema>;

export const ToolCallDeltaSchema = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.Literal('function')),
  function: Type.Optional(Type.Object({ name: Type.Optional(Type.String()), arguments: Type.Optional(Type.String()) })),
});

export const ChatCompletionChunkSchema = Type.Object(
  {
    id: Type.String({ description: 'The same on every chunk of one completion' }),
    object: Type.Literal('chat.completion.chunk'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer({ minimum: 0 }),
        delta: Type.Object({
          role: Type.Optional(Type.Literal('assistant')),
          content: Type.Optional(Nullable(Type.String())),
          tool_calls: Type.Optional(Type.Array(ToolCallDeltaSchema)),
        }),
        logprobs: Type.Null(),
        finish_reason: Nullable(FinishReasonSchema),
      }),
      { description: 'Empty in the usage chunk' },
    ),
    usage: Type.Optional(Nullable(OpenAIUsageSchema)),
  },
  {
    title: 'ChatCompletionChunk',
    description:
      'One SSE event `data: <chunk>`. The first carries `delta.role`, the last choice chunk `finish_reason`; ' +
      'with `stream_options.include_usage` every chunk has `usage: null` and one more chunk with no choices carries the usage. ' +
      'The stream ends with `data: [DONE]`, or, when it fails after it began, with `data: {"error":{…}}` and no `[DONE]`.',
  },
);
export type ChatCompletionChunk = Static<typeof ChatCompletionChunkSchema>;
