// POST /v1/completions (the legacy text completion API): raw text in, continuation out, no chat
// template. A prompt array gives one choice per prompt, generated one after the other.
import { Type, type Static } from 'typebox';
import { Nullable, OpenAIUsageSchema, SamplingFields } from './common-schemas.js';

const U32_MAX = 0xffffffff;
/** Prompts in one request: they run one after another on one slot, so keep the wait bounded. */
export const MAX_PROMPTS = 32;
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;

export const COMPLETION_IGNORED_FIELDS = ['user', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'logprobs (null or 0)', 'best_of (1)'] as const;

export const CompletionRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'Any name is served by the loaded model, unless `strict_model` is set' })),
    prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: MAX_PROMPTS })], {
      description: `Text, or up to ${MAX_PROMPTS} texts (one choice each). Token arrays are not supported`,
    }),
    max_tokens: Type.Optional(
      Nullable(Type.Integer({ minimum: 0, maximum: U32_MAX, description: `Default ${COMPLETION_DEFAULT_MAX_TOKENS}, as in the OpenAI API` })),
    ),
    ...SamplingFields,
    echo: Type.Optional(Nullable(Type.Boolean({ description: 'Put the prompt in front of the completion' }))),
    suffix: Type.Optional(Nullable(Type.String({ description: 'Not supported (no fill-in-the-middle); only null or empty' }))),
    best_of: Type.Optional(Nullable(Type.Integer({ description: 'Only 1' }))),
    logprobs: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: 'Only null or 0' }))),
  },
  {
    title: 'CompletionRequest',
    description: `Unknown fields are ignored, and so are these: ${COMPLETION_IGNORED_FIELDS.join(', ')}.`,
    examples: [{ model: 'inferd-demo', prompt: 'The daemon', max_tokens: 32 }],
  },
);
export type CompletionRequest = Static<typeof CompletionRequestSchema>;

const CompletionChoiceSchema = Type.Object({
  text: Type.String(),
  index: Type.Integer({ minimum: 0, description: 'The position of the prompt in the request' }),
  logprobs: Type.Null(),
  finish_reason: Type.Enum(['stop', 'length']),
});

export const CompletionSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(CompletionChoiceSchema),
    usage: OpenAIUsageSchema,
  },
  { title: 'Completion' },
);
export type Completion = Static<typeof CompletionSchema>;

export const CompletionChunkSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object({
        text: Type.String(),
        index: Type.Integer({ minimum: 0 }),
        logprobs: Type.Null(),
        finish_reason: Nullable(Type.Enum(['stop', 'length'])),
      }),
    ),
    usage: Type.Optional(Nullable(OpenAIUsageSchema)),
  },
  {
    title: 'CompletionChunk',
    description:
      'One SSE event `data: <chunk>`; each choice ends with a chunk carrying its `finish_reason`. Usage and the end of ' +
      'the stream work as for chat completions.',
  },
);
export type CompletionChunk = Static<typeof CompletionChunkSchema>;
