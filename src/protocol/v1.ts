// Protocol v1 (contract §1.2–1.4): the request, its defaults and validation, and the three
// inference frames. HTTP routes and infer.sock both use exactly these functions.
import { Type, type Static } from 'typebox';
import { InferdError } from '../errors.js';
import { describeIssues, validatorFor } from './validate.js';

export const IMAGE_TOKEN_BUDGETS = [70, 140, 280, 560, 1120] as const;
/** F-11: grammar size and alternation caps, so a grammar cannot exhaust the sampler. */
export const MAX_GRAMMAR_BYTES = 64 * 1024;
export const MAX_GRAMMAR_ALTERNATIONS = 4096;
const U32_MAX = 0xffffffff;

export const V1_DEFAULTS = {
  id: '',
  temperature: 1.0,
  top_p: 0.95,
  top_k: 64,
  max_tokens: 1000,
  stream: true,
  grammar: '',
} as const;

export const V1MessageSchema = Type.Object(
  {
    role: Type.Enum(['system', 'user', 'assistant']),
    content: Type.String(),
  },
  { title: 'V1Message' },
);

export const V1RequestSchema = Type.Object(
  {
    id: Type.String({ default: V1_DEFAULTS.id, description: 'Caller-assigned id, echoed on every frame' }),
    messages: Type.Array(V1MessageSchema, { description: 'The conversation; must not be empty' }),
    temperature: Type.Number({ default: V1_DEFAULTS.temperature, minimum: 0, maximum: 100 }),
    top_p: Type.Number({ default: V1_DEFAULTS.top_p, minimum: 0, maximum: 1 }),
    top_k: Type.Integer({ default: V1_DEFAULTS.top_k, minimum: 0, maximum: U32_MAX }),
    max_tokens: Type.Integer({ default: V1_DEFAULTS.max_tokens, minimum: 0, maximum: U32_MAX }),
    stream: Type.Boolean({ default: V1_DEFAULTS.stream, description: 'false: no token frames, one done frame' }),
    image_token_budget: Type.Optional(
      Type.Integer({ minimum: 0, maximum: U32_MAX, description: `One of ${IMAGE_TOKEN_BUDGETS.join(', ')}` }),
    ),
    grammar: Type.String({ default: V1_DEFAULTS.grammar, description: 'GBNF grammar; at most 64 KiB and 4096 `|`' }),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: U32_MAX, description: 'Additive: makes sampling reproducible' }),
    ),
  },
  {
    title: 'V1Request',
    description: 'Protocol v1 request. Unknown fields are ignored.',
    examples: [{ id: 'a', messages: [{ role: 'user', content: 'hello' }], max_tokens: 64 }],
  },
);

/** A request after decoding: every defaulted field is present. */
export type V1Request = Static<typeof V1RequestSchema>;
export type V1Message = Static<typeof V1MessageSchema>;

export const StopReasonSchema = Type.Enum(['end', 'length', 'cancelled', 'error']);
export type StopReason = Static<typeof StopReasonSchema>;

export const UsageSchema = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  /** Prompt tokens whose KV cache was reused from the slot's previous request (not evaluated again). */
  prompt_tokens_cached: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Usage = Static<typeof UsageSchema>;

export const TokenFrameSchema = Type.Object(
  { type: Type.Literal('token'), id: Type.String(), content: Type.String() },
  { title: 'TokenFrame' },
);
export const DoneFrameSchema = Type.Object(
  {
    type: Type.Literal('done'),
    id: Type.String(),
    content: Type.String({ description: 'The whole generated text: the token contents concatenated' }),
    usage: UsageSchema,
    stop_reason: StopReasonSchema,
    backend: Type.String({ description: 'Diagnostic only' }),
  },
  { title: 'DoneFrame' },
);
export const ErrorFrameSchema = Type.Object(
  {
    type: Type.Literal('error'),
    id: Type.String(),
    // The first seven are protocol v1's; the rest come only from HTTP (edge guard, reload).
    code: Type.Enum([
      'queue_full',
      'backend_unavailable',
      'invalid_request',
      'frame_too_large',
      'internal',
      'unauthorized',
      'not_found',
      'forbidden',
      'host_not_allowed',
      'origin_not_allowed',
      'rate_limited',
      'unsupported_media_type',
      'model_not_found',
      'model_invalid',
    ]),
    message: Type.String(),
  },
  { title: 'ErrorFrame' },
);
export const V1FrameSchema = Type.Union([TokenFrameSchema, DoneFrameSchema, ErrorFrameSchema], { title: 'V1Frame' });

export type TokenFrame = Static<typeof TokenFrameSchema>;
export type DoneFrame = Static<typeof DoneFrameSchema>;
export type ErrorFrame = Static<typeof ErrorFrameSchema>;
export type V1Frame = Static<typeof V1FrameSchema>;

export const BACKEND_NAME = 'llamacpp';

/**
 * Step 1 of the contract's loop: the frame's JSON must have the request's shape. Failures are
 * "decode" errors (the socket shim closes the connection after them).
 */
export function decodeV1Request(value: unknown): V1Request {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InferdError('invalid_request', 'invalid request: body must be object', { detail: { stage: 'decode' } });
  }
  const result = validatorFor(V1RequestSchema)(value);
  if (!result.ok) {
    // The same words as the HTTP validator's (error-handler classify), so transports agree.
    throw new InferdError('invalid_request', `invalid request: ${describeIssues(result.issues)}`, { detail: { stage: 'decode' } });
  }
  return result.value as V1Request;
}

/**
 * Step 2: checks that need more than the shape (contract §1.4 "resolve"). The connection stays
 * open after these.
 */
export function resolveV1Request(request: V1Request): V1Request {
  const fail = (message: string) =>
    new InferdError('invalid_request', `invalid request: ${message}`, { detail: { stage: 'resolve' } });
  if (request.messages.length === 0) throw fail('messages must not be empty');
  const budget = request.image_token_budget;
  if (budget !== undefined && !(IMAGE_TOKEN_BUDGETS as readonly number[]).includes(budget)) {
    throw fail(`image_token_budget ${budget} not in [${IMAGE_TOKEN_BUDGETS.join(', ')}]`);
  }
  if (Buffer.byteLength(request.grammar) > MAX_GRAMMAR_BYTES) {
    throw fail(`grammar is larger than ${MAX_GRAMMAR_BYTES} bytes`);
  }
  let alternations = 0;
  for (const ch of request.grammar) if (ch === '|') alternations++;
  if (alternations > MAX_GRAMMAR_ALTERNATIONS) {
    throw fail(`grammar has more than ${MAX_GRAMMAR_ALTERNATIONS} alternations`);
  }
  return request;
}

export function tokenFrame(id: string, content: string): TokenFrame {
  return { type: 'token', id, content };
}

export function doneFrame(id: string, content: string, usage: Usage, stopReason: StopReason): DoneFrame {
  return { type: 'done', id, content, usage, stop_reason: stopReason, backend: BACKEND_NAME };
}

export function errorFrame(id: string, err: InferdError): ErrorFrame {
  return { type: 'error', id, code: err.wireCode, message: err.message };
}
